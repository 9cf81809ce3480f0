"""Applying an organisation file to a database, running bot or not (Art. 12: hotline staff are
registered with dispatch and every change is reported at once).

One transaction: the file's organisation replaces the one in the database (the running bot
reads it from there on its next step, no restart), every change is written to the change log
with who applied it, and the change report to dispatch is queued in the outbox, which the
running bot's sender delivers. A broken file never gets here: the caller checks it first.

The diff is taken against the file applied last (kept in the database), so every field of the
file, whatever the model grows, is compared (rules/orgdiff.py). Chat ids of groups that Telegram
moved to a supergroup are followed (bot/chatmove.py), so an old file never points a centre
back at the old group.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.orgfile import Org, check_org
from bot.payload import message
from bot.texts import Texts
from rules.orgdiff import Change, diff_orgs
from rules.roles import Role
from rules.text import MAX_TEXT, telegram_length
from storage import org as org_store
from storage import registry
from storage.outbox import Priority, enqueue_message

__all__ = ["Applied", "apply_org", "follow_moves", "STARTUP", "REPORT_LINES"]

log = logging.getLogger(__name__)

STARTUP = "start-up"        # who applied it, when the bot found HEATBOT_ORG changed at start-up
REPORT_LINES = 30           # changes listed in dispatch's report; the rest are in /staff log


@dataclass(frozen=True)
class Applied:
    changes: list[Change]
    apply_id: int | None                    # None: nothing changed, nothing recorded
    held: list[registry.HeldTicket]         # open tickets of people removed from the registry
    moved: dict[int, int]                   # chat ids in the file that Telegram has moved: old -> new
    first: bool = False                     # the database's first organisation


def follow_moves(org: Org, moves: dict[int, int]) -> Org:
    """``org`` with every chat id that has moved replaced by where it moved to."""
    if not moves:
        return org
    settings = {f.name: moves.get(getattr(org, f.name), getattr(org, f.name)) for f in dataclasses.fields(org)
                if f.name.endswith("_chat_id")}
    centres = tuple(dataclasses.replace(c, chat_id=moves.get(c.chat_id, c.chat_id)) for c in org.centres)
    return dataclasses.replace(org, centres=centres, **settings)


def _chat_ids(org: Org) -> set[int]:
    ids = {getattr(org, f.name) for f in dataclasses.fields(org) if f.name.endswith("_chat_id")}
    return {i for i in ids | {c.chat_id for c in org.centres} if i is not None}


async def apply_org(conn, texts: Texts, lang: str, org: Org, text: str, *, by: str, path: str | None,
                    now: datetime, report_first: bool = True) -> Applied:
    """Apply ``org`` (parsed from ``text``) inside the caller's transaction. Nothing is written
    when it changes nothing; otherwise the change log gets every change and dispatch gets the
    change report (for the very first file only with ``report_first``: a new bot's start-up
    registers everyone, which is no news to dispatch)."""
    moves = await registry.chat_moves(conn)
    moved = {old: new for old, new in moves.items() if old in _chat_ids(org)}
    org = follow_moves(org, moves)
    last = await registry.last_applied(conn)
    previous = None
    if last is not None:
        previous, _ = check_org(last.text)
        if previous is None:
            # Written by an older heatbot whose file this one no longer accepts: compare with
            # nothing, so the log lists the whole organisation once rather than nothing.
            log.warning("the organisation file applied last (%s) no longer parses; logging the new one in full", last.applied_at)
        else:
            previous = follow_moves(previous, moves)
    changes = diff_orgs(previous, org)
    if last is not None and not changes:
        return Applied([], None, [], moved)
    removed = [int(c.item) for c in changes if c.section == "staff" and c.change == "removed"]
    held = await registry.open_tickets_held_by(conn, removed)
    await org_store.replace_org(conn, org)
    apply_id = await registry.record_apply(conn, now, by, path, text, changes)
    log.info("organisation applied by %s: %d change(s), apply %d", by, len(changes), apply_id)
    if last is not None or report_first:
        await _report(conn, texts, lang, org, changes, held, by, now)
    return Applied(changes, apply_id, held, moved, first=last is None)


async def _report(conn, texts: Texts, lang: str, org: Org, changes: list[Change], held: list[registry.HeldTicket],
                  by: str, now: datetime) -> None:
    names = {s.user_id: s.name for s in await registry.all_staff(conn)}
    names.update({int(c.item): c.label for c in changes if c.section == "staff" and c.label})
    held_rows = [_held_row(h, org, lang, names) for h in held]
    lines = min(REPORT_LINES, len(changes))
    while True:     # long values (aliases, many held tickets) may not fit one message: list fewer
        text = texts.render(lang, "registry.report", at=now, by=by, changes=changes[:lines],
                            more=len(changes) - lines, held=held_rows[:20])
        if telegram_length(text) <= MAX_TEXT or lines == 0:
            break
        lines = max(0, lines - 5)
    await enqueue_message(conn, org.dispatch_chat_id, message(text), priority=Priority.STATUS, purpose="org_report", now=now)
    # The lead of the centre that keeps a removed person's open tickets is told privately (Art. 11:
    # the centre names who handles them now).
    by_centre: dict[str | None, list[dict[str, Any]]] = {}
    for h, row in zip(held, held_rows):
        by_centre.setdefault(h.centre_id, []).append(row)
    for centre_id, rows in by_centre.items():
        if centre_id is None:
            continue
        for lead in await org_store.staff_ids_with_role(conn, Role.CENTRE_LEAD, centre_id):
            await enqueue_message(conn, lead, message(texts.render(lang, "registry.held_for_lead", tickets=rows)),
                                  priority=Priority.STATUS, purpose="org_report", now=now)


def _held_row(h: registry.HeldTicket, org: Org, lang: str, names: dict[int, str]) -> dict[str, Any]:
    centre = next((c for c in org.centres if c.id == h.centre_id), None)
    return {"number": h.number, "centre": centre.name(lang) if centre else h.centre_id,
            "person": names.get(h.held_by, str(h.held_by))}
