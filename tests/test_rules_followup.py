"""The follow-up's rules (rules/followup.py), pure: each row cites its article."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rules.followup import DEFAULT_RULES, answer_refusal, check_comment, cluster_due, is_repeat, reopen_refusal
from rules.policy import load_policy

DONE = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("status, outcome, after, refusal, why", [
    ("closed", "done", timedelta(hours=1), None, "Art. 8: not solved, so the work is done again"),
    ("closed", "done", timedelta(days=30), None, "the last day of the answer window"),
    ("closed", "done", timedelta(days=30, seconds=1), "too_late", "after 30 days a fresh report (Art. 23 counts it)"),
    ("closed", "out_of_scope", timedelta(hours=1), "out_of_scope", "Art. 6: explained, not repaired: nothing to redo"),
    ("accepted", None, timedelta(hours=1), "not_closed", "an open ticket is not reopened"),
])
def test_when_not_solved_reopens_a_ticket(status, outcome, after, refusal, why):
    closed_at = DONE if status == "closed" else None
    assert reopen_refusal(status, outcome, closed_at, DONE + after) == refusal, why


def test_a_solved_answer_is_taken_within_the_window_only():
    assert answer_refusal(DONE, DONE + timedelta(days=29)) is None
    assert answer_refusal(DONE, DONE + timedelta(days=31)) == "too_late"


@pytest.mark.parametrize("after, repeat", [(timedelta(days=1), True), (timedelta(days=30), True),
                                           (timedelta(days=30, seconds=1), False), (timedelta(days=-1), False)])
def test_art_23_the_same_fault_again_within_a_month_is_a_repeat(after, repeat):
    assert is_repeat(DONE, DONE + after) is repeat


def test_three_reports_within_an_hour_are_a_cluster_once():
    now = DONE + timedelta(minutes=50)
    times = [DONE, DONE + timedelta(minutes=20), now]
    assert cluster_due(times, now, already_alerted=False)
    assert not cluster_due(times, now, already_alerted=True)
    assert not cluster_due(times[1:], now, already_alerted=False)
    assert not cluster_due(times, DONE + timedelta(minutes=61), already_alerted=False)


@pytest.mark.parametrize("text, kept, problem", [("师傅很好", "师傅很好", None), (" 👍👍 ", "👍👍", None),
                                                 ("\u200b", None, "empty"), ("好" * 501, None, "too_long")])
def test_a_comment_is_kept_unless_empty_or_too_long(text, kept, problem):
    assert check_comment(text) == (kept, problem)


def test_the_shipped_policy_states_the_followup_numbers():
    rules = load_policy().followup
    assert rules == DEFAULT_RULES
    assert (rules.answer_within, rules.answer_until, rules.repeat_window) == (timedelta(hours=24), timedelta(days=30), timedelta(days=30))
    assert (rules.cluster_reports, rules.cluster_window, rules.complaints_to_dispatch) == (3, timedelta(minutes=60), 2)


def test_a_followup_section_with_an_unknown_key_is_refused(tmp_path):
    from rules.errors import PolicyError
    from rules.policy import DEFAULT_POLICY_PATH
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("answer_hours = 24", "answer_hours = 24\nanswer_howrs = 12")
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match="answer_howrs"):
        load_policy(tmp_path / "p.toml")


def test_a_followup_section_naming_an_unknown_category_is_refused(tmp_path):
    from rules.errors import PolicyError
    from rules.policy import DEFAULT_POLICY_PATH
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace('cluster_categories = ["not_warm", "room_temp"]',
                                                                   'cluster_categories = ["not_warm", "cold_home"]')
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match="cold_home"):
        load_policy(tmp_path / "p.toml")
