"""Async Python client for the emulator's control API.

Tests read like a conversation::

    alice = await tg.user(first_name="Alice")
    await alice.send("/start")
    msg = await alice.next_message()
    answer = await alice.press(msg, "Accept")
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from .results import (
    Call,
    CallbackAnswer,
    EmulatorError,
    KeyboardButton,
    Msg,
    NoAnswerError,
    NoMessageError,
    render,
)

if TYPE_CHECKING:
    from .server import Emulator

logger = logging.getLogger(__name__)

__all__ = ["EmulatorClient", "Channel", "Group", "User"]


class _ChatHandle:
    """Shared behaviour of a chat as seen by a person: transcript, waits."""

    def __init__(self, client: EmulatorClient, chat_id: int) -> None:
        self._client = client
        self.chat_id = chat_id
        self._cursor = 0  # last bot message id returned by next_message()

    async def next_message(self, timeout: float = 5.0) -> Msg:
        """The next NEW bot message in this chat after the last one returned here."""
        msg = await self._client._wait_message(self.chat_id, self._cursor, timeout)
        self._cursor = msg.message_id
        return msg

    async def next_message_where(self, match: Callable[[Msg], bool], timeout: float = 5.0) -> Msg:
        """The next NEW bot message that matches, skipping the others (within one timeout)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            msg = await self.next_message(timeout=max(0.1, end - loop.time()))
            if match(msg):
                return msg

    async def wait_edited(self, msg: Msg, timeout: float = 5.0) -> Msg:
        return await self._client._wait_edited(msg.chat_id, msg.message_id, msg.version, timeout)

    async def get(self, message_id: int) -> Msg:
        data = await self._client._request("GET", f"/chats/{self.chat_id}/messages/{message_id}")
        return Msg.from_json(data)

    async def transcript(self, include_deleted: bool = False) -> list[Msg]:
        data = await self._client._request(
            "GET", f"/chats/{self.chat_id}/messages",
            params={"include_deleted": "1" if include_deleted else "0"})
        return [Msg.from_json(m) for m in data["messages"]]

    async def reply_keyboard(self) -> list[list[KeyboardButton]] | None:
        """The reply keyboard the person currently sees under the input field."""
        data = await self._client._request("GET", f"/chats/{self.chat_id}")
        markup = data.get("reply_keyboard")
        if not markup:
            return None
        rows = []
        for row in markup["keyboard"]:
            rows.append([KeyboardButton(b["text"], bool(b.get("request_contact")),
                                        bool(b.get("request_location"))) for b in row])
        return rows

    async def render_transcript(self, include_deleted: bool = False) -> str:
        return self._client.render(await self.transcript(include_deleted=include_deleted))

    async def delete_message(self, msg: Msg) -> Msg:
        """Delete a message as a person would (the bot is not notified)."""
        data = await self._client._request(
            "POST", f"/chats/{msg.chat_id}/messages/{msg.message_id}/delete")
        return Msg.from_json(data)


class User(_ChatHandle):
    """A human Telegram user; their private chat with the bot has ``chat_id == id``."""

    def __init__(self, client: EmulatorClient, data: dict[str, Any]) -> None:
        super().__init__(client, int(data["id"]))
        self.id = int(data["id"])
        self.first_name: str = data["first_name"]
        self.last_name: str | None = data.get("last_name")
        self.username: str | None = data.get("username")
        self.language_code: str | None = data.get("language_code")

    def __repr__(self) -> str:
        return f"User(id={self.id}, first_name={self.first_name!r})"

    async def _send(self, chat: Group | int | None, reply_to: Msg | int | None,
                    **body: Any) -> Msg:
        payload: dict[str, Any] = {"user_id": self.id, **body}
        if chat is not None:
            payload["chat_id"] = chat.chat_id if isinstance(chat, _ChatHandle) else int(chat)
        if reply_to is not None:
            payload["reply_to"] = reply_to.message_id if isinstance(reply_to, Msg) else reply_to
        return Msg.from_json(await self._client._request("POST", "/messages", json=payload))

    async def send(self, text: str, chat: Group | int | None = None,
                   reply_to: Msg | int | None = None) -> Msg:
        return await self._send(chat, reply_to, kind="text", text=text)

    async def send_contact(self, phone_number: str, *, own: bool = True,
                           first_name: str | None = None, last_name: str | None = None,
                           chat: Group | int | None = None,
                           reply_to: Msg | int | None = None) -> Msg:
        return await self._send(chat, reply_to, kind="contact", phone_number=phone_number,
                                own=own, first_name=first_name, last_name=last_name)

    async def send_location(self, latitude: float, longitude: float,
                            chat: Group | int | None = None,
                            reply_to: Msg | int | None = None) -> Msg:
        return await self._send(chat, reply_to, kind="location", latitude=latitude,
                                longitude=longitude)

    async def send_photo(self, data: bytes, caption: str | None = None,
                         chat: Group | int | None = None,
                         reply_to: Msg | int | None = None) -> Msg:
        return await self._send(chat, reply_to, kind="photo", caption=caption,
                                data_b64=base64.b64encode(data).decode())

    async def send_sticker(self, emoji: str = "👍", chat: Group | int | None = None,
                           reply_to: Msg | int | None = None) -> Msg:
        return await self._send(chat, reply_to, kind="sticker", emoji=emoji)

    async def send_voice(self, duration: int = 2, chat: Group | int | None = None,
                         reply_to: Msg | int | None = None) -> Msg:
        return await self._send(chat, reply_to, kind="voice", duration=duration)

    async def press(self, msg: Msg, button: str, timeout: float = 5.0) -> CallbackAnswer:
        """Press an inline button (exact text or unique substring); wait for the bot's answer."""
        data = await self._client._request(
            "POST", "/press",
            json={"user_id": self.id, "chat_id": msg.chat_id, "message_id": msg.message_id,
                  "button": button, "timeout": timeout},
            wait=timeout)
        return CallbackAnswer(text=data.get("text"), show_alert=bool(data.get("show_alert")),
                              url=data.get("url"))

    async def press_data(self, msg: Msg, data: str, timeout: float = 5.0) -> CallbackAnswer:
        """Send a callback query with raw ``data`` from ``msg`` (stale or forged button)."""
        answer = await self._client._request(
            "POST", "/press",
            json={"user_id": self.id, "chat_id": msg.chat_id, "message_id": msg.message_id,
                  "data": data, "timeout": timeout},
            wait=timeout)
        return CallbackAnswer(text=answer.get("text"), show_alert=bool(answer.get("show_alert")),
                              url=answer.get("url"))

    async def block(self) -> None:
        await self._client._request("POST", f"/users/{self.id}/block")

    async def unblock(self) -> None:
        await self._client._request("POST", f"/users/{self.id}/unblock")


class Group(_ChatHandle):
    """A group or supergroup chat (negative id)."""

    def __init__(self, client: EmulatorClient, data: dict[str, Any]) -> None:
        super().__init__(client, int(data["id"]))
        self.id = int(data["id"])
        self.title: str = data.get("title") or ""
        self.type: str = data["type"]

    def __repr__(self) -> str:
        return f"Group(id={self.id}, title={self.title!r})"

    async def add_member(self, user: User) -> None:
        await self._client._request("POST", f"/groups/{self.id}/members",
                                    json={"user_id": user.id})

    async def remove_bot(self, by: User | None = None) -> None:
        await self._client._request("POST", f"/groups/{self.id}/remove_bot",
                                    json={"by_user_id": by.id if by else None})

    async def upgrade(self, by: User | None = None, *, announce: bool = True) -> Group:
        """Upgrade this basic group to a supergroup (a new chat id); returns the supergroup.
        ``announce=False``: the bot does not get the service messages (it was not running), so
        it learns of the move from its next message's refusal."""
        data = await self._client._request("POST", f"/groups/{self.id}/upgrade",
                                           json={"by_user_id": by.id if by else None, "announce": announce})
        return Group(self._client, data)


class Channel(_ChatHandle):
    """A channel: posts are signed by the channel, not by a person."""

    def __init__(self, client: EmulatorClient, data: dict[str, Any]) -> None:
        super().__init__(client, int(data["id"]))
        self.id = int(data["id"])
        self.title: str = data.get("title") or ""

    async def post(self, text: str) -> Msg:
        return Msg.from_json(await self._client._request("POST", f"/channels/{self.id}/posts", json={"text": text}))


class EmulatorClient:
    """Talks to ``/_emu`` over HTTP; usable against an in-process or standalone emulator."""

    def __init__(self, control_url: str, timeout: float = 10.0) -> None:
        self.control_url = control_url.rstrip("/")
        # Every connection the pool may open is kept alive: people wait on long polls at once,
        # and with httpx's default (20 kept of 100) each poll beyond 20 opened a new TCP
        # connection, most of the emulator's time in a city-sized bench.surge.
        self._http = httpx.AsyncClient(base_url=self.control_url, timeout=timeout,
                                       limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))

    @classmethod
    def for_emulator(cls, emu: Emulator) -> EmulatorClient:
        return cls(emu.control_url)

    async def aclose(self) -> None:
        await self._http.aclose()

    close = aclose

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _request(self, verb: str, path: str, *, json: Any = None,
                       params: dict[str, Any] | None = None, wait: float = 0.0) -> Any:
        # Server-side waits must not be cut short by the HTTP client's own timeout.
        timeout = httpx.Timeout(wait + 10.0) if wait else httpx.USE_CLIENT_DEFAULT
        resp = await self._http.request(verb, path, json=json, params=params, timeout=timeout)
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {"error": resp.text}
            message = body.pop("error", resp.text) if isinstance(body, dict) else resp.text
            details = body if isinstance(body, dict) else {}
            if resp.status_code == 408:
                raise NoMessageError(resp.status_code, message, details)
            if resp.status_code == 504:
                raise NoAnswerError(resp.status_code, message, details)
            raise EmulatorError(resp.status_code, message, details)
        if resp.headers.get("content-type", "").startswith("application/json"):
            return resp.json()
        return resp.content

    # ------------------------------------------------------------- world
    async def user(self, first_name: str = "Test", *, last_name: str | None = None,
                   username: str | None = None, language_code: str | None = None,
                   user_id: int | None = None) -> User:
        data = await self._request("POST", "/users", json={
            "first_name": first_name, "last_name": last_name, "username": username,
            "language_code": language_code, "user_id": user_id})
        return User(self, data)

    async def group(self, title: str = "Group", members: list[User] | None = None, *,
                    chat_id: int | None = None, privacy: bool = True,
                    bot_admin: bool = False) -> Group:
        data = await self._request("POST", "/groups", json={
            "title": title, "members": [m.id for m in members or []], "chat_id": chat_id,
            "privacy": privacy, "bot_admin": bot_admin})
        return Group(self, data)

    async def channel(self, title: str = "Channel", *, chat_id: int | None = None, bot_admin: bool = True) -> Channel:
        data = await self._request("POST", "/channels", json={"title": title, "chat_id": chat_id, "bot_admin": bot_admin})
        return Channel(self, data)

    async def _wait_message(self, chat_id: int, after: int, timeout: float) -> Msg:
        data = await self._request("POST", f"/chats/{chat_id}/wait_message",
                                   json={"after": after, "timeout": timeout}, wait=timeout)
        return Msg.from_json(data)

    async def _wait_edited(self, chat_id: int, message_id: int, version: int,
                           timeout: float) -> Msg:
        data = await self._request(
            "POST", f"/chats/{chat_id}/messages/{message_id}/wait_edited",
            json={"version": version, "timeout": timeout}, wait=timeout)
        return Msg.from_json(data)

    # ------------------------------------------------------------ inspection
    async def calls(self, method: str | None = None) -> list[Call]:
        data = await self._request("GET", "/calls", params={"method": method} if method else None)
        return [Call(**c) for c in data]

    async def stats(self) -> dict[str, Any]:
        return await self._request("GET", "/stats")

    async def pending_updates(self) -> list[dict[str, Any]]:
        return await self._request("GET", "/updates")

    async def file_bytes(self, file_id: str) -> bytes:
        return await self._request("GET", f"/files/{file_id}")

    # --------------------------------------------------------- limits/faults
    async def set_flood(self, enabled: bool = True, private_per_s: float | None = None,
                        group_per_min: float | None = None,
                        global_per_s: float | None = None) -> dict[str, Any]:
        return await self._request("POST", "/flood", json={
            "enabled": enabled, "private_per_s": private_per_s,
            "group_per_min": group_per_min, "global_per_s": global_per_s})

    async def force_429(self, chat: Group | User | int, retry_after: int = 30) -> None:
        chat_id = chat.chat_id if isinstance(chat, _ChatHandle) else int(chat)
        await self._request("POST", "/force_429",
                            json={"chat_id": chat_id, "retry_after": retry_after})

    async def inject_faults(self, kind: str, count: int = 1, methods: list[str] | None = None,
                            files: bool = False) -> None:
        await self._request("POST", "/faults", json={"kind": kind, "count": count,
                                                      "methods": methods, "files": files})

    async def clear_faults(self) -> None:
        await self._request("DELETE", "/faults")

    async def reset(self) -> None:
        await self._request("POST", "/reset")

    # --------------------------------------------------------------- render
    render = staticmethod(render)

    # ------------------------------------------------------------- activity
    async def activity(self, after: int = 0) -> tuple[int, list[Msg]]:
        """Messages in any chat sent, edited or deleted since sequence number ``after`` (each once,
        as it is now, in the order of their last change), and the sequence number to ask from next."""
        data = await self._request("GET", "/activity", params={"after": after})
        return int(data["seq"]), [Msg.from_json(m) for m in data["messages"]]
