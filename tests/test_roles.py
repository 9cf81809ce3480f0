"""Who may do what (rules/roles.py): one table per permission, each row citing its article."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot import orgfile
from rules import roles
from rules.roles import Role


@dataclass(frozen=True)
class M:
    role: str
    centre_id: str | None = None


CREW_N = M(Role.CREW, "north")
LEAD_N = M(Role.CENTRE_LEAD, "north")
CREW_S = M(Role.CREW, "south")
LEAD_S = M(Role.CENTRE_LEAD, "south")
DISPATCHER = M(Role.DISPATCHER)
HEAD = M(Role.DEPARTMENT_HEAD)
NOBODY = None

CENTRED = [
    # check, member, centre of the matter, allowed
    ("may_press", CREW_N, "north", True, "Art. 10 (2): the card's own crew moves it"),
    ("may_press", LEAD_N, "north", True, "Art. 11: the centre lead acts for the centre"),
    ("may_press", CREW_S, "north", False, "Art. 5: another centre's crew may not"),
    ("may_press", DISPATCHER, "north", True, "Art. 10 (1): dispatch takes over any card"),
    ("may_press", DISPATCHER, None, True, "Art. 5: dispatch holds unroutable tickets"),
    ("may_press", HEAD, "north", False, "the department head supervises, does not move cards"),
    ("may_press", CREW_N, None, False, "a centre crew may not move dispatch's own ticket"),
    ("may_press", NOBODY, "north", False, "a stranger presses nothing"),
    ("may_acknowledge", DISPATCHER, "north", True, "Art. 10 (1): dispatch takes the escalation"),
    ("may_acknowledge", HEAD, "north", True, "Art. 7: leadership takes its own alerts"),
    ("may_acknowledge", LEAD_N, "north", True, "Art. 13 other rules (2): the late centre's own lead"),
    ("may_acknowledge", LEAD_S, "north", False, "another centre's lead may not take it"),
    ("may_acknowledge", LEAD_S, None, False, "nor a ticket dispatch holds"),
    ("may_acknowledge", CREW_N, "north", False, "a crew does not answer an escalation"),
    ("may_acknowledge", NOBODY, "north", False, "a stranger may not"),
    ("may_assign", DISPATCHER, None, True, "Art. 5: dispatch routes what could not be routed"),
    ("may_assign", HEAD, None, True, "Art. 5: dispatch side"),
    ("may_assign", DISPATCHER, "north", False, "a routed ticket is returned, not assigned (Art. 13 (3))"),
    ("may_assign", LEAD_N, None, False, "a centre does not assign"),
    ("may_post_notice", CREW_N, "north", True, "Art. 14-15: the centre asked posts the notice"),
    ("may_post_notice", LEAD_N, "north", True, "Art. 14-15: its lead too"),
    ("may_post_notice", CREW_S, "north", False, "another centre did not post it"),
    ("may_post_notice", DISPATCHER, "north", False, "dispatch does not stand in the community"),
    ("may_see_contact", CREW_N, "north", True, "the holding centre calls the resident"),
    ("may_see_contact", CREW_S, "north", False, "another centre never sees a resident's phone"),
    ("may_see_contact", DISPATCHER, "south", True, "Art. 10 (1): dispatch sees all"),
    ("may_see_contact", HEAD, "south", True, "dispatch side"),
    ("may_see_contact", NOBODY, "south", False, "a stranger sees nothing"),
]


@pytest.mark.parametrize(("check", "member", "centre", "allowed"), [r[:4] for r in CENTRED], ids=[r[4] for r in CENTRED])
def test_a_permission_on_a_centres_matter(check, member, centre, allowed):
    assert getattr(roles, check)(member, centre) is allowed


EVERYONE = {"crew": CREW_N, "centre_lead": LEAD_N, "dispatcher": DISPATCHER, "department_head": HEAD, "stranger": NOBODY}
DISPATCH_SIDE = {"dispatcher", "department_head"}

GLOBAL = [
    ("may_decide_request", DISPATCH_SIDE, "Art. 10 (1), Art. 13 other rules (3): dispatch permits a return or delay"),
    ("may_start_outage", {"dispatcher"}, "Art. 14-15: the dispatchers draft shutdown notices"),
    ("may_approve_outage", {"department_head"}, "Art. 14: a planned shutdown is approved in time, by the head"),
    ("may_control_outage", DISPATCH_SIDE, "Art. 15: dispatch declares heat restored"),
    ("may_see_queue", DISPATCH_SIDE, "the outbox is dispatch's view"),
    ("may_see_overdue", DISPATCH_SIDE, "Art. 10 (1): dispatch supervises every centre"),
    ("may_override", DISPATCH_SIDE, "Art. 13 other rules (1): dispatch decides the level"),
    ("may_file_for_caller", DISPATCH_SIDE | {"crew", "centre_lead"},
     "Art. 4, 10 (1), 12: dispatch and the centres' hotline staff enter a caller's complaint; a resident may not"),
    ("may_keep_register", DISPATCH_SIDE, "Art. 10 (1), Art. 18-24: dispatch keeps the assessment's register"),
]


@pytest.mark.parametrize(("check", "allowed_roles"), [r[:2] for r in GLOBAL], ids=[r[2] for r in GLOBAL])
@pytest.mark.parametrize("who", list(EVERYONE), ids=list(EVERYONE))
def test_a_permission_that_belongs_to_a_role(check, allowed_roles, who):
    assert getattr(roles, check)(EVERYONE[who]) is (who in allowed_roles)


@pytest.mark.parametrize(
    ("member", "user_id", "requested_by", "allowed"),
    [(CREW_N, 5001, 5001, True), (CREW_N, 5002, 5001, False), (DISPATCHER, 6001, 5001, True), (NOBODY, 9, 5001, False)],
    ids=["the crew who asked", "a colleague who did not ask", "dispatch answers for anyone", "a stranger"],
)
def test_who_may_answer_a_requests_prompt(member, user_id, requested_by, allowed):
    assert roles.may_answer_for(member, user_id, requested_by) is allowed


def test_the_org_file_accepts_exactly_the_roles_the_rules_know():
    assert orgfile.ROLES == tuple(str(r) for r in Role) == roles.ROLES


@pytest.mark.parametrize(("role", "needs"), [("crew", True), ("centre_lead", True), ("dispatcher", False), ("department_head", False)],
                         ids=["crew: one centre", "centre lead: one centre", "dispatcher: all (Art. 9)", "head: all"])
def test_only_centre_people_need_a_centre(role, needs):
    assert roles.needs_centre(role) is needs
