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

  var offset = 0;  // server time minus this browser's time

  function two(n) { return n < 10 ? "0" + n : "" + n; }

  function tick() {
    var table = document.getElementById("board");
    if (!table) return;
    var now = Date.now() + offset, late = table.dataset.late;
    table.querySelectorAll("td[data-due]").forEach(function (td) {
      var left = Math.round((Date.parse(td.dataset.due) - now) / 1000), a = Math.abs(left);
      var text = Math.floor(a / 3600) + ":" + two(Math.floor(a / 60) % 60) + ":" + two(a % 60);
      td.textContent = left <= 0 ? late + " " + text : text;
      var row = td.parentNode;
      var mood = left <= 0 ? "mood-late" : left <= 1800 ? "mood-soon" : "mood-ok";
      if (!row.classList.contains(mood)) {
        row.classList.remove("mood-late", "mood-soon", "mood-ok");
        row.classList.add(mood);
      }
    });
  }

  function adopt(tbody) {
    offset = Date.parse(tbody.dataset.now) - Date.now();
    var shown = document.getElementById("shown");
    if (shown) shown.textContent = tbody.dataset.shown;
    tick();
  }

  function refresh() {
    var table = document.getElementById("board");
    var query = table.dataset.query;
    return fetch("/board/rows" + (query ? "?" + query : ""), { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401 || r.status === 403) { location.reload(); return null; }
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) return;
      var holder = document.createElement("table");
      holder.innerHTML = html;
      var fresh = holder.querySelector("tbody");
      var old = document.getElementById("rows");
      if (fresh && old) { old.replaceWith(fresh); adopt(fresh); }
    });
  }

  function live(table) {
    adopt(document.getElementById("rows"));
    setInterval(tick, 1000);
    var badge = document.getElementById("live"), lost = false;
    var source = new EventSource("/board/events");
    source.addEventListener("change", function () { refresh(); });
    source.onopen = function () {
      badge.textContent = badge.dataset.live;
      badge.classList.remove("offline");
      if (lost) { lost = false; refresh(); }  // what changed while we were away
    };
    source.onerror = function () {
      lost = true;
      badge.textContent = badge.dataset.offline;
      badge.classList.add("offline");
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var p = document.getElementById("welcome");
    if (p) welcome(p);
    var table = document.getElementById("board");
    if (table) live(table);
  });
})();
