"""The printable A4 notice (Art. 10 (2), 14, 15: notices posted in the buildings), one page per
notice kind in each language, sent to the centres as an HTML document."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from bot import views
from bot.config import LANGUAGES
from bot.services import Services
from storage import outages as store

__all__ = ["PRINT_NOTICES", "render_print", "render_document"]


PRINT_NOTICES = ("planned", "emergency", "update", "restored", "calibration")


_PRINT_TITLES = {
    "zh": {"planned": "停热通知", "emergency": "紧急停热通知", "update": "恢复供热时间调整通知", "restored": "恢复供热通知",
           "calibration": "热量表检定通知"},
    "en": {"planned": "Heating shutdown notice", "emergency": "Emergency shutdown notice", "update": "New restoration time",
           "restored": "Heating restored", "calibration": "Heat-meter calibration notice"},
}


def render_print(svc: Services, lang: str, notice: str, n: dict[str, Any], issued: datetime) -> str:
    """The printable A4 page of one notice kind, as a whole HTML document."""
    if notice not in PRINT_NOTICES:
        raise ValueError(f"unknown notice kind {notice!r}")
    lang = lang if lang in LANGUAGES else svc.default_lang
    kind_label = svc.texts.render(lang, "outage.kind_name", kind=n["kind"])
    return svc.texts.page(lang, "outage_print", n=n, notice=notice, title=_PRINT_TITLES[lang][notice], issued=issued,
                          kind_label=kind_label)


async def render_document(conn: aiosqlite.Connection, svc: Services, spec: dict[str, Any]) -> tuple[str, bytes]:
    """For the sender: the ``"document"`` payload → (file name, UTF-8 bytes of the page)."""
    o = await store.get_outage(conn, int(spec["outage_id"]))
    if o is None:
        raise ValueError(f"no outage {spec.get('outage_id')!r}")
    lang = spec.get("lang") or svc.default_lang
    notice = spec.get("notice") or o.kind
    n = await views.notice_context(conn, lang, o)
    html = render_print(svc, lang, notice, n, svc.clock.now())
    return f"{o.number}-{notice}.html", html.encode("utf-8")
