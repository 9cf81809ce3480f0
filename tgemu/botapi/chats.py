"""Bot API methods about chats, commands, callback answers, the bot's profile and files."""
from __future__ import annotations

import json
import logging
import re
from typing import Any

from ..core import Telegram
from ..models import ChatRec, bad_request, chat_to_api
from ..sizes import MAX_CALLBACK_ANSWER, telegram_length
from .params import Params
from .registry import method

logger = logging.getLogger(__name__)

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")


@method("answerCallbackQuery")
async def answer_callback_query(tg: Telegram, p: Params) -> Any:
    query_id = p.str("callback_query_id")
    rec = tg.callbacks.get(query_id or "")
    if rec is None or rec.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.str("text")
    if text is not None and telegram_length(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    rec.answered = True
    rec.answer = {"text": text or None, "show_alert": p.bool("show_alert"), "url": p.str("url")}
    tg.notify()
    return True


@method("sendChatAction")
async def send_chat_action(tg: Telegram, p: Params) -> Any:
    tg.chat_for_bot(p.raw("chat_id"))
    if p.str("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def _commands_key(p: Params) -> str:
    scope = p.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True) + "|" + (p.str("language_code") or "")


@method("setMyCommands")
async def set_my_commands(tg: Telegram, p: Params) -> Any:
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
    tg.commands[_commands_key(p)] = clean
    return True


@method("getMyCommands")
async def get_my_commands(tg: Telegram, p: Params) -> Any:
    return tg.commands.get(_commands_key(p), [])


@method("deleteMyCommands")
async def delete_my_commands(tg: Telegram, p: Params) -> Any:
    tg.commands.pop(_commands_key(p), None)
    return True


@method("getChat")
async def get_chat(tg: Telegram, p: Params) -> Any:
    chat = tg.chat_for_bot(p.raw("chat_id"))
    data = chat_to_api(chat, tg.users)
    data.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={"unlimited_gifts": False, "limited_gifts": False,
                             "unique_gifts": False, "premium_subscription": False,
                             "gifts_from_channels": False},
    )
    return data


def _member_json(tg: Telegram, chat: ChatRec, user_id: int) -> dict[str, Any]:
    if user_id == tg.bot_user.id:
        status = "member" if chat.is_private else chat.bot_status
        if status == "member" and chat.bot_admin:
            status = "administrator"
        user = tg.bot_user
    else:
        user_rec = tg.users.get(user_id)
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
async def get_chat_member(tg: Telegram, p: Params) -> Any:
    chat = tg.chat_for_bot(p.raw("chat_id"))
    user_id = p.int("user_id", empty_desc="user not found")
    assert user_id is not None
    return _member_json(tg, chat, user_id)


@method("leaveChat")
async def leave_chat(tg: Telegram, p: Params) -> Any:
    chat = tg.chat_for_bot(p.raw("chat_id"))
    if chat.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    chat.bot_status = "left"
    tg.my_chat_member_update(chat, tg.bot_user, "member", "left")
    return True


# Cheap profile setters PTB apps commonly call at startup.
for _name in ("setMyDescription", "setMyShortDescription", "setMyName", "setMyDefaultAdministratorRights"):
    async def _accept(tg: Telegram, p: Params) -> Any:
        return True

    method(_name)(_accept)


@method("getMyName")
async def get_my_name(tg: Telegram, p: Params) -> Any:
    return {"name": tg.bot_user.first_name}


@method("getMyDescription")
async def get_my_description(tg: Telegram, p: Params) -> Any:
    return {"description": ""}


@method("getMyShortDescription")
async def get_my_short_description(tg: Telegram, p: Params) -> Any:
    return {"short_description": ""}


def _menu_button(raw: Any) -> dict[str, Any]:
    """A MenuButton as Telegram checks it: commands, default, or web_app with a text and an
    https URL (Telegram refuses plain http for Mini Apps)."""
    try:
        button = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise bad_request("can't parse menu button JSON object") from None
    if not isinstance(button, dict) or button.get("type") not in ("commands", "default", "web_app"):
        raise bad_request("unsupported menu button type")
    if button["type"] != "web_app":
        return {"type": button["type"]}
    text, web_app = button.get("text"), button.get("web_app")
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise bad_request("menu button text is empty")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise bad_request("BUTTON_URL_INVALID")
    return {"type": "web_app", "text": text, "web_app": {"url": url}}


@method("setChatMenuButton")
async def set_chat_menu_button(tg: Telegram, p: Params) -> Any:
    button = _menu_button(p.raw("menu_button")) if p.raw("menu_button") is not None else {"type": "default"}
    raw_chat = p.raw("chat_id")
    if raw_chat is None or raw_chat == "":
        tg.menu_buttons[None] = button
        return True
    chat = tg.chat_for_bot(raw_chat)
    if not chat.is_private:
        raise bad_request("menu button can be set only in private chats")
    tg.menu_buttons[chat.id] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(tg: Telegram, p: Params) -> Any:
    raw_chat = p.raw("chat_id")
    chat_id = tg.chat_for_bot(raw_chat).id if raw_chat not in (None, "") else None
    return tg.menu_buttons.get(chat_id) or tg.menu_buttons.get(None) or {"type": "commands"}


@method("getFile")
async def get_file(tg: Telegram, p: Params) -> Any:
    file_id = p.str("file_id")
    rec = tg.files.get(file_id or "")
    if rec is None:
        raise bad_request("invalid file_id")
    return rec.to_api()


