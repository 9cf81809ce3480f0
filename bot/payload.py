"""The neutral shape of an outgoing message as the outbox stores it (JSON)."""
from __future__ import annotations

from typing import Any

__all__ = ["message", "Buttons"]

Buttons = list[list[tuple[str, str]]]


def message(
    text: str,
    *,
    buttons: Buttons | None = None,
    reply_keyboard: list[list[dict[str, Any]]] | None = None,
    remove_keyboard: bool = False,
    photo: str | None = None,
    voice: str | None = None,
    reply_to_card: int | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": text}
    if buttons:
        payload["buttons"] = [[{"text": t, "data": d} for t, d in row] for row in buttons]
    if reply_keyboard:
        payload["reply_keyboard"] = reply_keyboard
    if remove_keyboard:
        payload["remove_keyboard"] = True
    if photo:
        payload["photo"] = photo
    if voice:
        payload["voice"] = voice
    if reply_to_card is not None:
        payload["reply_to_card"] = reply_to_card
    return payload
