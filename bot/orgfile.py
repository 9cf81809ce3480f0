"""The organisation file: group chats, service centres, communities and staff.

The operator edits this file by hand, so :func:`check_org` reports every problem at once and
names the line of each. ``tomllib`` gives no positions, so a small scanner (bot/tomllines.py)
walks the raw text and records the line of every table header and key; a problem found in the
parsed data is then placed on the line of the key at fault, or of its table's header when the
key is missing.

Who is who (Art. 9-12): dispatch is the single coordinator; the service network is the repair
centres, the network station, the metering centre and the automation centre; each centre
registers its hotline staff (names and contacts) with dispatch (Art. 12).
"""
from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import callbacks
from bot.rosterfile import check_roster
from bot.tomllines import KeyPath, LineIndex
from rules.org import ApiChannel, Centre, Community, Staff
from rules.policy import CentreKind, Source
from rules.roles import ROLES, needs_centre
from rules.roster import Roster

__all__ = [
    "CENTRE_KINDS",
    "ROLES",
    "Org",
    "OrgIssue",
    "OrgFileError",
    "check_org",
    "load_org",
]

CENTRE_KINDS = tuple(str(k) for k in CentreKind)   # Art. 9-10
_KINDS_TEXT = ", ".join(CENTRE_KINDS)
_PHONE_RE = re.compile(r"^\+?[0-9]{7,15}$")

_TOP_KEYS = {"dispatch_chat_id", "customer_service_chat_id", "leadership_chat_id", "centres", "communities", "staff",
             "api_channels", "shifts"}
_CENTRE_KEYS = {"id", "name_zh", "name_en", "kind", "chat_id", "hotline"}
_COMMUNITY_KEYS = {"id", "name_zh", "name_en", "aliases", "centres", "households"}
_STAFF_KEYS = {"user_id", "name", "phone", "centre", "role", "valid_from", "valid_to"}
_CHANNEL_KEYS = {"id", "name", "source", "key_sha256", "revoked"}
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_CHANNEL_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class OrgIssue:
    line: int | None
    message: str
    # A warning does not stop the file from loading (e.g. no dispatcher yet, an unknown key).
    warning: bool = False

    def __str__(self) -> str:
        text = f"warning: {self.message}" if self.warning else self.message
        return f"line {self.line}: {text}" if self.line is not None else text


@dataclass(frozen=True)
class Org:
    dispatch_chat_id: int
    customer_service_chat_id: int | None
    leadership_chat_id: int | None
    centres: tuple[Centre, ...]
    communities: tuple[Community, ...]
    staff: tuple[Staff, ...]
    warnings: tuple[OrgIssue, ...] = field(default=(), compare=False)
    api_channels: tuple[ApiChannel, ...] = ()
    roster: Roster = Roster()               # [[shifts]]: bot/rosterfile.py


class OrgFileError(Exception):
    """The organisation file cannot be used; ``issues`` lists every problem with its line."""

    def __init__(self, path: Path | str, issues: list[OrgIssue]) -> None:
        self.path = Path(path)
        self.issues = issues
        listed = "\n".join(f"  {self.path}: {issue}" for issue in issues)
        count = f"{len(issues)} problem{'s' if len(issues) != 1 else ''}"
        super().__init__(f"{self.path}: {count}\n{listed}")


class _Checker:
    def __init__(self, text: str) -> None:
        self.index = LineIndex(text)
        self.issues: list[OrgIssue] = []

    def line_of(self, path: KeyPath, key: str) -> int | None:
        return self.index.line(path + (key,))

    def add(self, path: KeyPath, message: str, *, warning: bool = False) -> None:
        self.issues.append(OrgIssue(self.index.line(path), message, warning))

    def value(
        self, table: dict[str, Any], path: KeyPath, key: str, kind: type, who: str, *, required: bool = True
    ) -> Any:
        """``table[key]`` if present and of ``kind``; otherwise record the problem and return None."""
        if key not in table:
            if required:
                self.add(path, f"{who}: missing required key '{key}'")
            return None
        value = table[key]
        # bool is an int in Python, but `chat_id = true` is not a chat id.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.add(path + (key,), f"{who}: '{key}' must be {_KIND_NAMES[kind]}, got {_describe(value)}")
            return None
        if kind is str and not value.strip():
            self.add(path + (key,), f"{who}: '{key}' must not be empty")
            return None
        return value

    def group_chat(
        self, table: dict[str, Any], path: KeyPath, key: str, who: str, *, required: bool = True
    ) -> int | None:
        chat_id = self.value(table, path, key, int, who, required=required)
        if chat_id is not None and chat_id >= 0:
            self.add(path + (key,), f"{who}: '{key}' must be a negative integer (a group chat id), got {chat_id}")
            return None
        return chat_id

    def unknown_keys(self, table: dict[str, Any], path: KeyPath, allowed: set[str], who: str) -> None:
        # Probably a typo; the value it was meant to set is then missing or defaulted.
        for key in table:
            if key not in allowed:
                self.add(path + (key,), f"{who}: unknown key '{key}' (ignored)", warning=True)

    def array(self, data: dict[str, Any], key: str, *, required: bool) -> list[tuple[KeyPath, dict[str, Any]]]:
        if key not in data:
            if required:
                self.add((), f"missing required key '{key}' (add at least one [[{key}]] table)")
            return []
        items = data[key]
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            self.add((key,), f"'{key}' must be an array of [[{key}]] tables, got {_describe(items)}")
            return []
        return [((key, i), item) for i, item in enumerate(items)]


_KIND_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "a table"}


def _describe(value: Any) -> str:
    kind = {str: "string", bool: "boolean", int: "integer", float: "number", list: "list", dict: "table"}
    return f"{kind.get(type(value), type(value).__name__)} {value!r}"


def check_org(text: str) -> tuple[Org | None, list[OrgIssue]]:
    """Check an organisation file's text; the Org is ``None`` when any issue is an error.

    Every problem is reported, in line order, each with its line (``None`` only for a problem
    of the file as a whole, such as no dispatcher).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        return None, [OrgIssue(int(match.group(1)) if match else None, f"TOML syntax error: {exc}")]

    check = _Checker(text)
    check.unknown_keys(data, (), _TOP_KEYS, "top level")
    dispatch_chat = check.group_chat(data, (), "dispatch_chat_id", "top level")
    service_chat = check.group_chat(data, (), "customer_service_chat_id", "top level", required=False)
    leadership_chat = check.group_chat(data, (), "leadership_chat_id", "top level", required=False)

    centres = _check_centres(check, data)
    known_centres = _declared_centres(data)
    communities = _check_communities(check, data, known_centres)
    staff = _check_staff(check, data, known_centres)
    channels = _check_channels(check, data)
    roster = check_roster(check, data, known_centres)
    _shared_chats(check, data)

    # Counted from the raw tables: a dispatcher entry with a typo is its own error, not "no dispatcher".
    raw_staff = data.get("staff") if isinstance(data.get("staff"), list) else []
    if not any(isinstance(t, dict) and t.get("role") == "dispatcher" for t in raw_staff):
        check.add((), "no staff with role 'dispatcher': nobody can take tickets over (Art. 5, Art. 9)", warning=True)

    issues = sorted(check.issues, key=lambda issue: (issue.line is None, issue.line or 0))
    if any(not issue.warning for issue in issues) or dispatch_chat is None:
        return None, issues
    org = Org(
        dispatch_chat_id=dispatch_chat,
        customer_service_chat_id=service_chat,
        leadership_chat_id=leadership_chat,
        centres=tuple(centres),
        communities=tuple(communities),
        staff=tuple(staff),
        warnings=tuple(issues),
        api_channels=tuple(channels),
        roster=roster,
    )
    return org, issues


def _check_centres(check: _Checker, data: dict[str, Any]) -> list[Centre]:
    centres: list[Centre] = []
    seen_ids: dict[str, KeyPath] = {}
    seen_chats: dict[int, str] = {}
    for path, table in check.array(data, "centres", required=True):
        who = f"centre '{table['id']}'" if isinstance(table.get("id"), str) else f"centre #{path[1] + 1}"
        check.unknown_keys(table, path, _CENTRE_KEYS, who)
        centre_id = check.value(table, path, "id", str, who)
        name_zh = check.value(table, path, "name_zh", str, who)
        name_en = check.value(table, path, "name_en", str, who)
        kind = check.value(table, path, "kind", str, who)
        chat_id = check.group_chat(table, path, "chat_id", who)
        hotline = check.value(table, path, "hotline", str, who, required=False)
        ok = None not in (centre_id, name_zh, name_en, kind, chat_id)
        if kind is not None and kind not in CENTRE_KINDS:
            check.add(path + ("kind",), f"{who}: unknown centre kind '{kind}' (expected one of: {_KINDS_TEXT})")
            ok = False
        if centre_id is not None:
            if centre_id in seen_ids:
                first = check.line_of(seen_ids[centre_id], "id")
                check.add(path + ("id",), f"duplicate centre id '{centre_id}' (first at line {first})")
                ok = False
            else:
                seen_ids[centre_id] = path
            ok = _fits_buttons(check, path, who, centre_id, callbacks.centre_buttons) and ok
        if chat_id is not None:
            # One group per centre: a shared group could not tell whose task a reply answers.
            if chat_id in seen_chats:
                owner = seen_chats[chat_id]
                check.add(path + ("chat_id",), f"{who}: chat_id {chat_id} is already the group of centre '{owner}'")
                ok = False
            else:
                seen_chats[chat_id] = centre_id or who
        if ok:
            centres.append(Centre(centre_id, name_zh, name_en, kind, chat_id, hotline.strip() if hotline else None))
    return centres


_RESERVED_COMMUNITY_IDS = (callbacks.INTAKE_NONE, callbacks.WIZARD_DONE)


def _fits_buttons(check: _Checker, path: KeyPath, who: str, ident: str, buttons: Callable[[str], tuple[Any, ...]]) -> bool:
    """An id that goes into button data must leave that data within Telegram's 64 bytes, or
    every message carrying the button is refused (BUTTON_DATA_INVALID) and the resident's
    search goes silent. Measured by packing the widest data the id goes into."""
    room = callbacks.MAX_BYTES - (max(callbacks.size(b.pack()) for b in buttons("x")) - 1)
    if callbacks.size(ident) > room:
        check.add(path + ("id",), f"{who}: id is {callbacks.size(ident)} bytes, too long for button data "
                                  f"(at most {room} bytes in UTF-8)")
        return False
    try:
        for button in buttons(ident):
            button.pack()
    except ValueError:
        check.add(path + ("id",), f"{who}: id {ident!r} cannot go into button data (control or invisible characters)")
        return False
    return True


def _declared_centres(data: dict[str, Any]) -> dict[str, Any] | None:
    """Centre id -> its raw kind, for every centre table that has an id, valid or not.

    References are checked against these rather than against the valid centres only, so that
    one broken centre is reported once, not again by every community and member citing it;
    ``None`` (no centres to check against) when the centres array itself is missing or broken.
    """
    tables = data.get("centres")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        return None
    declared: dict[str, Any] = {}
    for table in tables:
        if isinstance(table, dict) and isinstance(table.get("id"), str):
            declared.setdefault(table["id"], table.get("kind"))
    return declared


def _check_communities(check: _Checker, data: dict[str, Any], known: dict[str, Any] | None) -> list[Community]:
    communities: list[Community] = []
    seen_ids: dict[str, KeyPath] = {}
    seen_names: dict[str, str] = {}
    for path, table in check.array(data, "communities", required=True):
        who = f"community '{table['id']}'" if isinstance(table.get("id"), str) else f"community #{path[1] + 1}"
        check.unknown_keys(table, path, _COMMUNITY_KEYS, who)
        community_id = check.value(table, path, "id", str, who)
        name_zh = check.value(table, path, "name_zh", str, who)
        name_en = check.value(table, path, "name_en", str, who)
        aliases = check.value(table, path, "aliases", list, who, required=False)
        served = check.value(table, path, "centres", dict, who)
        # Optional: complaints per 1,000 households in the assessment report (Art. 8).
        households = check.value(table, path, "households", int, who, required=False)
        if households is not None and households <= 0:
            check.add(path + ("households",), f"{who}: 'households' must be a positive number")
            households = None
        ok = None not in (community_id, name_zh, name_en, served)

        if aliases is None:
            aliases = []
        elif not all(isinstance(alias, str) and alias.strip() for alias in aliases):
            check.add(path + ("aliases",), f"{who}: 'aliases' must be a list of non-empty strings")
            ok, aliases = False, []

        if community_id is not None:
            if community_id in seen_ids:
                first = check.line_of(seen_ids[community_id], "id")
                check.add(path + ("id",), f"duplicate community id '{community_id}' (first at line {first})")
                ok = False
            else:
                seen_ids[community_id] = path
            ok = _fits_buttons(check, path, who, community_id, callbacks.community_buttons) and ok
            if community_id in _RESERVED_COMMUNITY_IDS:
                # The report's "not listed" button and the wizard's "done" button use these words.
                check.add(path + ("id",), f"{who}: '{community_id}' is reserved; choose another id")
                ok = False
            # Residents type a name or alias to pick their community; one word must mean one place.
            own = {n.casefold(): n for n in (community_id, name_zh, name_en, *aliases) if isinstance(n, str)}
            for folded, name in own.items():
                other = seen_names.get(folded)
                if other is not None and other != community_id:
                    key = "aliases" if name in aliases else "id" if name == community_id else "name_zh"
                    check.add(path + (key,), f"{who}: name or alias '{name}' is also used by community '{other}'")
                    ok = False
                else:
                    seen_names[folded] = community_id

        for kind, centre_id in (served or {}).items():
            where = path + ("centres", kind)
            if kind not in CENTRE_KINDS:
                check.add(where, f"{who}: unknown centre kind '{kind}' in centres (expected one of: {_KINDS_TEXT})")
                ok = False
            elif not isinstance(centre_id, str):
                check.add(where, f"{who}: centres.{kind} must be a centre id (a string), got {_describe(centre_id)}")
                ok = False
            elif known is None:
                ok = False  # the centres array is broken and already reported
            elif centre_id not in known:
                check.add(where, f"{who}: unknown centre '{centre_id}' for {kind}")
                ok = False
            elif known[centre_id] in CENTRE_KINDS and known[centre_id] != kind:
                check.add(where, f"{who}: centre '{centre_id}' is a {known[centre_id]} centre, not {kind}")
                ok = False
        if ok:
            communities.append(Community(community_id, name_zh, name_en, tuple(aliases), dict(served), households))
    return communities


def _check_staff(check: _Checker, data: dict[str, Any], known: dict[str, Any] | None) -> list[Staff]:
    staff: list[Staff] = []
    seen_ids: dict[int, KeyPath] = {}
    for path, table in check.array(data, "staff", required=False):
        raw_id = table.get("user_id")
        who = f"staff {raw_id}" if isinstance(raw_id, int) and not isinstance(raw_id, bool) else f"staff #{path[1] + 1}"
        check.unknown_keys(table, path, _STAFF_KEYS, who)
        user_id = check.value(table, path, "user_id", int, who)
        name = check.value(table, path, "name", str, who)
        phone = check.value(table, path, "phone", str, who)
        role = check.value(table, path, "role", str, who)
        centre = check.value(table, path, "centre", str, who, required=False)
        ok = None not in (user_id, name, phone, role)
        has_bad_centre = "centre" in table and centre is None

        if user_id is not None:
            if user_id <= 0:
                check.add(path + ("user_id",), f"{who}: 'user_id' must be a positive integer (a Telegram user id)")
                ok = False
            elif user_id in seen_ids:
                first = check.line_of(seen_ids[user_id], "user_id")
                check.add(path + ("user_id",), f"duplicate staff user_id {user_id} (first at line {first})")
                ok = False
            else:
                seen_ids[user_id] = path
        # Art. 12: hotline staff's contacts are registered with dispatch, so they must be callable.
        if phone is not None and not _PHONE_RE.match(phone):
            message = f"{who}: phone '{phone}' is not a phone number (7-15 digits, optional leading +)"
            check.add(path + ("phone",), message)
            ok = False
        if role is not None and role not in ROLES:
            check.add(path + ("role",), f"{who}: unknown role '{role}' (expected one of: {', '.join(ROLES)})")
            ok = False
        if centre is not None and known is not None and centre not in known:
            check.add(path + ("centre",), f"{who}: unknown centre '{centre}'")
            ok = False
        if role is not None and needs_centre(role) and centre is None and not has_bad_centre:
            check.add(path, f"{who}: a {role} needs a 'centre'")
            ok = False
        valid_from, valid_to = _validity(check, table, path, who)
        if valid_from is False or valid_to is False:
            ok = False
        if ok and not has_bad_centre:
            staff.append(Staff(user_id, name, phone, centre, role, valid_from=valid_from or None, valid_to=valid_to or None))
    return staff


def _validity(check: _Checker, table: dict[str, Any], path: KeyPath, who: str) -> tuple[Any, Any]:
    """A registration's optional dates (Art. 12), TOML dates (``valid_from = 2026-01-01``);
    False for a bad one (reported)."""
    dates: list[Any] = []
    for key in ("valid_from", "valid_to"):
        value = table.get(key)
        if value is None:
            dates.append(None)
        elif isinstance(value, date) and not isinstance(value, datetime):
            dates.append(value)
        else:
            check.add(path + (key,), f"{who}: '{key}' must be a date like 2026-01-31 (no quotes), got {_describe(value)}")
            dates.append(False)
    if dates[0] and dates[1] and dates[1] < dates[0]:
        check.add(path + ("valid_to",), f"{who}: 'valid_to' {dates[1]} is before 'valid_from' {dates[0]}")
        return False, False
    return dates[0], dates[1]


def _shared_chats(check: _Checker, data: dict[str, Any]) -> None:
    """One chat, one role: a centre group that is also dispatch's (or customer service's, or
    leadership's) would mix crews' cards with dispatch's alerts, and a reply there could not be
    told apart. Centre-to-centre sharing is reported by the centres' own check."""
    seen: dict[int, str] = {}
    places: list[tuple[KeyPath, str, Any]] = [((), key, data.get(key)) for key in
                                              ("dispatch_chat_id", "customer_service_chat_id", "leadership_chat_id")]
    tables = data.get("centres")
    if isinstance(tables, list):
        for i, table in enumerate(tables):
            if isinstance(table, dict):
                places.append((("centres", i), "chat_id", table.get("chat_id")))
    for path, key, chat_id in places:
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            continue
        if path:
            raw_id = data["centres"][path[1]].get("id")
            role = f"the group of centre '{raw_id}'" if isinstance(raw_id, str) else f"the group of centre #{path[1] + 1}"
        else:
            role = _CHAT_ROLES[key]
        first = seen.get(chat_id)
        if first is None:
            seen[chat_id] = role
        elif first.startswith("the group of centre") and role.startswith("the group of centre"):
            continue
        else:
            check.add(path + (key,), f"chat id {chat_id} is both {first} and {role}: each role needs its own chat")


_CHAT_ROLES = {"dispatch_chat_id": "the dispatch group", "customer_service_chat_id": "the customer service group",
               "leadership_chat_id": "the leadership group"}


def _check_channels(check: _Checker, data: dict[str, Any]) -> list[ApiChannel]:
    """Platforms that file through the Open311 API (Art. 4): each with its source, and the
    SHA-256 of its key (``printf %s "$KEY" | sha256sum``), never the key itself."""
    channels: list[ApiChannel] = []
    seen_ids: set[str] = set()
    seen_hashes: set[str] = set()
    sources = ", ".join(s.value for s in Source if s != Source.RESIDENT)
    for path, table in check.array(data, "api_channels", required=False):
        who = f"api channel '{table['id']}'" if isinstance(table.get("id"), str) else f"api channel #{path[1] + 1}"
        check.unknown_keys(table, path, _CHANNEL_KEYS, who)
        channel_id = check.value(table, path, "id", str, who)
        name = check.value(table, path, "name", str, who)
        source = check.value(table, path, "source", str, who)
        key_hash = check.value(table, path, "key_sha256", str, who)
        revoked = table.get("revoked", False)
        ok = None not in (channel_id, name, source, key_hash)
        if not isinstance(revoked, bool):
            check.add(path + ("revoked",), f"{who}: 'revoked' must be true or false, got {_describe(revoked)}")
            ok = False
        if channel_id is not None:
            if not _CHANNEL_ID_RE.match(channel_id):
                check.add(path + ("id",), f"{who}: id must be lower-case letters, digits, _ and - (at most 32)")
                ok = False
            elif channel_id in seen_ids:
                check.add(path + ("id",), f"duplicate api channel id '{channel_id}'")
                ok = False
            seen_ids.add(channel_id)
        if source is not None and (source == Source.RESIDENT or source not in {s.value for s in Source}):
            check.add(path + ("source",), f"{who}: unknown source '{source}' (expected one of: {sources})")
            ok = False
        if key_hash is not None:
            if not _SHA256_RE.match(key_hash):
                check.add(path + ("key_sha256",), f"{who}: 'key_sha256' must be 64 lower-case hex digits (the SHA-256 of the key)")
                ok = False
            elif key_hash in seen_hashes:
                check.add(path + ("key_sha256",), f"{who}: the same key is given to another channel")
                ok = False
            seen_hashes.add(key_hash)
        if ok:
            channels.append(ApiChannel(channel_id, name, source, key_hash, revoked))
    return channels


def load_org(path: Path | str) -> Org:
    """Load the organisation file; raises :class:`OrgFileError` listing every error in it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OrgFileError(path, [OrgIssue(None, f"cannot read the file: {exc}")]) from None
    org, issues = check_org(text)
    if org is None:
        raise OrgFileError(path, [issue for issue in issues if not issue.warning] or issues)
    return org
