"""The emulator: in-memory Telegram state, the aiohttp app, webhook delivery.

Bot API method handlers live in :mod:`botapi`, control routes in :mod:`control`;
this module owns the shared state and the operations both sides need.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
import re
import secrets
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from .limits import FaultInjector, FloodLimiter
from .models import (
    ApiError,
    CallbackRec,
    CallRec,
    ChatRec,
    ControlError,
    FileRec,
    MessageRec,
    UserRec,
    buttons_of,
    chat_to_api,
    reply_keyboard_of,
)

logger = logging.getLogger(__name__)

__all__ = ["Emulator", "run_standalone"]

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

_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}")
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")

SUPERGROUP_MIN_ABS = 1_000_000_000_000  # -100xxxxxxxxxx ids are supergroups


def _u16(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


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
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
            i += 2 + seg_len
    return 320, 240


class Emulator:
    """A strict, local Telegram Bot API server for one bot token."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "heatbot_bot",
        clock: Callable[[], float] = time.time,
        *,
        bot_first_name: str = "HeatBot",
        webhook_retry_delay: float = 0.2,
        hang_seconds: float = 60.0,
    ) -> None:
        if ":" not in token or not token.split(":", 1)[0].isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self._token = token
        self.bot_username = bot_username
        self.clock = clock
        self.webhook_retry_delay = webhook_retry_delay
        self.hang_seconds = hang_seconds
        self.bot_user = UserRec(
            id=int(token.split(":", 1)[0]), first_name=bot_first_name, username=bot_username, is_bot=True
        )
        self.flood = FloodLimiter(clock)
        self.faults = FaultInjector()
        self._runner: web.AppRunner | None = None
        self._site_port: int | None = None
        self._host = "127.0.0.1"
        self._stopping = asyncio.Event()
        self._changed = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._reset_state()

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        self.users: dict[int, UserRec] = {}
        self.chats: dict[int, ChatRec] = {}
        self.files: dict[str, FileRec] = {}
        self.files_by_path: dict[str, FileRec] = {}
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 1
        self.callbacks: dict[str, CallbackRec] = {}
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
        self.flood.reset()
        self.faults.clear()

    async def reset(self) -> None:
        await self._stop_webhook_task()
        self._reset_state()
        self.notify()

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self._token.encode())

    # ------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        if self._site_port is None:
            raise RuntimeError("emulator is not started")
        return self._site_port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.base_url}/file/bot"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_emu"

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def build_app(self) -> web.Application:
        from .botapi import handle_bot_request, handle_file_request
        from .control import setup_control_routes

        app = web.Application(client_max_size=60 * 1024 * 1024)

        async def bot_route(request: web.Request) -> web.StreamResponse:
            return await handle_bot_request(self, request)

        async def file_route(request: web.Request) -> web.StreamResponse:
            return await handle_file_request(self, request)

        app.router.add_route("*", "/bot{token}/{method}", bot_route)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", file_route)
        setup_control_routes(self, app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self._stopping.clear()
        self._host = host
        # access_log=None: the request line contains the bot token.
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server  # noqa: SLF001 - only way to learn the port chosen for port=0
        assert server is not None and server.sockets
        self._site_port = int(server.sockets[0].getsockname()[1])
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        if self.webhook["url"]:
            self._ensure_webhook_task()
        logger.info("Telegram emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        self._stopping.set()
        self.notify()  # wake long polls / waiters so they answer now
        await self._stop_webhook_task()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        logger.info("Telegram emulator stopped")

    # ------------------------------------------------------------- waiting
    def notify(self) -> None:
        """Wake every waiter; each re-checks its own condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            if predicate():
                return True
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping.is_set():
                return False
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except asyncio.TimeoutError:
                return predicate()

    async def sleep_or_stop(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    # -------------------------------------------------------------- helpers
    def now(self) -> int:
        return int(self.clock())

    def record_call(self, method: str, params: dict[str, Any], status: int, error: str | None) -> None:
        self.calls.append(
            CallRec(method=method, params=params, ok=status == 200, status=status, error=error,
                    time=self.clock())
        )

    def chat_instance(self, chat_id: int) -> str:
        return str(zlib.crc32(f"{self.bot_user.id}:{chat_id}".encode()) * 7919 + 1)

    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        user_id: int | None = None,
    ) -> UserRec:
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

    def add_group(
        self,
        title: str,
        members: list[int],
        chat_id: int | None = None,
        privacy: bool = True,
        bot_admin: bool = False,
    ) -> ChatRec:
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
        else:
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

    def new_file(self, data: bytes, folder: str, ext: str, mime: str | None = None,
                 file_name: str | None = None) -> FileRec:
        n = next(self._file_ids)
        file_id = f"EMU{folder[:3].upper()}{n:06d}" + secrets.token_urlsafe(12)
        rec = FileRec(
            file_id=file_id,
            file_unique_id=f"U{n:06d}{secrets.token_hex(4)}",
            file_path=f"{folder}/file_{n}{ext}",
            data=data,
            mime_type=mime,
            file_name=file_name,
        )
        self.files[file_id] = rec
        self.files_by_path[rec.file_path] = rec
        return rec

    def photo_sizes(self, rec: FileRec) -> list[dict[str, Any]]:
        w, h = image_size(rec.data)
        return [{"file_id": rec.file_id, "file_unique_id": rec.file_unique_id,
                 "file_size": len(rec.data), "width": w, "height": h}]

    # --------------------------------------------------------------- JSON views
    def sender_of(self, msg: MessageRec) -> UserRec:
        return self.bot_user if msg.from_bot else self.users[msg.sender_id]

    def message_to_api(self, msg: MessageRec, with_reply: bool = True) -> dict[str, Any]:
        chat = self.chats[msg.chat_id]
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self.sender_of(msg).to_api(),
            "chat": chat_to_api(chat, self.users),
            "date": msg.date,
        }
        if msg.text is not None:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        for name in ("photo", "document", "contact", "location", "sticker", "voice"):
            value = getattr(msg, name)
            if value is not None:
                data[name] = value
        if msg.caption:
            data["caption"] = msg.caption
            if msg.caption_entities:
                data["caption_entities"] = msg.caption_entities
        # Message.reply_markup only ever carries inline keyboards in the Bot API.
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if with_reply and msg.reply_to_message_id is not None:
            target = chat.messages.get(msg.reply_to_message_id)
            if target is not None and not target.deleted:
                data["reply_to_message"] = self.message_to_api(target, with_reply=False)
        return data

    def message_view(self, msg: MessageRec) -> dict[str, Any]:
        markup = msg.reply_markup or {}
        file_id = None
        if msg.photo:
            file_id = msg.photo[-1]["file_id"]
        elif msg.document:
            file_id = msg.document["file_id"]
        elif msg.sticker:
            file_id = msg.sticker["file_id"]
        elif msg.voice:
            file_id = msg.voice["file_id"]
        return {
            "message_id": msg.message_id,
            "chat_id": msg.chat_id,
            "from_bot": msg.from_bot,
            "sender_id": msg.sender_id,
            "sender_name": "bot" if msg.from_bot else self.users[msg.sender_id].display_name,
            "date": msg.date,
            "kind": msg.kind,
            "text": msg.text or "",
            "caption": msg.caption,
            "entities": msg.entities or msg.caption_entities,
            "has_photo": msg.photo is not None,
            "file_id": file_id,
            "buttons": buttons_of(msg.reply_markup),
            "reply_keyboard": reply_keyboard_of(msg.reply_markup),
            "remove_keyboard": bool(markup.get("remove_keyboard")),
            "force_reply": bool(markup.get("force_reply")),
            "reply_to_message_id": msg.reply_to_message_id,
            "deleted": msg.deleted,
            "version": msg.version,
            "delivered": msg.delivered,
            "contact": msg.contact,
            "location": msg.location,
        }

    # -------------------------------------------------------------- updates
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
        self.updates = [u for u in self.updates if self._update_kind(u) in self.allowed_updates]

    @staticmethod
    def _update_kind(update: dict[str, Any]) -> str:
        return next(k for k in update if k != "update_id")

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

        self.enqueue_update(
            "my_chat_member",
            {
                "chat": chat_to_api(chat, self.users),
                "from": actor.to_api(),
                "date": self.now(),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    # ------------------------------------------------------------- webhook
    def _ensure_webhook_task(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_webhooks(), name="emu-webhook")

    async def _stop_webhook_task(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def set_webhook(self, config: dict[str, Any]) -> None:
        self.webhook = config
        self.webhook_error = None
        self.poll_generation += 1  # a running long poll must end with a conflict
        self.notify()
        if self._session is not None:
            self._ensure_webhook_task()

    async def delete_webhook(self) -> None:
        self.webhook = {"url": ""}
        self.webhook_error = None
        await self._stop_webhook_task()
        self.notify()

    async def _deliver_webhooks(self) -> None:
        """POST pending updates to the webhook one at a time, in order, retrying on failure."""
        while not self._stopping.is_set() and self.webhook.get("url"):
            if not self.updates:
                await self.wait_until(lambda: bool(self.updates) or not self.webhook.get("url"), 30)
                continue
            update = self.updates[0]
            url = self.webhook["url"]
            headers = {"Content-Type": "application/json"}
            if self.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
            error: str | None = None
            try:
                assert self._session is not None
                async with self._session.post(url, data=json.dumps(update), headers=headers) as resp:
                    await resp.read()
                    if not 200 <= resp.status < 300:
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused, timeouts, ...
                error = f"Connection error: {type(exc).__name__}"
            if error is None:
                if self.updates and self.updates[0] is update:
                    self.updates.pop(0)
                self.notify()
            else:
                logger.info("webhook delivery of update %s failed: %s", update["update_id"], error)
                self.webhook_error = (self.now(), error)
                await self.sleep_or_stop(self.webhook_retry_delay)

    # ------------------------------------------------------- user actions
    def _user_entities(self, text: str) -> list[dict[str, Any]]:
        entities: list[dict[str, Any]] = []
        cmd = _COMMAND_RE.match(text)
        if cmd:
            entities.append({"type": "bot_command", "offset": 0, "length": _u16(cmd.group(0))})
        for m in _MENTION_RE.finditer(text):
            if cmd and m.start() < cmd.end():
                continue
            entities.append({"type": "mention", "offset": _u16(text[: m.start()]),
                             "length": _u16(m.group(0))})
        return entities

    def _bot_should_see(self, chat: ChatRec, msg: MessageRec) -> bool:
        if chat.is_private:
            return True
        if chat.bot_status != "member":
            return False
        if not chat.privacy:
            return True
        body = msg.text if msg.text is not None else (msg.caption or "")
        cmd = _COMMAND_RE.match(body)
        if cmd:
            target = cmd.group(0).partition("@")[2]
            if not target or target.lower() == self.bot_username.lower():
                return True
        if f"@{self.bot_username.lower()}" in body.lower():
            return True
        if msg.reply_to_message_id is not None:
            target_msg = chat.messages.get(msg.reply_to_message_id)
            if target_msg is not None and target_msg.from_bot:
                return True
        return False

    def user_send(self, user_id: int, chat_id: int | None, content: dict[str, Any],
                  reply_to: int | None = None) -> MessageRec:
        user = self.get_user(user_id)
        chat = self.get_chat(chat_id if chat_id is not None else user_id)
        if chat.is_private:
            if chat.user_id != user.id:
                raise ControlError(403, f"user {user.id} cannot write in private chat {chat.id}")
            if user.blocked:
                raise ControlError(409, f"user {user.id} has blocked the bot; unblock first")
            user.started = True
        elif user.id not in chat.members:
            raise ControlError(403, f"user {user.id} is not a member of chat {chat.id}")
        if reply_to is not None:
            target = self.get_message(chat, reply_to)
            if target.deleted:
                raise ControlError(410, f"message {reply_to} was deleted")
        msg = MessageRec(message_id=chat.new_message_id(), chat_id=chat.id, sender_id=user.id,
                         from_bot=False, date=self.now(), reply_to_message_id=reply_to)
        text = content.get("text")
        if text is not None:
            if not text.strip():
                raise ControlError(400, "text must not be empty")
            msg.text = text
            msg.entities = self._user_entities(text)
        caption = content.get("caption")
        if caption:
            msg.caption = caption
            msg.caption_entities = self._user_entities(caption)
        for name in ("photo", "document", "contact", "location", "sticker", "voice"):
            if content.get(name) is not None:
                setattr(msg, name, content[name])
        chat.messages[msg.message_id] = msg
        if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None  # clients hide a one-time keyboard after use
        msg.delivered = self._bot_should_see(chat, msg)
        if msg.delivered:
            self.enqueue_update("message", self.message_to_api(msg))
        self.notify()
        return msg

    def add_bot_message(self, chat: ChatRec, **fields: Any) -> MessageRec:
        msg = MessageRec(message_id=chat.new_message_id(), chat_id=chat.id,
                         sender_id=self.bot_user.id, from_bot=True, date=self.now(), **fields)
        chat.messages[msg.message_id] = msg
        markup = msg.reply_markup or {}
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        self.notify()
        return msg


async def run_standalone(host: str, port: int, token: str) -> None:
    """Start an emulator and serve until cancelled (Ctrl-C). Prints the URLs, never the token."""
    emu = Emulator(token=token)
    await emu.start(host=host, port=port)
    print(f"Bot API base_url:      {emu.api_base_url}")
    print(f"Bot API base_file_url: {emu.file_base_url}")
    print(f"Control API:           {emu.control_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()
