"""The emulated Telegram world: users, chats, messages, files and the bot's update queue.

:class:`Telegram` holds the state and the operations both the Bot API side (:mod:`tgemu.botapi`)
and the control side (:mod:`tgemu.control`) need; it knows nothing of HTTP. Waiters (long polls,
a test waiting for a message) sleep on :meth:`Telegram.wait_until` and are woken by
:meth:`Telegram.notify` whenever anything changes.
"""
from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
import secrets
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable
from typing import Any

from .limits import FaultInjector, FloodLimiter
from .models import ApiError, CallbackRec, CallRec, ChatRec, ControlError, FileRec, MessageRec, UserRec, chat_to_api
from .views import message_to_api, message_view

logger = logging.getLogger(__name__)

__all__ = ["Telegram", "ALL_UPDATE_TYPES", "DEFAULT_UPDATE_TYPES", "DEFAULT_TOKEN"]

# The token an emulator accepts unless told otherwise; any other token is answered 401 Unauthorized.
DEFAULT_TOKEN = "123456:TEST-TOKEN"

# Update types delivered when allowed_updates is not specified (or is empty).
ALL_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "message_reaction", "message_reaction_count",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
        "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}

SUPERGROUP_MIN_ABS = 1_000_000_000_000  # -100xxxxxxxxxx ids are supergroups


def image_size(data: bytes) -> tuple[int, int]:
    """Best-effort width/height of PNG/JPEG bytes (PhotoSize needs them)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            if data[i + 1] in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return 320, 240


class Telegram:
    """The state of one bot's Telegram, with Telegram's access rules."""

    def __init__(self, token: str = DEFAULT_TOKEN, bot_username: str = "heatbot_bot",
                 clock: Callable[[], float] = time.time, *, bot_first_name: str = "HeatBot",
                 hang_seconds: float = 60.0) -> None:
        if ":" not in token or not token.split(":", 1)[0].isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self._token = token
        self.bot_username = bot_username
        self.clock = clock
        self.hang_seconds = hang_seconds
        self.bot_user = UserRec(id=int(token.split(":", 1)[0]), first_name=bot_first_name,
                                username=bot_username, is_bot=True)
        self.flood = FloodLimiter(clock)
        self.faults = FaultInjector()
        self._stopping = asyncio.Event()
        self._changed = asyncio.Event()
        # Per chat, for waits on one chat's messages (every change to a message goes through
        # touch()): a person waiting for the bot's answer is not woken by other chats' traffic.
        self._chat_changed: dict[int, asyncio.Event] = {}
        self.reset()

    def reset(self) -> None:
        """Forget everyone and everything, as a fresh emulator would."""
        self.users: dict[int, UserRec] = {}
        self.chats: dict[int, ChatRec] = {}
        self.files: dict[str, FileRec] = {}
        self.files_by_path: dict[str, FileRec] = {}
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 1
        self.callbacks: dict[str, CallbackRec] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}     # setChatMenuButton, by private chat (None: default)
        # Bounded so long benchmarks do not grow memory without limit.
        self.calls: deque[CallRec] = deque(maxlen=100_000)
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.webhook: dict[str, Any] = {"url": ""}
        self.webhook_error: tuple[int, str] | None = None
        self.poll_generation = 0
        self._user_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self.last_seq = 0
        self.flood.reset()
        self.faults.clear()
        self.notify()

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self._token.encode())

    # ------------------------------------------------------------- waiting
    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def begin(self) -> None:
        self._stopping.clear()

    def stop_waiting(self) -> None:
        """Shutting down: every waiter answers now."""
        self._stopping.set()
        for event in self._chat_changed.values():
            event.set()
        self._chat_changed.clear()
        self.notify()

    def notify(self) -> None:
        """Wake every waiter; each re-checks its own condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float, chat_id: int | None = None) -> bool:
        """Until ``predicate()`` holds (True) or ``timeout`` seconds pass (False). With
        ``chat_id``, the predicate may depend only on that chat's messages: it is re-checked
        when one of them changes, not on every change anywhere."""
        # One deadline for the whole wait, not a wait_for (a task and a timer) per wake-up:
        # every change wakes every waiter, and with thousands of people waiting at once (a
        # city-sized bench.surge) re-arming a timer per waiter per change was most of the
        # emulator's time.
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + max(timeout, 0.0)):
                while not predicate():
                    if self._stopping.is_set():
                        return False
                    if chat_id is None:
                        await self._changed.wait()
                    else:
                        event = self._chat_changed.get(chat_id)
                        if event is None:
                            event = self._chat_changed[chat_id] = asyncio.Event()
                        await event.wait()
                return True
        except TimeoutError:
            return predicate()

    async def sleep_or_stop(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    # ------------------------------------------------------------- helpers
    def now(self) -> int:
        return int(self.clock())

    def touch(self, msg: MessageRec) -> None:
        """Stamp a message's change with the next world-wide sequence number and wake waiters."""
        msg.seq = self.last_seq = next(self._seq)
        event = self._chat_changed.pop(msg.chat_id, None)
        if event is not None:
            event.set()
        self.notify()

    def record_call(self, method: str, params: dict[str, Any], status: int, error: str | None) -> None:
        self.calls.append(CallRec(method=method, params=params, ok=status == 200, status=status,
                                  error=error, time=self.clock()))

    def chat_instance(self, chat_id: int) -> str:
        return str(zlib.crc32(f"{self.bot_user.id}:{chat_id}".encode()) * 7919 + 1)

    def message_to_api(self, msg: MessageRec) -> dict[str, Any]:
        return message_to_api(msg, self.chats[msg.chat_id], self.users, self.bot_user)

    def message_view(self, msg: MessageRec) -> dict[str, Any]:
        return message_view(msg, self.users)

    # -------------------------------------------------------------- people
    def add_user(self, first_name: str, last_name: str | None = None, username: str | None = None,
                 language_code: str | None = None, user_id: int | None = None) -> UserRec:
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self.users:
                user_id = next(self._user_ids)
        if user_id <= 0:
            raise ControlError(400, "user_id must be positive")
        if user_id in self.users or user_id == self.bot_user.id:
            raise ControlError(409, f"user {user_id} already exists")
        if not first_name:
            raise ControlError(400, "first_name is required")
        user = UserRec(id=user_id, first_name=first_name, last_name=last_name, username=username,
                       language_code=language_code)
        self.users[user_id] = user
        self.chats[user_id] = ChatRec(id=user_id, type="private", user_id=user_id)
        return user

    def add_group(self, title: str, members: list[int], chat_id: int | None = None,
                  privacy: bool = True, bot_admin: bool = False) -> ChatRec:
        if chat_id is None:
            chat_id = -(SUPERGROUP_MIN_ABS + 2_000_000_000 + next(self._group_ids))
        if chat_id >= 0:
            raise ControlError(400, "group chat ids must be negative")
        if chat_id in self.chats:
            raise ControlError(409, f"chat {chat_id} already exists")
        for uid in members:
            if uid not in self.users:
                raise ControlError(404, f"member {uid} is not a known user")
        ctype = "supergroup" if -chat_id >= SUPERGROUP_MIN_ABS else "group"
        chat = ChatRec(id=chat_id, type=ctype, title=title, members=set(members), privacy=privacy,
                       bot_admin=bot_admin)
        self.chats[chat_id] = chat
        return chat

    def upgrade_group(self, chat_id: int, actor_id: int | None = None, announce: bool = True) -> ChatRec:
        """A basic group upgraded to a supergroup, as Telegram does it: a new chat id, the same
        members; the old id refuses the bot's messages from now on (400 with
        ``parameters.migrate_to_chat_id``). With ``announce`` the bot gets the two service
        messages (``migrate_to_chat_id`` in the old group, ``migrate_from_chat_id`` in the new)."""
        old = self.get_chat(chat_id)
        if old.type != "group" or old.migrated_to is not None:
            raise ControlError(400, "only a basic group that was not upgraded yet can be upgraded")
        new_id = -(SUPERGROUP_MIN_ABS + 2_000_000_000 + next(self._group_ids))
        while new_id in self.chats:
            new_id = -(SUPERGROUP_MIN_ABS + 2_000_000_000 + next(self._group_ids))
        new = ChatRec(id=new_id, type="supergroup", title=old.title, members=set(old.members), privacy=old.privacy,
                      bot_admin=old.bot_admin, bot_status=old.bot_status)
        self.chats[new_id] = new
        old.migrated_to = new_id
        actor = actor_id if actor_id is not None else (min(old.members) if old.members else None)
        if actor is None:
            raise ControlError(400, "a group without members cannot be upgraded (nobody to do it)")
        for chat, field_name, other in ((old, "migrate_to_chat_id", new_id), (new, "migrate_from_chat_id", old.id)):
            msg = MessageRec(message_id=chat.new_message_id(), chat_id=chat.id, sender_id=actor, from_bot=False,
                             date=self.now(), **{field_name: other})
            chat.messages[msg.message_id] = msg
            # Service messages reach the bot whatever its privacy mode, while it is in the group.
            msg.delivered = announce and chat.bot_status == "member"
            if msg.delivered:
                self.enqueue_update("message", self.message_to_api(msg))
            self.touch(msg)
        return new

    def add_channel(self, title: str, chat_id: int | None = None, bot_admin: bool = True) -> ChatRec:
        """A channel; the bot sees its posts and may post only as an administrator."""
        if chat_id is None:
            chat_id = -(SUPERGROUP_MIN_ABS + 2_000_000_000 + next(self._group_ids))
        if chat_id >= 0 or -chat_id < SUPERGROUP_MIN_ABS:
            raise ControlError(400, "channel ids look like -100xxxxxxxxxx")
        if chat_id in self.chats:
            raise ControlError(409, f"chat {chat_id} already exists")
        chat = ChatRec(id=chat_id, type="channel", title=title, bot_admin=bot_admin)
        self.chats[chat_id] = chat
        return chat

    def channel_post(self, chat_id: int, text: str, entities: list[dict[str, Any]]) -> MessageRec:
        chat = self.get_chat(chat_id)
        if not chat.is_channel:
            raise ControlError(400, f"chat {chat_id} is not a channel")
        if not text.strip():
            raise ControlError(400, "text must not be empty")
        msg = MessageRec(message_id=chat.new_message_id(), chat_id=chat.id, sender_id=0, from_bot=False,
                         date=self.now(), text=text, entities=entities)
        chat.messages[msg.message_id] = msg
        msg.delivered = chat.bot_admin and chat.bot_status == "member"
        if msg.delivered:
            self.enqueue_update("channel_post", self.message_to_api(msg))
        self.touch(msg)
        return msg

    def get_user(self, user_id: int) -> UserRec:
        user = self.users.get(user_id)
        if user is None:
            raise ControlError(404, f"unknown user {user_id}")
        return user

    def get_chat(self, chat_id: int) -> ChatRec:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"unknown chat {chat_id}")
        return chat

    def get_message(self, chat: ChatRec, message_id: int) -> MessageRec:
        msg = chat.messages.get(message_id)
        if msg is None:
            raise ControlError(404, f"no message {message_id} in chat {chat.id}")
        return msg

    # ----------------------------------------------------------- the bot's side
    def chat_for_bot(self, raw: Any) -> ChatRec:
        """Resolve a Bot API chat_id and apply Telegram's access rules."""
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.is_private:
            assert chat.user_id is not None
            user = self.users[chat.user_id]
            if user.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not user.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        elif chat.is_channel:
            if chat.bot_status != "member" or not chat.bot_admin:
                raise ApiError(400, "Bad Request: need administrator rights in the channel chat")
        else:
            if chat.migrated_to is not None:
                raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                               {"migrate_to_chat_id": chat.migrated_to})
            kind = "supergroup" if chat.type == "supergroup" else "group"
            if chat.bot_status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            if chat.bot_status == "left":
                raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat

    def flood_gate(self, chat: ChatRec) -> None:
        """Refuse with 429 if over a limit, else consume one slot."""
        retry = self.flood.check(chat.id, chat.is_private)
        if retry is not None:
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        self.flood.record(chat.id)

    def add_bot_message(self, chat: ChatRec, **fields: Any) -> MessageRec:
        msg = MessageRec(message_id=chat.new_message_id(), chat_id=chat.id,
                         sender_id=self.bot_user.id, from_bot=True, date=self.now(), **fields)
        chat.messages[msg.message_id] = msg
        markup = msg.reply_markup or {}
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        self.touch(msg)
        return msg

    # --------------------------------------------------------------- files
    def new_file(self, data: bytes, folder: str, ext: str, mime: str | None = None,
                 file_name: str | None = None) -> FileRec:
        n = next(self._file_ids)
        rec = FileRec(
            file_id=f"EMU{folder[:3].upper()}{n:06d}" + secrets.token_urlsafe(12),
            file_unique_id=f"U{n:06d}{secrets.token_hex(4)}",
            file_path=f"{folder}/file_{n}{ext}", data=data, mime_type=mime, file_name=file_name,
        )
        self.files[rec.file_id] = rec
        self.files_by_path[rec.file_path] = rec
        return rec

    def photo_sizes(self, rec: FileRec) -> list[dict[str, Any]]:
        w, h = image_size(rec.data)
        return [{"file_id": rec.file_id, "file_unique_id": rec.file_unique_id,
                 "file_size": len(rec.data), "width": w, "height": h}]

    # ------------------------------------------------------------- updates
    def enqueue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if kind not in self.allowed_updates:
            logger.debug("dropping %s update: not in allowed_updates", kind)
            return None
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.updates.append(update)
        self.notify()
        return update

    def set_allowed_updates(self, raw: Any) -> None:
        if raw is None:
            return
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse allowed_updates JSON array") from None
        if not isinstance(raw, list):
            raise ApiError(400, "Bad Request: allowed_updates must be an Array")
        types = frozenset(str(t) for t in raw if str(t) in ALL_UPDATE_TYPES)
        self.allowed_updates = types or DEFAULT_UPDATE_TYPES
        self.updates = [u for u in self.updates if _update_kind(u) in self.allowed_updates]

    def confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def my_chat_member_update(self, chat: ChatRec, actor: UserRec, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"user": self.bot_user.to_api(), "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        self.enqueue_update("my_chat_member", {
            "chat": chat_to_api(chat, self.users), "from": actor.to_api(), "date": self.now(),
            "old_chat_member": member(old), "new_chat_member": member(new),
        })

    def set_webhook(self, config: dict[str, Any]) -> None:
        """Store the webhook; :class:`tgemu.webhook.WebhookPusher` notices and delivers to it."""
        self.webhook = config
        self.webhook_error = None
        self.poll_generation += 1  # a running long poll must end with a conflict
        self.notify()

    def delete_webhook(self) -> None:
        self.webhook = {"url": ""}
        self.webhook_error = None
        self.notify()


def _update_kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")
