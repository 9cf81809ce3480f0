"""Button data: one typed codec per prefix, packed and parsed in one place.

In the spirit of aiogram's ``CallbackData``: each kind of button is a frozen dataclass whose
``pack()`` builds the ``callback_data`` string and whose ``parse(data)`` reads one back, or
returns ``None`` for anything that is not exactly what ``pack()`` would have made. Parsing is
strict because the data comes from the client and can be forged:

* numbers are ASCII digits only (``"²".isdigit()`` is true, but ``int("²")`` fails) within
  ``1..2**63-1`` (SQLite's INTEGER; a larger one overflows the query);
* actions are the known ones only;
* nothing over 64 bytes, Telegram's limit for ``callback_data`` (Bot API, InlineKeyboardButton:
  "Data to be sent in a callback query to the bot when the button is pressed, 1-64 bytes").
  ``pack()`` refuses such data with ``ValueError`` rather than let Telegram refuse the whole
  message (BUTTON_DATA_INVALID).

What the data says is never trusted: the handlers still authorise every press against the
database. The codec only guarantees that what they are handed is well formed.

Prefixes: ``t:`` card action, ``w:`` card request, ``d:`` dispatch decision, ``a:``
acknowledge an alert, ``n:`` the /new wizard, ``r:`` the register, ``o:`` outages (``o:w:`` wizard, ``o:a:`` approval, ``o:p:`` notice
posted, ``o:c:`` control, ``o:s:`` subscribe), ``i:`` intake step, ``menu:``, ``lang:``,
``f:`` follow-up answer, ``fp:`` phone follow-up record, ``h:`` shift handover taken over.
No telegram import here: this module is pure.
"""
from __future__ import annotations

from bot.callbacks.base import MAX_BYTES, MAX_ID, NONCE_BYTES, _NONCE_LEN, _Data, new_nonce, parse_id, parse_number, size
from bot.callbacks.followups import FollowupAnswer, FollowupVerb, PhoneRecord
from bot.callbacks.outages import (
    WIZARD_DONE, ControlVerb, NoticePosted, OutageButton, OutageControl, OutageDecision, Subscribe, WizardStep, WizardVerb,
    parse_outage,
)
from bot.callbacks.desk import NEW_NONE, NewStep, NewVerb
from bot.callbacks.register import REGISTER_NONE, RegisterStep, RegisterVerb
from bot.callbacks.roster import HandoverAck
from bot.callbacks.residents import INTAKE_NONE, IntakeStep, IntakeVerb, LanguageChoice, Menu, MenuItem
from bot.callbacks.tickets import Acknowledge, CardPress, CardRequest, CardVerb, Choice, Decision, RequestVerb

__all__ = [
    "MAX_BYTES", "MAX_ID", "NONCE_BYTES", "parse_id", "parse_number", "new_nonce", "size",
    "CardVerb", "CardPress", "RequestVerb", "CardRequest", "Choice", "Decision", "Acknowledge",
    "WizardVerb", "WizardStep", "OutageDecision", "NoticePosted", "ControlVerb", "OutageControl", "Subscribe",
    "OutageButton", "parse_outage",
    "IntakeVerb", "IntakeStep", "INTAKE_NONE", "WIZARD_DONE", "MenuItem", "Menu", "LanguageChoice",
    "NewVerb", "NewStep", "NEW_NONE", "RegisterVerb", "RegisterStep", "REGISTER_NONE",
    "FollowupVerb", "FollowupAnswer", "PhoneRecord", "HandoverAck",
    "community_buttons", "centre_buttons",
]


_WIDEST_NONCE = "f" * _NONCE_LEN


def community_buttons(community_id: str) -> tuple[_Data, ...]:
    """Every button a community id goes into, at its widest; ``pack()`` each to check the id
    fits (the organisation file check does)."""
    return (
        IntakeStep(_WIDEST_NONCE, IntakeVerb.COM, community_id),
        WizardStep(_WIDEST_NONCE, WizardVerb.COM, community_id),
        Subscribe(community_id),
        NewStep(_WIDEST_NONCE, NewVerb.COM, community_id),
    )


def centre_buttons(centre_id: str) -> tuple[_Data, ...]:
    """Every button a centre id goes into, at its widest (the largest request id)."""
    return (Decision(MAX_ID, Choice.TRANSFER, centre_id), RegisterStep(_WIDEST_NONCE, RegisterVerb.CENTRE, centre_id))
