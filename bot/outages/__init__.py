"""Outage notices (Art. 10 (2), 14, 15, 23 (3)–(5)).

* ``wizard``: ``/outage`` in the dispatch group walks a dispatcher through kind, communities,
  buildings, (emergency: pipe diameter, valves, area), reason, start and expected end.
* ``publishing``: a planned shutdown waits for a department head's approval (Art. 14); then —
  and at once for an emergency (Art. 15) or a calibration notice (Art. 10 (2)) — customer
  service, each affected repair centre (with a posting task reminded and escalated like a
  ticket's deadline, Art. 23 (3)(4)) and subscribed residents are told; a new expected end;
  restoration and its report.
* ``panel``: dispatch's one progress message per outage, edited in place.
* ``residents``: subscriptions and ``/outages``; ``sweep``: the outages' share of the sweeper;
  ``printing``: the A4 page; ``buttons``: every ``o:`` button.

Every public coroutine is one user action in one transaction with the outbox rows it causes,
and every press and reply is authorised against the database. Broadcasts to residents are
``Priority.BULK`` so they never overtake escalations or crew cards.
"""
from bot.outages.buttons import on_button
from bot.outages.printing import PRINT_NOTICES, render_document, render_print
from bot.outages.publishing import notice_reply
from bot.outages.residents import list_outages, on_ticket_created, subscribe, unsubscribe
from bot.outages.sweep import sweep
from bot.outages.wizard import answer, start_wizard

__all__ = [
    "on_button", "PRINT_NOTICES", "render_document", "render_print", "notice_reply", "list_outages", "on_ticket_created",
    "subscribe", "unsubscribe", "sweep", "answer", "start_wizard",
]
