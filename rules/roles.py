"""Who may do what: every permission the bot checks, named, in one place (Art. 5, 7, 9–15).

Each check takes the member as the database knows them (anything with ``role`` and
``centre_id``; ``None`` for someone who is not staff) and, where the answer depends on it, the
centre that holds the matter. Where a press must also come from a particular chat or message,
the caller checks that; this module answers only "may this person, in this role, do this".

Who is who (Art. 9–10): dispatch (the dispatchers, with the department head above them) is
the single coordinator and sees every centre; crews and centre leads act for their own centre.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Protocol

__all__ = [
    "Role", "ROLES", "Member", "needs_centre", "is_dispatch",
    "may_press", "may_add_note", "may_acknowledge", "may_assign", "may_decide_request", "may_answer_for",
    "may_start_outage", "may_approve_outage", "may_control_outage", "may_post_notice",
    "may_see_contact", "may_see_queue", "may_see_overdue", "may_override", "may_file_for_caller",
    "may_keep_register",
    "may_answer_followup", "may_see_followups", "may_record_followup",
    "may_see_registry", "may_see_registry_log", "commands_for", "may_see_stats",
]


class Role(StrEnum):
    CREW = "crew"
    CENTRE_LEAD = "centre_lead"
    DISPATCHER = "dispatcher"
    DEPARTMENT_HEAD = "department_head"


# In the order the organisation file's documentation lists them.
ROLES: tuple[str, ...] = tuple(str(r) for r in Role)

# Dispatch coordinates, supervises and assesses every centre (Art. 10 (1)); the department
# head, to whom overdue matters go up (Art. 7, Art. 13), stands with it.
_DISPATCH = frozenset({Role.DISPATCHER, Role.DEPARTMENT_HEAD})
# A centre's own people (Art. 11): they act for their centre only.
_CENTRE = frozenset({Role.CREW, Role.CENTRE_LEAD})


class Member(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def centre_id(self) -> str | None: ...


def needs_centre(role: str) -> bool:
    """Crews and centre leads belong to one centre; dispatch belongs to all (Art. 9–11)."""
    return role in _CENTRE


def is_dispatch(staff: Member | None) -> bool:
    return staff is not None and staff.role in _DISPATCH


def _of_centre(staff: Member | None, centre_id: str | None, roles: frozenset[Role] = _CENTRE) -> bool:
    return staff is not None and staff.role in roles and staff.centre_id is not None and staff.centre_id == centre_id


def may_press(staff: Member | None, ticket_centre: str | None) -> bool:
    """A button on a ticket's card (Accept, Arrived, Done, delay, return, …): the card's own
    centre and the dispatchers, who take over what a centre cannot (Art. 5, 9–10). The department
    head supervises; a card is not theirs to move."""
    if staff is None:
        return False
    return staff.role == Role.DISPATCHER or _of_centre(staff, ticket_centre)


def may_add_note(staff: Member | None, ticket_centre: str | None) -> bool:
    """The closing note on a card: whoever may move the card (Art. 10 (2): the centre's ledger)."""
    return may_press(staff, ticket_centre)


def may_acknowledge(staff: Member | None, ticket_centre: str | None) -> bool:
    """"Seen, I'm on it" on an escalation: dispatch (Art. 10 (1)), the leadership it reports to
    (Art. 7), and the lead of the centre that holds the ticket (Art. 13, other rules (2): the
    centre that is late answers for it). Not another centre's lead, not a crew."""
    return is_dispatch(staff) or _of_centre(staff, ticket_centre, frozenset({Role.CENTRE_LEAD}))


def may_assign(staff: Member | None, ticket_centre: str | None) -> bool:
    """Hand a ticket that dispatch holds, because it could not be routed, to a centre (Art. 5)."""
    return ticket_centre is None and is_dispatch(staff)


def may_decide_request(staff: Member | None) -> bool:
    """Approve or refuse a delay or a return: only dispatch (Art. 10 (1): its orders are carried
    out; Art. 13 other rules (3): a return needs dispatch's permission)."""
    return is_dispatch(staff)


def may_answer_for(staff: Member | None, user_id: int, requested_by: int) -> bool:
    """Reply to a request's prompt: the person who asked, or dispatch."""
    return user_id == requested_by or is_dispatch(staff)


def may_start_outage(staff: Member | None) -> bool:
    """Draft a shutdown notice with /outage: the dispatchers, who coordinate shutdowns and tell
    customer service (Art. 14–15)."""
    return staff is not None and staff.role == Role.DISPATCHER


def may_approve_outage(staff: Member | None) -> bool:
    """Approve a planned shutdown before it is published: the department head (Art. 14: "get
    approval in time")."""
    return staff is not None and staff.role == Role.DEPARTMENT_HEAD


def may_control_outage(staff: Member | None) -> bool:
    """Move a published shutdown's end or declare heat restored (Art. 15): dispatch."""
    return is_dispatch(staff)


def may_post_notice(staff: Member | None, posting_centre: str | None) -> bool:
    """Confirm a shutdown notice was posted in the area: the centre asked to post it
    (Art. 10 (2), Art. 14–15)."""
    return _of_centre(staff, posting_centre)


def may_see_contact(staff: Member | None, ticket_centre: str | None) -> bool:
    """A resident's name and phone: the centre holding the ticket and dispatch, nobody else."""
    return is_dispatch(staff) or _of_centre(staff, ticket_centre)


def may_see_queue(staff: Member | None) -> bool:
    """``/queue``, the outbox at a glance: dispatch."""
    return is_dispatch(staff)


def may_see_overdue(staff: Member | None) -> bool:
    """``/overdue``, every centre's late and soon-due limits: dispatch (Art. 10 (1) supervises)."""
    return is_dispatch(staff)


def may_override(staff: Member | None) -> bool:
    """Set a ticket's level or category: dispatch decides the level (Art. 13, other rules (1))."""
    return is_dispatch(staff)


def may_file_for_caller(staff: Member | None) -> bool:
    """``/new``, a ticket entered on a caller's behalf (a phone call, a 12345 work order, a
    press report): dispatch, where every complaint arrives (Art. 4, Art. 10 (1)), and the
    centres' registered hotline staff, who take calls too (Art. 12). Any centre's staff may
    file for any community; the ticket is routed by the community, not by who entered it.
    A resident may not: their own report is /report."""
    return staff is not None and staff.role in (_DISPATCH | _CENTRE)


def may_keep_register(staff: Member | None) -> bool:
    """``/register``, the record of praise, criticism, press reports and supervision that the
    centres are assessed on: dispatch, which supervises and assesses every centre (Art. 10 (1),
    Art. 18-24)."""
    return is_dispatch(staff)


def may_answer_followup(user_id: int, resident_user_id: int | None) -> bool:
    """Answer "is it warm now?" (and so reopen the ticket): the resident who reported it, nobody
    else, whatever their role (Art. 8: the resident's own opinion)."""
    return resident_user_id is not None and user_id == resident_user_id


def may_see_followups(staff: Member | None) -> bool:
    """``/followups``, the phone follow-up list with residents' phones: dispatch (Art. 8, Art. 10 (1))."""
    return is_dispatch(staff)


def may_record_followup(staff: Member | None) -> bool:
    """Record what a resident said on the phone (Art. 8's feedback card): dispatch."""
    return is_dispatch(staff)


def may_see_registry(staff: Member | None, *, in_dispatch_group: bool, group_centre: str | None) -> bool:
    """``/staff``: dispatch, in its group, sees every centre's registered hotline staff with
    their work phones (Art. 12: registered with dispatch); a centre's own people, in their
    centre's group, see their centre's list (without phones)."""
    if in_dispatch_group:
        return is_dispatch(staff)
    return group_centre is not None and _of_centre(staff, group_centre)


def may_see_registry_log(staff: Member | None) -> bool:
    """``/staff log``, every change to the registry (Art. 12: reported to dispatch): dispatch."""
    return is_dispatch(staff)


# What each role may type, for the staff greeting; each command still authorises itself.
_COMMANDS: dict[str, tuple[str, ...]] = {
    Role.CREW: ("ticket", "new"),
    Role.CENTRE_LEAD: ("ticket", "new", "staff"),
    Role.DISPATCHER: ("new", "ticket", "overdue", "queue", "followups", "level", "category", "outage", "register",
                      "staff", "stats", "board"),
    Role.DEPARTMENT_HEAD: ("ticket", "overdue", "queue", "followups", "register", "staff", "stats", "board"),
}


def commands_for(role: str) -> tuple[str, ...]:
    return _COMMANDS.get(role, ())


def may_see_stats(staff: Member | None, *, in_dispatch_group: bool, in_leadership_group: bool) -> bool:
    """``/stats``, every centre's figures and chart: in the dispatch group, dispatch (Art. 10 (1):
    it assesses the centres); in the leadership group, anyone there: the company's leaders, who
    need not be on the staff list, are who the assessment is for (Art. 7, Art. 8). The figures
    carry no resident's data, but a centre's group is no place to rank it against the others,
    and a private chat is not where leadership reads them, so nowhere else."""
    if in_leadership_group:
        return True
    return in_dispatch_group and is_dispatch(staff)
