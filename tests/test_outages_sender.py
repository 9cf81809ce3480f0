"""With the proposed sender extension: the progress message is edited in place, and the
centre gets the printable A4 page as a document."""
from __future__ import annotations

from bot import outages
from tests.test_outages import has, scene, start_emergency, until  # noqa: F401  (fixture)


async def test_the_progress_message_updates_in_place_and_the_centre_gets_the_printable_page(scene, tg, world):
    await start_emergency(scene)
    panel = await until(scene.dispatch, has("紧急停热 T001"))
    assert "发送中 1" in panel.text
    await scene.settle()
    await outages.sweep(scene.svc)
    edited = await scene.dispatch.wait_edited(panel)
    assert edited.message_id == panel.message_id and "已发完" in edited.text and "已送达 1" in edited.text
    north = world.groups["repair-north"]
    doc = await until(north, lambda m: m.kind == "document")
    data = await tg.file_bytes(doc.file_id)
    assert data.startswith(b"<!DOCTYPE html>") and b"size: A4" in data and "DN300".encode() in data
    await scene.dispatcher.press(edited, "已恢复供热")
    restored_doc = await until(north, lambda m: m.kind == "document")
    assert "恢复供热通知".encode() in await tg.file_bytes(restored_doc.file_id)
