"""Tells the demo as it happens: what each person taps or types, then what the bot sent.

Before printing what followed an action, :meth:`Narrator.settle` waits until the bot is idle —
every update fetched and handled, nothing pending in the outbox — so every run prints the same
transcript: the bot's messages are printed by chat in a fixed order, never in the order a
concurrent sender happened to deliver them.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from telegram.ext import Application

from bot.clock import FakeClock
from storage import outbox
from tgemu import Emulator, EmulatorClient, Group, Msg, User

from .lines import Lines

log = logging.getLogger(__name__)

__all__ = ["Narrator", "Person"]

SETTLE_TIMEOUT = 60.0   # seconds of real time; a bot that never goes idle is a bug worth a traceback
_INDENT = "         "


@dataclass
class Person:
    """Someone in the story: their Telegram account and how the transcript shows them."""
    user: User
    name: str
    icon: str


class Narrator:
    def __init__(self, emulator: Emulator, tg: EmulatorClient, app: Application, clock: FakeClock,
                 lines: Lines) -> None:
        self.emulator, self.tg, self.app, self.clock, self.lines = emulator, tg, app, clock, lines
        self._chat_names: dict[int, str] = {}
        self._chat_order: dict[int, int] = {}
        self._seen: dict[int, int] = {}       # chat id -> highest message id already printed
        self._seq = 0

    # ------------------------------------------------------------------ cast
    def name_chat(self, chat_id: int, name: str) -> None:
        """Register a chat under the name the transcript uses; chats print in this order."""
        self._chat_names[chat_id] = name
        self._chat_order.setdefault(chat_id, len(self._chat_order))

    async def person(self, name: str, icon: str, language_code: str | None = None,
                     user: User | None = None) -> Person:
        if user is None:
            user = await self.tg.user(name, language_code=language_code)
        self.name_chat(user.id, name)
        return Person(user, name, icon)

    # ---------------------------------------------------------------- output
    @staticmethod
    def title(text: str) -> None:
        print(f"\n{'═' * 8} {text} {'═' * max(0, 60 - len(text))}")

    @staticmethod
    def say(text: str) -> None:
        print(text)

    def _stamp(self) -> str:
        return self.clock.now().astimezone(self.lines.tz).strftime("[%H:%M]")

    def _where(self, chat: Group | None) -> str:
        return "" if chat is None else self.lines.in_chat.format(chat=self._chat_names[chat.chat_id])

    def _action(self, who: Person, text: str) -> None:
        print(f"{self._stamp()} {who.icon} {who.name}{text}")

    # --------------------------------------------------------------- actions
    async def types(self, who: Person, text: str, chat: Group | None = None, reply_to: Msg | None = None) -> None:
        verb = self.lines.replies if reply_to is not None else self.lines.types
        self._action(who, self._where(chat) + verb.format(text=text))
        await who.user.send(text, chat=chat, reply_to=reply_to)
        await self.show()

    async def taps(self, who: Person, label: str, chat: Group | None = None, on: Msg | None = None) -> None:
        msg = on or await self.latest(chat or who.user, lambda m: _has_button(m, label))
        button = msg.button(label).text
        self._action(who, self._where(chat) + self.lines.taps.format(button=button))
        answer = await who.user.press(msg, label)
        if answer.text:
            print(f"{_INDENT}💬 {answer.text}")
        await self.show()

    async def shares_phone(self, who: Person, phone: str) -> None:
        keyboard = await who.user.reply_keyboard() or []
        button = next(b.text for row in keyboard for b in row if b.request_contact)
        self._action(who, self.lines.shares.format(button=button))
        await who.user.send_contact(phone)
        await self.show()

    async def calls_api(self, who: Person, http, method: str, path: str, *, data: dict[str, str] | None = None,
                        params: dict[str, str] | None = None, show: tuple[str, ...] | None = None) -> list[dict]:
        """An outside platform calls the bot's Open311 API over HTTP; the call and the answer
        (``show`` picks the fields printed, so the transcript stays short) are printed."""
        shown = {k: v for k, v in (data or params or {}).items() if k != "api_key"}
        call = f"{method} {path}" + ("?" + "&".join(f"{k}={v}" for k, v in shown.items()) if params else "")
        self._action(who, self.lines.api_calls.format(call=call))
        if data:
            for key, value in shown.items():
                print(f"{_INDENT}{key}={value}")
        response = await http.request(method, path, data=data, params=params)
        body = response.json()
        picked = [{k: item.get(k) for k in show} for item in body] if show else body
        text = json.dumps(picked, ensure_ascii=False, indent=1)
        print(f"{_INDENT[:-3]}🌐 " + self.lines.api_answers.format(status=response.status_code, body=text.replace("\n", "\n" + _INDENT)))
        await self.show()
        return body

    async def joins(self, who: Person, group: Group) -> None:
        self._action(who, self.lines.joins.format(chat=self._chat_names[group.chat_id]))
        await group.add_member(who.user)

    async def time_passes(self, sweep: bool = True, **delta: float) -> None:
        """Move the clock; the sweeper then runs once, as its job would."""
        self.clock.advance(**delta)
        if sweep:
            print(f"{self._stamp()} ⏰ {self.lines.sweep}")
            await self.app.job_queue.get_jobs_by_name("sweeper")[0].run(self.app)
            await self.show(quiet_note=True)

    # --------------------------------------------------------------- waiting
    async def settle(self) -> None:
        """Wait until the bot has fetched and handled every update and sent everything it wrote."""
        world = self.emulator.telegram
        svc = self.app.bot_data["svc"]
        loop = asyncio.get_running_loop()
        end = loop.time() + SETTLE_TIMEOUT
        while loop.time() < end:
            if not await world.wait_until(lambda: not world.updates, end - loop.time()):
                break
            await self.app.update_queue.join()
            seen = world.last_seq
            async with svc.db.transaction() as conn:
                pending = await outbox.pending_count(conn)
            if pending == 0 and not world.updates and self.app.update_queue.empty():
                return
            # Something is still on its way: wake when the emulator next receives a send.
            await world.wait_until(lambda: world.last_seq != seen, 0.05)
        async with svc.db.transaction() as conn:
            waiting = await outbox.pending_count(conn)
        raise TimeoutError(f"the bot did not go idle within {SETTLE_TIMEOUT:.0f} s: {len(world.updates)} updates "
                           f"not fetched, {self.app.update_queue.qsize()} not handled, {waiting} messages unsent")

    async def latest(self, chat: User | Group, match: Callable[[Msg], bool] = lambda m: True) -> Msg:
        await self.settle()
        for msg in reversed(await chat.transcript()):
            if msg.from_bot and match(msg):
                return msg
        raise LookupError(f"no matching bot message in {self._chat_names.get(chat.chat_id, chat.chat_id)}")

    # ---------------------------------------------------------------- showing
    async def show(self, quiet_note: bool = False) -> None:
        """Print the bot's messages sent, edited or deleted since the last call, chat by chat."""
        await self.settle()
        self._seq, changed = await self.tg.activity(self._seq)
        bot_msgs = [m for m in changed if m.from_bot and m.chat_id in self._chat_names]
        bot_msgs.sort(key=lambda m: (self._chat_order[m.chat_id], m.message_id))
        for m in bot_msgs:
            fresh = m.message_id > self._seen.get(m.chat_id, 0)
            print(self._render(m, fresh))
        for m in changed:
            self._seen[m.chat_id] = max(self._seen.get(m.chat_id, 0), m.message_id)
        if quiet_note and not bot_msgs:
            print(f"{_INDENT}{self.lines.nothing_sent}")

    def _render(self, m: Msg, fresh: bool) -> str:
        where = self._chat_names[m.chat_id]
        head = self.lines.bot_sends if fresh else (self.lines.bot_deletes if m.deleted else self.lines.bot_edits)
        body = m.text if m.kind == "text" else f"[{m.kind}]" + (f" {m.caption}" if m.caption else "")
        if m.buttons:
            body += "\n" + " ".join(f"[{t}]" for t in m.button_texts())
        if m.reply_keyboard:
            body += "\n⌨ " + " ".join(f"[{b.text}]" for row in m.reply_keyboard for b in row)
        first, *rest = body.split("\n")
        return "\n".join([f"{_INDENT[:-3]}🤖 {head.format(chat=where)}{first}"] + [f"{_INDENT}{line}".rstrip() for line in rest])


def _has_button(msg: Msg, label: str) -> bool:
    try:
        msg.button(label)
    except KeyError:
        return False
    return True
