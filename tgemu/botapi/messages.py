"""Bot API methods that send, edit and delete messages, with Telegram's validation."""
from __future__ import annotations

import json
import logging
from typing import Any

from ..core import Telegram, image_size
from ..html import EntityParseError, parse_html, strip_formatted
from ..markup import validate_reply_markup
from ..models import ApiError, ChatRec, MessageRec, bad_request
from ..sizes import MAX_CAPTION, MAX_TEXT, telegram_length, utf16_len
from .params import Params, Upload
from .registry import method

logger = logging.getLogger(__name__)

__all__ = ["format_text"]


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
    if telegram_length(text) > limit:  # code points, not UTF-16 units: see tgemu.sizes
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


def _reply_target(tg: Telegram, chat: ChatRec, p: Params) -> int | None:
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


def _message_for_edit(tg: Telegram, p: Params) -> tuple[ChatRec, MessageRec]:
    if p.raw("inline_message_id") is not None:
        raise bad_request("inline messages are not supported by the emulator")
    chat = tg.chat_for_bot(p.raw("chat_id"))
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


def _commit_edit(tg: Telegram, chat: ChatRec, msg: MessageRec, **changes: Any) -> dict[str, Any]:
    tg.flood_gate(chat)  # edits count toward the chat's flood limit, like on Telegram
    for key, value in changes.items():
        setattr(msg, key, value)
    msg.edit_date = tg.now()
    msg.version += 1
    tg.touch(msg)
    return tg.message_to_api(msg)


@method("sendMessage")
async def send_message(tg: Telegram, p: Params) -> Any:
    chat = tg.chat_for_bot(p.raw("chat_id"))
    text, entities = format_text(p.str("text"), p.str("parse_mode"), p.raw("entities"),
                                 limit=MAX_TEXT, empty="message text is empty",
                                 too_long="message is too long")
    markup = validate_reply_markup(p.raw("reply_markup"))
    reply_to = _reply_target(tg, chat, p)
    _check_common_send_params(p)
    tg.flood_gate(chat)
    msg = tg.add_bot_message(chat, text=text, entities=entities, reply_markup=markup,
                              reply_to_message_id=reply_to)
    return tg.message_to_api(msg)


async def _send_media(tg: Telegram, p: Params, field: str) -> Any:
    chat = tg.chat_for_bot(p.raw("chat_id"))
    source = p.input_file(field)
    if source is None or source == "":
        raise bad_request(f"there is no {field} in the request")
    caption, caption_entities = format_text(
        p.str("caption"), p.str("parse_mode"), p.raw("caption_entities"),
        limit=MAX_CAPTION, empty=None, too_long="message caption is too long")
    markup = validate_reply_markup(p.raw("reply_markup"))
    reply_to = _reply_target(tg, chat, p)
    _check_common_send_params(p)
    if isinstance(source, Upload):
        if not source.data:
            raise bad_request("file must be non-empty")
        _check_upload(field, source.data)
        rec = None
    elif source.startswith(("http://", "https://")):
        raise bad_request("wrong file identifier/HTTP URL specified "
                          "(the emulator does not fetch URLs; upload the file)")
    else:
        rec = tg.files.get(source)
        if rec is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
    tg.flood_gate(chat)
    media: dict[str, Any] = {}
    if field == "voice":
        if rec is None:
            assert isinstance(source, Upload)
            rec = tg.new_file(source.data, "voice", ".oga", "audio/ogg")
        media["voice"] = {"file_id": rec.file_id, "file_unique_id": rec.file_unique_id, "duration": 0,
                          "mime_type": rec.mime_type or "audio/ogg", "file_size": len(rec.data)}
    elif field == "photo":
        if rec is None:
            assert isinstance(source, Upload)
            rec = tg.new_file(source.data, "photos", ".jpg", "image/jpeg")
        media["photo"] = tg.photo_sizes(rec)
    else:
        if rec is None:
            assert isinstance(source, Upload)
            name = source.filename or "document"
            ext = "." + name.rsplit(".", 1)[1] if "." in name else ""
            rec = tg.new_file(source.data, "documents", ext,
                               source.content_type or "application/octet-stream", name)
        doc: dict[str, Any] = {"file_id": rec.file_id, "file_unique_id": rec.file_unique_id,
                               "file_size": len(rec.data)}
        if rec.file_name:
            doc["file_name"] = rec.file_name
        if rec.mime_type:
            doc["mime_type"] = rec.mime_type
        media["document"] = doc
    msg = tg.add_bot_message(chat, caption=caption or None, caption_entities=caption_entities,
                              reply_markup=markup, reply_to_message_id=reply_to, **media)
    return tg.message_to_api(msg)


# Bot API, sendPhoto and "Sending files": a bot uploads files of up to 50 MB; a photo must be
# at most 10 MB, width + height at most 10,000 and the ratio of its sides at most 20
# (core.telegram.org/bots/api#sendphoto, the same words as TDLib's inputMessagePhoto).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_SIDES = 10_000
MAX_PHOTO_RATIO = 20
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def _check_upload(field: str, data: bytes) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "Request Entity Too Large")
    if field != "photo":
        return
    # A photo Telegram cannot decode is refused with IMAGE_PROCESS_FAILED; too big with
    # PHOTO_SAVE_FILE_INVALID (what clients report for a photo over 10 MB; the Bot API page
    # gives only the limit); bad sides with PHOTO_INVALID_DIMENSIONS.
    webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if not (webp or data.startswith(_IMAGE_MAGIC)):
        raise bad_request("IMAGE_PROCESS_FAILED")
    if len(data) > MAX_PHOTO_BYTES:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")
    if data.startswith((b"\x89PNG", b"\xff\xd8")):
        w, h = image_size(data)
        if w <= 0 or h <= 0 or w + h > MAX_PHOTO_SIDES or max(w, h) > MAX_PHOTO_RATIO * min(w, h):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")


@method("sendPhoto")
async def send_photo(tg: Telegram, p: Params) -> Any:
    return await _send_media(tg, p, "photo")


@method("sendVoice")
async def send_voice(tg: Telegram, p: Params) -> Any:
    return await _send_media(tg, p, "voice")


@method("sendDocument")
async def send_document(tg: Telegram, p: Params) -> Any:
    return await _send_media(tg, p, "document")


@method("editMessageText")
async def edit_message_text(tg: Telegram, p: Params) -> Any:
    chat, msg = _message_for_edit(tg, p)
    if msg.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = format_text(p.str("text"), p.str("parse_mode"), p.raw("entities"),
                                 limit=MAX_TEXT, empty="message text is empty",
                                 too_long="message is too long")
    markup = _inline_only(validate_reply_markup(p.raw("reply_markup")))
    if text == msg.text and entities == msg.entities and markup == _current_inline(msg):
        raise bad_request(_NOT_MODIFIED)
    return _commit_edit(tg, chat, msg, text=text, entities=entities, reply_markup=markup)


@method("editMessageCaption")
async def edit_message_caption(tg: Telegram, p: Params) -> Any:
    chat, msg = _message_for_edit(tg, p)
    if msg.photo is None and msg.document is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = format_text(p.str("caption"), p.str("parse_mode"),
                                    p.raw("caption_entities"), limit=MAX_CAPTION, empty=None,
                                    too_long="message caption is too long")
    markup = _inline_only(validate_reply_markup(p.raw("reply_markup")))
    if ((caption or None) == msg.caption and entities == msg.caption_entities
            and markup == _current_inline(msg)):
        raise bad_request(_NOT_MODIFIED)
    return _commit_edit(tg, chat, msg, caption=caption or None, caption_entities=entities,
                        reply_markup=markup)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(tg: Telegram, p: Params) -> Any:
    chat, msg = _message_for_edit(tg, p)
    markup = _inline_only(validate_reply_markup(p.raw("reply_markup")))
    if markup == _current_inline(msg):
        raise bad_request(_NOT_MODIFIED)
    return _commit_edit(tg, chat, msg, reply_markup=markup)


@method("deleteMessage")
async def delete_message(tg: Telegram, p: Params) -> Any:
    chat = tg.chat_for_bot(p.raw("chat_id"))
    message_id = p.int("message_id", empty_desc="message identifier is not specified")
    assert message_id is not None
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise bad_request("message to delete not found")
    if not chat.is_private and not msg.from_bot and not chat.bot_admin:
        raise bad_request("message can't be deleted")
    msg.deleted = True
    tg.touch(msg)
    return True


