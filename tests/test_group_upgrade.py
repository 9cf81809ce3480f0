"""A group upgraded to a supergroup changes its chat id (Telegram's migrate_to_chat_id): the
stored id follows, what failed because of it is sent again, and dispatch is told."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot import app as heatbot_app
from bot.app import build_application
from demo.world import build_world
from storage import org as org_store
from tests.conftest import ORG_FILE, make_config
from tests.story import report_cold_flat

NORTH_SUPERGROUP = "-1001000000101"
NORTH_BASIC = "-4000000101"        # a basic group: the kind Telegram upgrades


@pytest.fixture
def org_path(tmp_path: Path) -> Path:
    path = tmp_path / "org.toml"
    path.write_text(ORG_FILE.read_text(encoding="utf-8").replace(NORTH_SUPERGROUP, NORTH_BASIC), encoding="utf-8")
    return path


@pytest.fixture
async def world(tg, org_path):
    return await build_world(tg, org_path)


@pytest.fixture
async def bot(emulator, world, db_path, clock, org_path):
    app = build_application(make_config(emulator, db_path, org_path=org_path), clock=clock)
    await heatbot_app.start(app)
    yield app
    await heatbot_app.stop(app)


def is_moved(msg) -> bool:
    return "超级群" in msg.text


async def test_an_upgrade_moves_the_centres_chat_and_the_open_cards_and_dispatch_is_told(bot, tg, world):
    north = world.groups["repair-north"]
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    await north.next_message()
    supergroup = await north.upgrade(world.crew(5003))
    told = await world.groups["dispatch"].next_message_where(is_moved)
    assert NORTH_BASIC in told.text and str(supergroup.id) in told.text and "北区维修服务中心" in told.text
    conn = bot.bot_data["svc"].db.conn
    assert (await org_store.get_centre(conn, "repair-north")).chat_id == supergroup.id
    # The open ticket's card is posted afresh where the crew can press it, and it works there.
    card = await supergroup.next_message()
    assert "0001" in card.text
    await world.crew(5001).press(card, "受理")
    assert "已受理" in (await supergroup.wait_edited(card)).text


async def test_a_message_refused_because_the_group_moved_is_sent_to_the_new_group(bot, tg, world):
    # The bot did not see the service message (announce=False): it learns of the move from
    # Telegram's refusal of the next card (ChatMigrated), and the card still arrives.
    north = world.groups["repair-north"]
    supergroup = await north.upgrade(announce=False)
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    card = await supergroup.next_message()
    assert "0001" in card.text
    await world.groups["dispatch"].next_message_where(is_moved)
    async with bot.bot_data["svc"].db.conn.execute("SELECT count(*) FROM outbox WHERE status = 'failed'") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_an_apply_of_the_old_file_follows_the_move(bot, world, org_path, db_path):
    from tests.test_cli import child_env, heatbot
    supergroup = await world.groups["repair-north"].upgrade()
    await world.groups["dispatch"].next_message_where(is_moved)
    run = await heatbot("org", "apply", str(org_path), "--db", str(db_path), env=child_env(), cwd=org_path.parent)
    assert run.code == 0 and f"applied as {supergroup.id}" in run.out
    assert (await org_store.get_centre(bot.bot_data["svc"].db.conn, "repair-north")).chat_id == supergroup.id


async def test_an_upgrade_of_a_group_we_do_not_know_is_ignored_with_a_log_line(bot, tg, world, caplog):
    stranger = await tg.user("路人")
    other = await tg.group("小区业主群", [stranger], chat_id=-4000000999)
    caplog.set_level(logging.INFO, logger="bot.chatmove")
    await other.upgrade(stranger)
    await stranger.send("/whoami")         # the bot has handled what came before
    await stranger.next_message()
    assert any("not a group of the organisation" in r.getMessage() for r in caplog.records)
    assert not any(is_moved(m) for m in await world.groups["dispatch"].transcript())
    assert await org_store.centre_by_chat(bot.bot_data["svc"].db.conn, -4000000999) is None


async def test_what_had_failed_because_the_group_moved_is_sent_again_to_the_new_group(bot, tg, world):
    # A message that failed for good on the old id (an older heatbot recorded the refusal as
    # final) is queued again once the move is known.
    from storage.outbox import Priority, enqueue_message, mark_failed
    svc = bot.bot_data["svc"]
    north = world.groups["repair-north"]
    async with svc.db.transaction() as conn:
        row = await enqueue_message(conn, int(NORTH_BASIC), {"text": "停热通知：请张贴"}, priority=Priority.BULK,
                                    purpose="notice", now=svc.clock.now())
        await mark_failed(conn, row, "Bad Request: group chat was upgraded to a supergroup chat", svc.clock.now())
    supergroup = await north.upgrade(world.crew(5003))
    resent = await supergroup.next_message()
    assert resent.text == "停热通知：请张贴"
    async with svc.db.conn.execute("SELECT chat_id FROM outbox WHERE id = ?", (row,)) as cur:
        assert (await cur.fetchone())[0] == supergroup.id     # the same row, not a copy
