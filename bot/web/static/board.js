// The dispatch board's page script: plain JavaScript, no library, no build step.
// - Inside Telegram (a Mini App) it logs in with Telegram's signed initData and uses Telegram's colours.
// - On the list it counts each limit down on the server's clock and refreshes the rows when the
//   server says (server-sent events) that something changed.
"use strict";
(function () {
  var hash = new URLSearchParams(location.hash.slice(1));

  function applyTheme(params) {
    var map = { bg_color: "--tg-bg", text_color: "--tg-fg", hint_color: "--tg-hint", link_color: "--tg-link",
      button_color: "--tg-button", button_text_color: "--tg-button-text", secondary_bg_color: "--tg-secondary-bg" };
    Object.keys(map).forEach(function (k) {
      if (params[k]) document.documentElement.style.setProperty(map[k], params[k]);
    });
    if (params.bg_color) {
      var c = params.bg_color.replace("#", ""), n = parseInt(c.length === 3 ? c.replace(/./g, "$&$&") : c, 16);
      var light = ((n >> 16) & 255) * 0.299 + ((n >> 8) & 255) * 0.587 + (n & 255) * 0.114 > 140;
      document.documentElement.dataset.theme = light ? "light" : "dark";
    }
  }

  try {
    var theme = hash.get("tgWebAppThemeParams");
    if (theme) sessionStorage.setItem("tgTheme", theme);
    theme = theme || sessionStorage.getItem("tgTheme");
    if (theme) applyTheme(JSON.parse(theme));
  } catch (e) { /* no theme: the system's scheme applies */ }

  function welcome(p) {
    var initData = hash.get("tgWebAppData");
    if (!initData) return;
    p.textContent = p.dataset.signingIn;
    var body = new URLSearchParams();
    body.set("init_data", initData);
    fetch("/board/webapp", { method: "POST", body: body, credentials: "same-origin" }).then(function (r) {
      if (r.ok) { location.replace("/board/"); return; }
      p.textContent = r.status === 403 ? p.dataset.refusedStaff : p.dataset.refusedLogin;
      p.className = "refused";
      p.setAttribute("role", "alert");
    });
  }

  var offset = 0;   // server time minus this browser's time: the countdown runs on the server's clock
  var words = null, when = null;

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function two(n) { return n < 10 ? "0" + n : "" + n; }

  // A limit's time in the company's time zone, in the page's language's format.
  function dateText(seconds) {
    var parts = {};
    when.formatToParts(new Date(seconds * 1000)).forEach(function (p) { parts[p.type] = p.value; });
    return words.date.replace("{M}", +parts.month).replace("{D}", +parts.day)
      .replace("{h}", parts.hour === "24" ? "00" : parts.hour).replace("{m}", parts.minute);
  }

  function draw(data) {
    offset = data.now - Date.now();
    var names = data.names;
    when = new Intl.DateTimeFormat("en-GB", { timeZone: names.tz, month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    var html = [];
    data.rows.forEach(function (r) {
      // [number, category, level, state, centre, place, address, holder, limit, due, flags]
      var number = ("000" + r[0]).slice(-4), badges = "";
      words.badges.forEach(function (label, bit) {
        if (r[10] & (1 << bit)) badges += ' <span class="badge' + (bit === 3 ? " badge-pending" : "") + '">' + esc(label) + "</span>";
      });
      html.push('<tr class="mood-ok" data-number="' + number + '" data-status="' + esc(r[3]) + '">' +
        '<td class="c-number"><a href="/board/t/' + number + '">' + number + "</a></td>" +
        '<td class="c-category">' + esc(names.categories[r[1]] || r[1]) + "</td>" +
        '<td class="c-level"><span class="level-' + esc(r[2]) + '">' + esc(words.levels[r[2]] || r[2]) + "</span></td>" +
        '<td class="c-place">' + esc((names.places[r[5]] || r[5]) + " " + r[6]) + "</td>" +
        '<td class="c-centre">' + esc(r[4] ? names.centres[r[4]] || r[4] : words.dispatch) + "</td>" +
        '<td class="c-state">' + esc(words.states[r[3]] || r[3]) + badges + "</td>" +
        '<td class="c-holder">' + esc(r[7]) + "</td>" +
        '<td class="c-next">' + (r[9] ? esc((names.limits[r[8]] || r[8]) + " " + dateText(r[9])) : "") + "</td>" +
        '<td class="c-left"' + (r[9] ? ' data-due="' + r[9] + '"' : "") + "></td></tr>");
    });
    if (!html.length) html.push('<tr class="empty"><td colspan="9">' + esc(words.none) + "</td></tr>");
    document.getElementById("rows").innerHTML = html.join("");
    document.getElementById("shown").textContent =
      words.shown.replace("{shown}", data.rows.length).replace("{total}", data.total);
    tick();
  }

  function tick() {
    var now = (Date.now() + offset) / 1000, late = words.late;
    var cells = document.querySelectorAll("#rows td[data-due]");
    for (var i = 0; i < cells.length; i++) {
      var td = cells[i], left = Math.round(+td.dataset.due - now), a = Math.abs(left);
      var text = Math.floor(a / 3600) + ":" + two(Math.floor(a / 60) % 60) + ":" + two(a % 60);
      td.textContent = left <= 0 ? late + " " + text : text;
      var row = td.parentNode, mood = left <= 0 ? "mood-late" : left <= 1800 ? "mood-soon" : "mood-ok";
      if (row.className !== mood) row.className = mood;
    }
  }

  var fetching = false, again = false;

  // One fetch at a time: changes that come while one is on its way are fetched once, after it.
  function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    var query = document.getElementById("board").dataset.query;
    fetch("/board/rows.json" + (query ? "?" + query : ""), { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401 || r.status === 403) { location.reload(); return null; }
      return r.ok ? r.json() : null;
    }).then(function (data) { if (data) draw(data); }).catch(function () { /* the next event retries */ })
      .then(function () {
        fetching = false;
        if (again) { again = false; refresh(); }
      });
  }

  function live() {
    words = JSON.parse(document.getElementById("board-words").textContent);
    draw(JSON.parse(document.getElementById("board-data").textContent));
    setInterval(tick, 1000);
    var badge = document.getElementById("live");
    var source = new EventSource("/board/events");
    source.addEventListener("change", function () { refresh(); });
    source.onopen = function () {
      badge.textContent = badge.dataset.live;
      badge.classList.remove("offline");
      refresh();  // what changed between drawing the page (or losing the stream) and listening
    };
    source.onerror = function () {
      badge.textContent = badge.dataset.offline;
      badge.classList.add("offline");
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var p = document.getElementById("welcome");
    if (p) welcome(p);
    var table = document.getElementById("board");
    if (table) live();
  });
})();
