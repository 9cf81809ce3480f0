"""Flood limits (over a fake clock) and injected faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tgemu import Emulator, EmulatorClient, SecondsClock, User
from tgemu.pytest_plugin import TEST_TOKEN

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@dataclass
class World:
    emu: Emulator
    tg: EmulatorClient
    bot: Bot
    clock: SecondsClock


@pytest_asyncio.fixture
async def world() -> AsyncIterator[World]:
    clock = SecondsClock(1_700_000_000.0)
    emu = Emulator(token=TEST_TOKEN, clock=clock)
    await emu.start()
    tg = EmulatorClient.for_emulator(emu)
    bot = Bot(TEST_TOKEN, base_url=emu.api_base_url, base_file_url=emu.file_base_url)
    try:
        async with bot:
            yield World(emu, tg, bot, clock)
    finally:
        await tg.aclose()
        await emu.stop()


async def started(w: World, name: str = "Alice") -> User:
    user = await w.tg.user(name)
    await user.send("/start")
    return user


async def refused_after(w: World, chat_id: int, text: str = "x") -> str | None:
    """Send once; return the 429 description or None when accepted."""
    try:
        await w.bot.send_message(chat_id, text)
    except RetryAfter:
        return (await w.tg.calls("sendMessage"))[-1].error
    return None


async def test_flood_limits_are_off_by_default(world: World) -> None:
    alice = await started(world)
    for i in range(10):
        await world.bot.send_message(alice.id, f"m{i}")
    assert (await world.tg.stats())["flood_429"] == 0


async def test_private_chat_limit_is_one_message_per_second(world: World) -> None:
    alice = await started(world)
    await world.tg.set_flood(enabled=True)
    assert await refused_after(world, alice.id) is None
    world.clock.advance(0.4)
    assert await refused_after(world, alice.id) == "Too Many Requests: retry after 1"
    world.clock.advance(0.6)
    assert await refused_after(world, alice.id) is None


async def test_refused_requests_do_not_consume_budget(world: World) -> None:
    alice = await started(world)
    await world.tg.set_flood(enabled=True)
    assert await refused_after(world, alice.id) is None          # t=0
    world.clock.advance(0.5)
    assert await refused_after(world, alice.id) is not None      # t=0.5 refused
    world.clock.advance(0.5)
    assert await refused_after(world, alice.id) is None          # t=1.0 only t=0 counted


async def test_429_body_carries_retry_after_parameters(world: World) -> None:
    alice = await started(world)
    await world.tg.set_flood(enabled=True, private_per_s=2)
    url = f"{world.emu.api_base_url}{TEST_TOKEN}/sendMessage"
    async with httpx.AsyncClient() as http:
        for _ in range(2):
            assert (await http.post(url, data={"chat_id": alice.id, "text": "ok"})).status_code == 200
        resp = await http.post(url, data={"chat_id": alice.id, "text": "too much"})
    assert resp.status_code == 429
    assert resp.json() == {"ok": False, "error_code": 429,
                           "description": "Too Many Requests: retry after 1",
                           "parameters": {"retry_after": 1}}


async def test_group_limit_is_twenty_messages_per_minute(world: World) -> None:
    alice = await world.tg.user("Alice")
    grp = await world.tg.group("北区维修", [alice], chat_id=-1001000000101)
    await world.tg.set_flood(enabled=True)
    for _ in range(20):
        assert await refused_after(world, grp.id) is None
        world.clock.advance(1)
    # the first message was sent 20 s ago, so its slot frees in 40 s
    assert await refused_after(world, grp.id) == "Too Many Requests: retry after 40"
    world.clock.advance(40)
    assert await refused_after(world, grp.id) is None


async def test_global_limit_is_thirty_messages_per_second(world: World) -> None:
    users = [await started(world, f"u{i}") for i in range(31)]
    await world.tg.set_flood(enabled=True)
    for user in users[:30]:
        assert await refused_after(world, user.id) is None
    assert await refused_after(world, users[30].id) == "Too Many Requests: retry after 1"
    assert (await world.tg.stats())["flood_429"] == 1


async def test_edits_count_toward_the_chat_limit_but_chat_actions_do_not(world: World) -> None:
    alice = await started(world)
    await world.tg.set_flood(enabled=True)
    sent = await world.bot.send_message(alice.id, "v1")
    assert await world.bot.send_chat_action(alice.id, "typing")
    with pytest.raises(RetryAfter):
        await sent.edit_text("v2")
    world.clock.advance(1)
    await sent.edit_text("v2")


async def test_forced_429_lasts_until_the_clock_passes_it(world: World) -> None:
    alice = await world.tg.user("Alice")
    busy = await world.tg.group("Busy", [alice], chat_id=-1001000000101)
    calm = await world.tg.group("Calm", [alice], chat_id=-1001000000102)
    await world.tg.force_429(busy, retry_after=30)
    assert await refused_after(world, busy.id) == "Too Many Requests: retry after 30"
    assert await refused_after(world, calm.id) is None  # other chats unaffected
    world.clock.advance(10)
    assert await refused_after(world, busy.id) == "Too Many Requests: retry after 20"
    world.clock.advance(20)
    assert await refused_after(world, busy.id) is None
    assert (await world.tg.stats())["flood_429"] == 2


# --------------------------------------------------------------------- faults

@pytest.mark.parametrize(
    ("kind", "status", "description"),
    [("500", 500, "Internal Server Error"), ("502", 502, "Bad Gateway")],
    ids=["500", "502"],
)
async def test_server_error_faults_answer_the_next_calls(
    emulator: Emulator, tg: EmulatorClient, tg_bot: Bot, kind: str, status: int, description: str
) -> None:
    await tg.inject_faults(kind, count=2)
    async with httpx.AsyncClient() as http:
        resp = await http.post(f"{emulator.api_base_url}{TEST_TOKEN}/getMe")
    assert resp.status_code == status
    assert resp.json()["description"] == description
    with pytest.raises(NetworkError):
        await tg_bot.get_me()
    assert (await tg_bot.get_me()).username == "heatbot_bot"  # only two were faulted


async def test_faults_can_target_specific_methods(tg: EmulatorClient, tg_bot: Bot) -> None:
    alice = await tg.user("Alice")
    await alice.send("/start")  # control calls are never faulted
    await tg.inject_faults("500", count=1, methods=["sendMessage"])
    assert await tg_bot.send_chat_action(alice.id, "typing")
    with pytest.raises(NetworkError):
        await tg_bot.send_message(alice.id, "hi")
    await tg_bot.send_message(alice.id, "hi")
    assert [c.status for c in await tg.calls("sendMessage")] == [500, 200]


async def test_dropped_connection_surfaces_as_a_network_error(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    await tg.inject_faults("drop", count=1, methods=["getMe"])
    with pytest.raises(NetworkError):
        await tg_bot.get_me()
    assert (await tg_bot.get_me()).is_bot


async def test_hanging_call_times_out_without_blocking_other_calls(
    emulator: Emulator, tg: EmulatorClient
) -> None:
    await tg.inject_faults("hang", count=1, methods=["getChat"])
    alice = await tg.user("Alice")
    await alice.send("/start")
    request = HTTPXRequest(read_timeout=0.5, connection_pool_size=4)
    async with Bot(TEST_TOKEN, base_url=emulator.api_base_url, request=request) as bot:
        hung = asyncio.create_task(bot.get_chat(alice.id))
        await asyncio.sleep(0.05)
        await bot.send_message(alice.id, "others still work")
        assert not hung.done()
        with pytest.raises(TimedOut):
            await hung
    assert (await alice.next_message(timeout=1)).text == "others still work"


async def test_clearing_faults_restores_normal_answers(tg: EmulatorClient, tg_bot: Bot) -> None:
    await tg.inject_faults("500", count=5)
    await tg.clear_faults()
    assert (await tg_bot.get_me()).is_bot


async def test_file_downloads_are_faulted_only_when_asked(
    tg: EmulatorClient, tg_bot: Bot
) -> None:
    alice = await tg.user("Alice")
    await alice.send_photo(b"\xff\xd8jpeg")
    (update,) = await tg_bot.get_updates(timeout=0)
    await tg.inject_faults("500", count=1, methods=["sendMessage"])
    tg_file = await update.message.photo[-1].get_file()
    assert bytes(await tg_file.download_as_bytearray()) == b"\xff\xd8jpeg"
    await tg.clear_faults()
    await tg.inject_faults("502", count=1, files=True)
    with pytest.raises(NetworkError):
        await tg_file.download_as_bytearray()
