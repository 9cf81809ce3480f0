"""Bot API endpoints: request decoding, faults, and one handler per method.

PTB sends POST bodies that are either ``application/x-www-form-urlencoded``
(nested objects such as reply_markup are JSON strings) or
``multipart/form-data`` when a file is uploaded (the file part is named after
the parameter, or after an ``attach://<name>`` reference). Plain JSON bodies and
GET query strings are accepted too, as Telegram does.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from .html import EntityParseError, parse_html, strip_formatted, utf16_len
from .markup import parse_json_param, validate_reply_markup
from .models import ApiError, ChatRec, MessageRec, bad_request

if TYPE_CHECKING:
    from .server import Emulator

logger = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Upload:
    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """Typed access to Bot API parameters from any encoding."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def int(self, name: str, empty_desc: str | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if empty_desc:
                raise bad_request(empty_desc)
            return None
        if isinstance(value, bool):
            raise bad_request(f"field \"{name}\" must be of type Integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"field \"{name}\" must be of type Integer") from None

    def float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"field \"{name}\" must be of type Number") from None

    def bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        return str(value).lower() in ("true", "1")

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        if value is None:
            return None
        return parse_json_param(value, name)

    def input_file(self, name: str) -> Upload | str | None:
        """An uploaded file (direct field or attach://), or a file_id/URL string."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"{name} must be attached: file with name "
                                  f"\"{value[len('attach://'):]}\" not found in the request")
            return upload
        if isinstance(value, str):
            return value
        return None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if isinstance(value, str) and len(value) > 1000:
                value = value[:1000] + "…"
            out[key] = value
        for key, up in self.uploads.items():
            out[key] = f"<upload {up.filename or '?'} {len(up.data)} bytes>"
        return out


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            values.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[key] = value
    return Params(values, uploads)


# --------------------------------------------------------------------- answers

def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def err(error: ApiError) -> web.Response:
    return web.json_response(error.payload(), status=error.status)


async def _apply_fault(emu: Emulator, request: web.Request, kind: str) -> web.StreamResponse:
    if kind == "500":
        return err(ApiError(500, "Internal Server Error"))
    if kind == "502":
        return err(ApiError(502, "Bad Gateway"))
    if kind == "hang":
        # Hold this request only; other requests are served concurrently.
        await emu.sleep_or_stop(emu.hang_seconds)
    # "drop" (and a hang that ends): close the connection without an answer.
    if request.transport is not None:
        request.transport.close()
    raise _Dropped()


class _Dropped(Exception):
    pass


async def handle_bot_request(emu: Emulator, request: web.Request) -> web.StreamResponse:
    if not emu.token_matches(request.match_info["token"]):
        return err(ApiError(401, "Unauthorized"))
    method_name = request.match_info["method"]
    handler = METHODS.get(method_name.lower())
    if handler is None:
        emu.record_call(method_name, {}, 404, "Not Found")
        return err(ApiError(404, "Not Found"))
    canonical = CANONICAL[method_name.lower()]
    try:
        params = await read_params(request)
    except ApiError as exc:
        emu.record_call(canonical, {}, exc.status, exc.description)
        return err(exc)
    fault = emu.faults.take(canonical)
    if fault is not None:
        logger.info("injecting fault %s into %s", fault, canonical)
        status = int(fault) if fault.isdigit() else 0
        emu.record_call(canonical, params.summary(), status, f"fault: {fault}")
        try:
            return await _apply_fault(emu, request, fault)
        except _Dropped:
            # Returning a response to a closed transport is harmless; aiohttp discards it.
            return web.Response(status=500)
    try:
        result = await handler(emu, params)
    except ApiError as exc:
        emu.record_call(canonical, params.summary(), exc.status, exc.description)
        return err(exc)
    emu.record_call(canonical, params.summary(), 200, None)
    return ok(result)


async def handle_file_request(emu: Emulator, request: web.Request) -> web.StreamResponse:
    if not emu.token_matches(request.match_info["token"]):
        return err(ApiError(401, "Unauthorized"))
    fault = emu.faults.take("file", is_file=True)
    if fault is not None:
        try:
            return await _apply_fault(emu, request, fault)
        except _Dropped:
            return web.Response(status=500)
    rec = emu.files_by_path.get(request.match_info["path"])
    if rec is None:
        return err(ApiError(404, "Not Found"))
    return web.Response(body=rec.data, content_type=rec.mime_type or "application/octet-stream")


# ------------------------------------------------------------------- helpers

def format_text(
    raw: str | None, parse_mode: str | None, entities: Any, *, limit: int, empty: str | None,
    too_long: str,
) -> tuple[str, list[dict[str, Any]]]:
    """Apply parse_mode/entities, trim like Telegram and enforce length limits."""
    raw = raw or ""
    if entities is not None:
        # Explicit entities win over parse_mode, as in the Bot API.
        text, ents = raw, _validate_entities(entities, raw)
    elif parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            try:
                text, ents = parse_html(raw)
            except EntityParseError as exc:
                raise ApiError(400, exc.description) from None
        elif mode in ("markdown", "markdownv2"):
            raise bad_request(f"parse_mode {parse_mode} is not supported by the emulator; use HTML")
        else:
            raise bad_request(f"unsupported parse_mode \"{parse_mode}\"")
    else:
        text, ents = raw, []
    text, ents = strip_formatted(text, ents)
    if not text and empty is not None:
        raise bad_request(empty)
    if len(text) > limit:
        raise bad_request(too_long)
    return text, ents


def _validate_entities(raw: Any, text: str) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise bad_request("can't parse entities JSON object") from None
    if not isinstance(raw, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    out = []
    for ent in raw:
        if not isinstance(ent, dict) or not isinstance(ent.get("type"), str):
            raise bad_request("can't parse MessageEntity JSON object")
        try:
            offset, length = int(ent["offset"]), int(ent["length"])
        except (KeyError, TypeError, ValueError):
            raise bad_request("can't parse MessageEntity JSON object") from None
        if offset < 0 or length <= 0 or offset + length > total:
            continue  # Telegram silently drops entities outside the text
        out.append({**ent, "offset": offset, "length": length})
    out.sort(key=lambda e: (e["offset"], -e["length"]))
    return out


def _reply_target(emu: Emulator, chat: ChatRec, p: Params) -> int | None:
    params = p.json("reply_parameters")
    allow_missing = p.bool("allow_sending_without_reply")
    if params is not None:
        if not isinstance(params, dict) or "message_id" not in params:
            raise bad_request("can't parse reply parameters JSON object")
        target_id = int(params["message_id"])
        allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
        if params.get("chat_id") not in (None, chat.id, str(chat.id)):
            raise bad_request("cross-chat replies are not supported by the emulator")
    else:
        target_id = p.int("reply_to_message_id")  # type: ignore[assignment]
        if target_id is None:
            return None
    target = chat.messages.get(target_id)
    if target is None or target.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return target_id


def _check_common_send_params(p: Params) -> None:
    link = p.json("link_preview_options")
    if link is not None and not isinstance(link, dict):
        raise bad_request("can't parse link preview options JSON object")
    p.bool("disable_notification")


def _message_for_edit(emu: Emulator, p: Params) -> tuple[ChatRec, MessageRec]:
    if p.raw("inline_message_id") is not None:
        raise bad_request("inline messages are not supported by the emulator")
    chat = emu.chat_for_bot(p.raw("chat_id"))
    message_id = p.int("message_id", empty_desc="message identifier is not specified")
    assert message_id is not None
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise bad_request("message to edit not found")
    if not msg.from_bot:
        raise bad_request("message can't be edited")
    return chat, msg


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def _current_inline(msg: MessageRec) -> dict[str, Any] | None:
    if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
        return msg.reply_markup
    return None


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def _commit_edit(emu: Emulator, chat: ChatRec, msg: MessageRec, **changes: Any) -> dict[str, Any]:
    emu.flood_gate(chat)  # edits count toward the chat's flood limit, like on Telegram
    for key, value in changes.items():
        setattr(msg, key, value)
    msg.edit_date = emu.now()
    msg.version += 1
    emu.notify()
    return emu.message_to_api(msg)


# ------------------------------------------------------------------- methods
Handler = Callable[["Emulator", Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {}
CANONICAL: dict[str, str] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name.lower()] = fn
        CANONICAL[name.lower()] = name
        return fn

    return register


@method("getMe")
async def get_me(emu: Emulator, p: Params) -> Any:
    data = emu.bot_user.to_api()
    data.update(can_join_groups=True, can_read_all_group_messages=False,
                supports_inline_queries=False, can_connect_to_business=False,
                has_main_web_app=False)
    return data


@method("logOut")
async def log_out(emu: Emulator, p: Params) -> Any:
    return True


@method("close")
async def close(emu: Emulator, p: Params) -> Any:
    return True


@method("getUpdates")
async def get_updates(emu: Emulator, p: Params) -> Any:
    if emu.webhook.get("url"):
        raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first")
    offset = p.int("offset") or 0
    limit = p.int("limit") or 100
    limit = min(max(limit, 1), 100)
    timeout = max(p.int("timeout") or 0, 0)
    emu.set_allowed_updates(p.raw("allowed_updates"))
    emu.confirm_updates(offset)
    emu.poll_generation += 1
    generation = emu.poll_generation
    emu.notify()  # an older long poll (another bot instance) must end now
    await emu.wait_until(
        lambda: bool(emu.updates) or emu.poll_generation != generation, float(timeout)
    )
    if emu.poll_generation != generation:
        raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that "
                            "only one bot instance is running")
    return emu.updates[:limit]


@method("setWebhook")
async def set_webhook(emu: Emulator, p: Params) -> Any:
    url = (p.str("url") or "").strip()
    if p.bool("drop_pending_updates"):
        emu.updates.clear()
    emu.set_allowed_updates(p.raw("allowed_updates"))
    if not url:
        await emu.delete_webhook()
        return True
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    # Telegram demands HTTPS; plain HTTP is allowed here only to loopback so
    # the local PTB webhook server can receive updates.
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.str("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    emu.set_webhook({"url": url, "secret_token": secret,
                     "max_connections": p.int("max_connections") or 40})
    return True


@method("deleteWebhook")
async def delete_webhook(emu: Emulator, p: Params) -> Any:
    if p.bool("drop_pending_updates"):
        emu.updates.clear()
    await emu.delete_webhook()
    return True


@method("getWebhookInfo")
async def get_webhook_info(emu: Emulator, p: Params) -> Any:
    info: dict[str, Any] = {
        "url": emu.webhook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(emu.updates),
    }
    if info["url"]:
        info["max_connections"] = emu.webhook.get("max_connections", 40)
        info["allowed_updates"] = sorted(emu.allowed_updates)
    if emu.webhook_error is not None:
        info["last_error_date"], info["last_error_message"] = emu.webhook_error
    return info


@method("sendMessage")
async def send_message(emu: Emulator, p: Params) -> Any:
    chat = emu.chat_for_bot(p.raw("chat_id"))
    text, entities = format_text(p.str("text"), p.str("parse_mode"), p.raw("entities"),
                                 limit=MAX_TEXT, empty="message text is empty",
                                 too_long="message is too long")
    markup = validate_reply_markup(p.raw("reply_markup"))
    reply_to = _reply_target(emu, chat, p)
    _check_common_send_params(p)
    emu.flood_gate(chat)
    msg = emu.add_bot_message(chat, text=text, entities=entities, reply_markup=markup,
                              reply_to_message_id=reply_to)
    return emu.message_to_api(msg)


async def _send_media(emu: Emulator, p: Params, field: str) -> Any:
    chat = emu.chat_for_bot(p.raw("chat_id"))
    source = p.input_file(field)
    if source is None or source == "":
        raise bad_request(f"there is no {field} in the request")
    caption, caption_entities = format_text(
        p.str("caption"), p.str("parse_mode"), p.raw("caption_entities"),
        limit=MAX_CAPTION, empty=None, too_long="message caption is too long")
    markup = validate_reply_markup(p.raw("reply_markup"))
    reply_to = _reply_target(emu, chat, p)
    _check_common_send_params(p)
    if isinstance(source, Upload):
        if not source.data:
            raise bad_request("file must be non-empty")
        rec = None
    elif source.startswith(("http://", "https://")):
        raise bad_request("wrong file identifier/HTTP URL specified "
                          "(the emulator does not fetch URLs; upload the file)")
    else:
        rec = emu.files.get(source)
        if rec is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
    emu.flood_gate(chat)
    media: dict[str, Any] = {}
    if field == "photo":
        if rec is None:
            assert isinstance(source, Upload)
            rec = emu.new_file(source.data, "photos", ".jpg", "image/jpeg")
        media["photo"] = emu.photo_sizes(rec)
    else:
        if rec is None:
            assert isinstance(source, Upload)
            name = source.filename or "document"
            ext = "." + name.rsplit(".", 1)[1] if "." in name else ""
            rec = emu.new_file(source.data, "documents", ext,
                               source.content_type or "application/octet-stream", name)
        doc: dict[str, Any] = {"file_id": rec.file_id, "file_unique_id": rec.file_unique_id,
                               "file_size": len(rec.data)}
        if rec.file_name:
            doc["file_name"] = rec.file_name
        if rec.mime_type:
            doc["mime_type"] = rec.mime_type
        media["document"] = doc
    msg = emu.add_bot_message(chat, caption=caption or None, caption_entities=caption_entities,
                              reply_markup=markup, reply_to_message_id=reply_to, **media)
    return emu.message_to_api(msg)


@method("sendPhoto")
async def send_photo(emu: Emulator, p: Params) -> Any:
    return await _send_media(emu, p, "photo")


@method("sendDocument")
async def send_document(emu: Emulator, p: Params) -> Any:
    return await _send_media(emu, p, "document")


@method("editMessageText")
async def edit_message_text(emu: Emulator, p: Params) -> Any:
    chat, msg = _message_for_edit(emu, p)
    if msg.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = format_text(p.str("text"), p.str("parse_mode"), p.raw("entities"),
                                 limit=MAX_TEXT, empty="message text is empty",
                                 too_long="message is too long")
    markup = _inline_only(validate_reply_markup(p.raw("reply_markup")))
    if text == msg.text and entities == msg.entities and markup == _current_inline(msg):
        raise bad_request(_NOT_MODIFIED)
    return _commit_edit(emu, chat, msg, text=text, entities=entities, reply_markup=markup)


@method("editMessageCaption")
async def edit_message_caption(emu: Emulator, p: Params) -> Any:
    chat, msg = _message_for_edit(emu, p)
    if msg.photo is None and msg.document is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = format_text(p.str("caption"), p.str("parse_mode"),
                                    p.raw("caption_entities"), limit=MAX_CAPTION, empty=None,
                                    too_long="message caption is too long")
    markup = _inline_only(validate_reply_markup(p.raw("reply_markup")))
    if ((caption or None) == msg.caption and entities == msg.caption_entities
            and markup == _current_inline(msg)):
        raise bad_request(_NOT_MODIFIED)
    return _commit_edit(emu, chat, msg, caption=caption or None, caption_entities=entities,
                        reply_markup=markup)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(emu: Emulator, p: Params) -> Any:
    chat, msg = _message_for_edit(emu, p)
    markup = _inline_only(validate_reply_markup(p.raw("reply_markup")))
    if markup == _current_inline(msg):
        raise bad_request(_NOT_MODIFIED)
    return _commit_edit(emu, chat, msg, reply_markup=markup)


@method("deleteMessage")
async def delete_message(emu: Emulator, p: Params) -> Any:
    chat = emu.chat_for_bot(p.raw("chat_id"))
    message_id = p.int("message_id", empty_desc="message identifier is not specified")
    assert message_id is not None
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise bad_request("message to delete not found")
    if not chat.is_private and not msg.from_bot and not chat.bot_admin:
        raise bad_request("message can't be deleted")
    msg.deleted = True
    emu.notify()
    return True


@method("answerCallbackQuery")
async def answer_callback_query(emu: Emulator, p: Params) -> Any:
    query_id = p.str("callback_query_id")
    rec = emu.callbacks.get(query_id or "")
    if rec is None or rec.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.str("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    rec.answered = True
    rec.answer = {"text": text or None, "show_alert": p.bool("show_alert"), "url": p.str("url")}
    emu.notify()
    return True


@method("sendChatAction")
async def send_chat_action(emu: Emulator, p: Params) -> Any:
    emu.chat_for_bot(p.raw("chat_id"))
    if p.str("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def _commands_key(p: Params) -> str:
    scope = p.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True) + "|" + (p.str("language_code") or "")


@method("setMyCommands")
async def set_my_commands(emu: Emulator, p: Params) -> Any:
    commands = p.json("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON array")
    if len(commands) > 100:
        raise bad_request("too many commands")
    clean = []
    for cmd in commands:
        if not isinstance(cmd, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name = str(cmd.get("command", "")).removeprefix("/")
        desc = str(cmd.get("description", ""))
        if not _COMMAND_NAME_RE.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(desc.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": name, "description": desc})
    emu.commands[_commands_key(p)] = clean
    return True


@method("getMyCommands")
async def get_my_commands(emu: Emulator, p: Params) -> Any:
    return emu.commands.get(_commands_key(p), [])


@method("deleteMyCommands")
async def delete_my_commands(emu: Emulator, p: Params) -> Any:
    emu.commands.pop(_commands_key(p), None)
    return True


@method("getChat")
async def get_chat(emu: Emulator, p: Params) -> Any:
    chat = emu.chat_for_bot(p.raw("chat_id"))
    from .models import chat_to_api

    data = chat_to_api(chat, emu.users)
    data.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={"unlimited_gifts": False, "limited_gifts": False,
                             "unique_gifts": False, "premium_subscription": False,
                             "gifts_from_channels": False},
    )
    return data


def _member_json(emu: Emulator, chat: ChatRec, user_id: int) -> dict[str, Any]:
    if user_id == emu.bot_user.id:
        status = "member" if chat.is_private else chat.bot_status
        if status == "member" and chat.bot_admin:
            status = "administrator"
        user = emu.bot_user
    else:
        user_rec = emu.users.get(user_id)
        if user_rec is None:
            raise bad_request("user not found")
        user = user_rec
        if chat.is_private:
            status = "member" if chat.user_id == user_id else "left"
        else:
            status = "member" if user_id in chat.members else "left"
    data: dict[str, Any] = {"user": user.to_api(), "status": status}
    if status == "kicked":
        data["until_date"] = 0
    if status == "administrator":
        data.update({k: True for k in (
            "can_be_edited", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
            "can_restrict_members", "can_change_info", "can_invite_users", "can_post_stories",
            "can_edit_stories", "can_delete_stories", "can_pin_messages")})
        data.update(can_be_edited=False, is_anonymous=False, can_promote_members=False)
    return data


@method("getChatMember")
async def get_chat_member(emu: Emulator, p: Params) -> Any:
    chat = emu.chat_for_bot(p.raw("chat_id"))
    user_id = p.int("user_id", empty_desc="user not found")
    assert user_id is not None
    return _member_json(emu, chat, user_id)


@method("leaveChat")
async def leave_chat(emu: Emulator, p: Params) -> Any:
    chat = emu.chat_for_bot(p.raw("chat_id"))
    if chat.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    chat.bot_status = "left"
    emu.my_chat_member_update(chat, emu.bot_user, "member", "left")
    return True


# Cheap profile setters PTB apps commonly call at startup.
for _name in ("setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton",
              "setMyDefaultAdministratorRights"):
    async def _accept(emu: Emulator, p: Params) -> Any:
        return True

    method(_name)(_accept)


@method("getMyName")
async def get_my_name(emu: Emulator, p: Params) -> Any:
    return {"name": emu.bot_user.first_name}


@method("getMyDescription")
async def get_my_description(emu: Emulator, p: Params) -> Any:
    return {"description": ""}


@method("getMyShortDescription")
async def get_my_short_description(emu: Emulator, p: Params) -> Any:
    return {"short_description": ""}


@method("getChatMenuButton")
async def get_chat_menu_button(emu: Emulator, p: Params) -> Any:
    return {"type": "commands"}


@method("getFile")
async def get_file(emu: Emulator, p: Params) -> Any:
    file_id = p.str("file_id")
    rec = emu.files.get(file_id or "")
    if rec is None:
        raise bad_request("invalid file_id")
    return rec.to_api()


def new_callback_id() -> str:
    return str(secrets.randbits(63))
