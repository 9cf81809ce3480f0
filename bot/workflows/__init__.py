"""Crew requests that need a reply or dispatch's decision: delay, return (退单), coordination
report.

* **Report delay** (Art. 13 preamble, other rules (2)): a centre that will miss a limit says why
  *before* it runs out. The crew replies to a prompt with a reason and a new time; dispatch
  approves (the deadline moves, the ticket is not late for it) or rejects (the clock is kept).
* **Return** (退单, Art. 5–6, Art. 13 other rules (3)): only with dispatch's permission, and
  with a reason. Dispatch hands the ticket to another centre (fresh accept clock, Art. 12, and a
  transfer record in the ledger, Art. 5), closes it as out of scope with an explanation to the
  resident (Art. 6), or refuses (the ticket stays, its clock running). The ticket always has
  exactly one owner.
* **Needs coordination** (Art. 13 limits (4)): a written report within 8 hours, submitted as a
  reply; the sweeper reminds and escalates the ``report`` clock like any other.

Asking for text in a group: the bot posts a question tagged with its request (bot/prompts.py);
bot/replies.py hands a reply to it to :func:`answer_prompt`. Every press
and reply is authorised against the database, never the callback data; every change and the
messages it causes are committed in one transaction.
"""
from bot.workflows.common import MAX_CLOSE_EXTENSION
from bot.workflows.crew import answer_prompt, on_button
from bot.workflows.decisions import on_decision

__all__ = ["on_button", "on_decision", "answer_prompt", "MAX_CLOSE_EXTENSION"]
