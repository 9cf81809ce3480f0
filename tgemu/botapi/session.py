"""Bot API methods about the bot itself and how it gets updates: getMe, getUpdates, webhooks."""
from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from ..core import Telegram
from ..models import ApiError, bad_request
from .params import Params
from .registry import method

logger = logging.getLogger(__name__)

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@method("getMe")
async def get_me(tg: Telegram, p: Params) -> Any:
    data = tg.bot_user.to_api()
    data.update(can_join_groups=True, can_read_all_group_messages=False,
                supports_inline_queries=False, can_connect_to_business=False,
                has_main_web_app=False)
    return data


@method("logOut")
async def log_out(tg: Telegram, p: Params) -> Any:
    return True


@method("close")
async def close(tg: Telegram, p: Params) -> Any:
    return True


@method("getUpdates")
async def get_updates(tg: Telegram, p: Params) -> Any:
    if tg.webhook.get("url"):
        raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first")
    offset = p.int("offset") or 0
    limit = p.int("limit") or 100
    limit = min(max(limit, 1), 100)
    timeout = max(p.int("timeout") or 0, 0)
    tg.set_allowed_updates(p.raw("allowed_updates"))
    tg.confirm_updates(offset)
    tg.poll_generation += 1
    generation = tg.poll_generation
    tg.notify()  # an older long poll (another bot instance) must end now
    await tg.wait_until(
        lambda: bool(tg.updates) or tg.poll_generation != generation, float(timeout)
    )
    if tg.poll_generation != generation:
        raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that "
                            "only one bot instance is running")
    return tg.updates[:limit]


@method("setWebhook")
async def set_webhook(tg: Telegram, p: Params) -> Any:
    url = (p.str("url") or "").strip()
    if p.bool("drop_pending_updates"):
        tg.updates.clear()
    tg.set_allowed_updates(p.raw("allowed_updates"))
    if not url:
        tg.delete_webhook()
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
    tg.set_webhook({"url": url, "secret_token": secret,
                     "max_connections": p.int("max_connections") or 40})
    return True


@method("deleteWebhook")
async def delete_webhook(tg: Telegram, p: Params) -> Any:
    if p.bool("drop_pending_updates"):
        tg.updates.clear()
    tg.delete_webhook()
    return True


@method("getWebhookInfo")
async def get_webhook_info(tg: Telegram, p: Params) -> Any:
    info: dict[str, Any] = {
        "url": tg.webhook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(tg.updates),
    }
    if info["url"]:
        info["max_connections"] = tg.webhook.get("max_connections", 40)
        info["allowed_updates"] = sorted(tg.allowed_updates)
    if tg.webhook_error is not None:
        info["last_error_date"], info["last_error_message"] = tg.webhook_error
    return info


