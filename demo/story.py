"""``make demo``: the whole story through the built-in emulator. No token, no network.

Four stories, told as they happen — each person's tap or message, then what the bot sent:
a resident reports a cold flat and a crew handles it, the resident says it is still cold, the
ticket is reopened and done again, and the resident rates it; a leak nobody accepts in time is
reminded, escalated and taken by dispatch, and a delay is approved; an emergency shutdown is
announced, answers a cold-home report and is restored; the city's 12345 platform hands over a
work order through the Open311 API and reads it closed. The clock is a fake one moved forward
between steps, so the times look real and every run prints the same transcript.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import app as heatbot_app
from bot import board
from bot.clock import FakeClock
from bot.config import Config, load_config
from bot.filing import Filing, file_ticket
from rules.policy import Source
from tgemu import DEFAULT_TOKEN, Emulator, EmulatorClient

from bot.web import Listen

from .api import api_story
from .lines import LINES, Lines
from .narrator import Narrator, Person
from .outages import outage_story
from .stats import stats_story
from .world import World, build_world

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
ORG_FILE = ROOT / "org.example.toml"
TOKEN = DEFAULT_TOKEN            # the one token the emulator accepts
# The sweeper runs when the story says time has passed, never on its own: a sweep at a moment
# that depends on the machine's speed would make the transcript differ from run to run.
NEVER = 10 * 365 * 24 * 3600.0
BOARD_LOGIN = 6001               # 孙丽, a dispatcher: sees every centre on the board


# The fake clock packs hours into seconds, so Telegram's 20 messages a minute per group, kept by
# the sender on the real clock, would make the demo wait real minutes whenever a story is busy
# (and how many it hits would depend on the machine). As in bench.throughput the sender's
# budgets are lifted; the emulator's flood limits are off as well.
_UNPACED = {f"HEATBOT_SEND_{name}": "100000" for name in ("PRIVATE_PER_S", "GROUP_PER_MIN", "GLOBAL_PER_S")}


def _config(emulator: Emulator, db_path: Path, lang: str) -> Config:
    """The bot's settings, read as ``heatbot run`` reads them (HEATBOT_LANG=en for English)."""
    return load_config({
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.api_base_url,
        "HEATBOT_DB": str(db_path), "HEATBOT_ORG": str(ORG_FILE), "HEATBOT_LANG": lang,
        "HEATBOT_TZ": "Asia/Shanghai", "HEATBOT_LOG_LEVEL": "WARNING", **_UNPACED,
    }, env_file=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(lang: str = "zh", serve: bool = False) -> int:
    lines = LINES[lang]
    os.environ["TZ"] = "Asia/Shanghai"      # time stamps in the company's time zone
    time.tzset()
    logging.basicConfig(level=logging.WARNING)
    clock = FakeClock(datetime(2026, 1, 15, 1, 0, tzinfo=UTC))   # 09:00 in Shanghai
    emulator = Emulator(token=TOKEN, clock=lambda: clock.now().timestamp())
    await emulator.start()
    tg = EmulatorClient.for_emulator(emulator)
    try:
        world = await build_world(tg, ORG_FILE, lang)
        with tempfile.TemporaryDirectory() as tmp:
            app = heatbot_app.build_application(_config(emulator, Path(tmp) / "demo.db", lang), clock=clock,
                                                sweep_interval=NEVER)
            port = _free_port()          # the API's port; never printed, so the transcript is stable
            await heatbot_app.start(app, http=Listen("127.0.0.1", port))
            try:
                await _show_board(app, lines)
                n = Narrator(emulator, tg, app, clock, lines)
                for key, group in world.groups.items():
                    n.name_chat(group.chat_id, group.title)
                await cold_flat_story(n, world, lines)
                await deadline_story(n, world, lines)
                await outage_story(n, world, lines)
                await api_story(n, world, lines, f"http://127.0.0.1:{port}")
                await night_story(n, world, lines)
                await stats_story(n, world, lines)      # last: /stats week and its chart
                if serve:
                    await _open_for_the_board(app, clock, lang)
                    await _show_board(app, lines)
                    print(lines.board_serving, file=sys.stderr, flush=True)
                    await asyncio.Event().wait()      # until Ctrl-C
            finally:
                await heatbot_app.stop(app)
    finally:
        await tg.aclose()
        await emulator.stop()
    return 0


# Phoned-in reports left open after the story, so the served board has something to show: a
# late one, one due soon, and a few with time left.
_SERVE_TICKETS = (
    ("not_warm", "heping", "5-1-302", 40), ("home_leak", "xingfuli", "2-3-101", 20), ("room_temp", "yangguang", "8-2-702", 0),
    ("meter", "lijingwan", "1-1-201", 0), ("network_burst", "jianshe", "东门外主路", 0), ("not_warm", None, "红星路 18 号", 0),
)


async def _open_for_the_board(app, clock: FakeClock, lang: str) -> None:
    svc = app.bot_data["svc"]
    for category, community, address, minutes_ago in _SERVE_TICKETS:
        clock.set(clock.now() - timedelta(minutes=minutes_ago))
        async with svc.db.transaction() as conn:
            await file_ticket(conn, svc, Filing(category=category, source=Source.HOTLINE, lang=lang, name="张先生",
                                               phone="13800000000", community_id=community,
                                               community_text=None if community else "红星小区", address=address,
                                               entered_by=6001, entered_name="孙丽"))
        clock.set(clock.now() + timedelta(minutes=minutes_ago))
    svc.wake_sender()


async def _show_board(app, lines: Lines) -> None:
    """The dispatch board's address and a one-time login link for the dispatcher, on stderr:
    they change from run to run, and the transcript on stdout must not."""
    url = app.bot_data["board_url"]
    link = await board.login_link(app.bot_data["svc"], BOARD_LOGIN, url)
    print(lines.board_url.format(url=f"{url}/board/", link=link), file=sys.stderr, flush=True)


async def staff(n: Narrator, world: World, user_id: int, icon: str) -> Person:
    user = world.crew(user_id)
    return await n.person(user.first_name, icon, user=user)


async def cold_flat_story(n: Narrator, world: World, L: Lines) -> None:
    n.title(L.s1_title)
    zhang = await n.person(L.zhang, "👴", language_code=L.lang)
    north = world.groups["repair-north"]
    await n.types(zhang, "/start")
    await n.taps(zhang, L.report)
    await n.taps(zhang, L.cold)
    await n.types(zhang, L.heping_query)
    await n.taps(zhang, L.heping)
    await n.types(zhang, L.address_zhang)
    await n.shares_phone(zhang, "8613912345678")
    await n.types(zhang, "14")
    await n.types(zhang, L.description_zhang)          # photo and description: one optional step
    await n.taps(zhang, L.confirm)

    stranger = await n.person(L.stranger, "🚶", language_code=L.lang)
    await n.joins(stranger, north)
    await n.taps(stranger, L.accept, chat=north)
    wang = await staff(n, world, 5001, "👷")
    await n.time_passes(sweep=False, minutes=12)
    await n.taps(wang, L.accept, chat=north)
    await n.time_passes(sweep=False, minutes=31)
    await n.taps(wang, L.arrived, chat=north)
    await n.time_passes(sweep=False, minutes=75)
    await n.taps(wang, L.done, chat=north)
    card = await n.latest(north, lambda m: m.text.startswith("✅"))
    await n.types(wang, L.note, chat=north, reply_to=card)
    lead = await staff(n, world, 5003, "🧑‍💼")      # the centre lead hears of a reopen privately
    await n.types(lead, "/start")
    # Art. 8: asked at once. Still cold: the ticket goes back to the crew with fresh limits.
    await n.time_passes(sweep=False, minutes=40)
    await n.taps(zhang, L.not_solved)
    await n.types(zhang, L.still_cold)
    await n.time_passes(sweep=False, minutes=35)
    await n.taps(wang, L.arrived, chat=north)
    await n.time_passes(sweep=False, minutes=45)
    await n.taps(wang, L.done, chat=north)
    await n.time_passes(sweep=False, minutes=20)
    await n.taps(zhang, L.solved)
    await n.taps(zhang, L.five_stars)
    await n.types(zhang, L.comment)
    n.say(f"\n✔ {L.s1_end}")


async def deadline_story(n: Narrator, world: World, L: Lines) -> None:
    n.title(L.s2_title)
    n.clock.set(datetime(2026, 1, 15, 6, 0, tzinfo=UTC))                  # 14:00
    south, dispatch = world.groups["repair-south"], world.groups["dispatch"]
    lead = await staff(n, world, 5013, "🧑‍💼")
    await n.types(lead, "/start")
    li = await n.person(L.li, "👵", language_code=L.lang)
    await n.types(li, "/report")
    await n.taps(li, L.leak)
    await n.types(li, L.yangguang_query)
    await n.taps(li, L.yangguang)
    await n.types(li, "5-1-302")
    await n.types(li, "13700001111")
    await n.types(li, L.description_li)
    await n.taps(li, L.confirm)

    await n.time_passes(minutes=20)          # 14:20: ten minutes to the accept limit
    await n.time_passes(minutes=11)          # 14:31: the limit has passed
    await n.taps(await staff(n, world, 6001, "🧑‍💼"), L.ack, chat=dispatch)
    zhang = await staff(n, world, 5011, "👷")
    await n.time_passes(sweep=False, minutes=4)
    await n.taps(zhang, L.accept, chat=south)
    # The crew cannot make the on-site limit (15:00): they say why before it runs out (Art. 13).
    await n.time_passes(sweep=False, minutes=5)
    await n.taps(zhang, L.delay, chat=south)
    await n.types(zhang, L.delay_reason, chat=south, reply_to=await n.latest(south))
    await n.taps(await staff(n, world, 6002, "🧑‍💼"), L.approve_delay, chat=dispatch)
    await n.time_passes(minutes=30)          # 15:10: past the old limit, inside the new one: no alarm
    await n.time_passes(sweep=False, minutes=40)
    await n.taps(zhang, L.arrived, chat=south)
    await n.time_passes(sweep=False, minutes=30)
    await n.taps(zhang, L.done, chat=south)
    n.say(f"\n✔ {L.s2_end}")


async def night_story(n: Narrator, world: World, L: Lines) -> None:
    """Rosters (Art. 11, 12): a report at 02:00 goes to the night duty centre and wakes its crew;
    at 08:00 the day shift is handed over and takes it over."""
    n.title(L.s5_title)
    n.clock.set(datetime(2026, 1, 15, 18, 0, tzinfo=UTC))                 # 02:00 on the 16th
    north = world.groups["repair-north"]
    zhou = await n.person(L.zhou, "👩", language_code=L.lang)
    await n.types(zhou, "/report")
    await n.taps(zhou, L.cold)
    await n.types(zhou, L.yangguang_query)
    await n.taps(zhou, L.yangguang)
    await n.types(zhou, L.zhou_address)
    await n.types(zhou, "13600002222")
    await n.types(zhou, "13")
    await n.types(zhou, L.description_zhou)
    await n.taps(zhou, L.confirm)
    li = await staff(n, world, 5002, "👷")
    await n.time_passes(sweep=False, minutes=6)
    await n.taps(li, L.accept, chat=north)
    await n.time_passes(sweep=False, minutes=34)
    await n.taps(li, L.arrived, chat=north)
    n.clock.set(datetime(2026, 1, 16, 0, 0, tzinfo=UTC))                  # 08:00: the day shift comes on
    await n.time_passes(minutes=0)
    wang = await staff(n, world, 5001, "👷")
    await n.taps(wang, L.handover_ack, chat=north)
    await n.time_passes(minutes=15)          # 08:15: nobody took the south shift over; its lead is told
    n.say(f"\n✔ {L.s5_end}")
