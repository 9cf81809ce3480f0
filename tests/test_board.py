"""The dispatch board over HTTP (no browser): who gets in, what they see, the live push, the
CSRF token, the Mini App data check and the menu button. The browser's view is in
tests/test_board_browser.py."""
from __future__ import annotations

import asyncio
import html
import re
import time
from datetime import timedelta

import httpx
import pytest

from bot import clockwork
from bot.config import ConfigError, load_config
from bot.filing import Filing, file_ticket
from bot.web.board import COOKIE
from rules.board import InitDataRefused, check_init_data
from rules.policy import Source
from storage import tickets
from tests import story
from tests.board_helpers import base_url, board_app, init_data, login_url
from tests.conftest import START, TOKEN
from tests.test_config import base_env
from tests.test_outages import Scene as OutageScene
from tests.test_outages import start_emergency


@pytest.fixture
async def app(emulator, world, db_path, clock):
    async for a in board_app(emulator, db_path, clock):
        yield a


async def logged_in(app, user) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=base_url(app), timeout=5)
    link = await login_url(user)
    answer = await http.get(link.replace(base_url(app), ""))
    assert answer.status_code == 303 and COOKIE in answer.cookies
    return http


# ------------------------------------------------------------------- Telegram's Mini App data


def test_signed_mini_app_data_names_its_user():
    user = check_init_data(init_data(6001, START), TOKEN, START + timedelta(hours=1))
    assert user.user_id == 6001 and user.language_code == "zh"


@pytest.mark.parametrize(("data", "reason"), [
    (init_data(6001, START, token="999:ANOTHER-BOT"), "bad_hash"),                 # forged: another key
    (init_data(6001, START, user='{"id":6002}'), "bad_hash"),                      # tampered after signing
    (init_data(6001, START, hash=""), "bad_hash"),
    (init_data(6001, START - timedelta(days=1, minutes=1)), "expired"),            # older than a day
    ("user=%7B%22id%22%3A6001%7D", "bad_hash"),                                    # no hash at all
])
def test_forged_tampered_or_stale_mini_app_data_is_refused(data, reason):
    with pytest.raises(InitDataRefused) as refused:
        check_init_data(data, TOKEN, START)
    assert refused.value.reason == reason


# --------------------------------------------------------------------------------- logging in


async def test_a_login_link_works_once_and_only_for_five_minutes(app, world, clock):
    dispatcher = world.crew(6001)
    link = await login_url(dispatcher)
    async with httpx.AsyncClient(timeout=5) as http:
        first = await http.get(link)
        assert first.status_code == 303
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=43200" in cookie
        assert "secure" not in cookie                 # plain http here; over https the cookie is Secure
        assert (await http.get(link)).status_code == 403           # used
    stale = await login_url(dispatcher)
    clock.advance(minutes=6)
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(stale)).status_code == 403


async def test_only_staff_get_a_link_and_without_a_session_the_board_shows_nothing(app, world, tg):
    resident = await tg.user("张三", language_code="zh")
    await resident.send("/board")
    assert "/board/login" not in (await resident.next_message()).text
    async with httpx.AsyncClient(base_url=base_url(app), timeout=5) as http:
        page = await http.get("/board/")
        assert "/board/t/" not in page.text
        assert (await http.get("/board/rows.json")).status_code == 401
        assert (await http.get("/board/t/1")).status_code == 401
        assert (await http.get("/board/events")).status_code == 401


async def test_mini_app_data_opens_a_session_for_staff_and_not_for_others(app, clock):
    async with httpx.AsyncClient(base_url=base_url(app), timeout=5) as http:
        ok = await http.post("/board/webapp", data={"init_data": init_data(6001, clock.now())})
        assert ok.status_code == 200 and COOKIE in ok.cookies
        assert (await http.get("/board/rows.json")).status_code == 200
    async with httpx.AsyncClient(base_url=base_url(app), timeout=5) as http:
        assert (await http.post("/board/webapp", data={"init_data": init_data(424242, clock.now())})).status_code == 403
        forged = init_data(6001, clock.now(), token="1:FORGED")
        assert (await http.post("/board/webapp", data={"init_data": forged})).status_code == 401
        stale = init_data(6001, clock.now() - timedelta(days=2))
        assert (await http.post("/board/webapp", data={"init_data": stale})).status_code == 401


# ----------------------------------------------------------------------------- what they see


async def test_a_crew_sees_only_their_centre_and_acts_on_nothing(app, tg, world):
    await story.cold_flat_scene(app, tg, world)          # ticket 0001, held by repair-north
    north_crew = await logged_in(app, world.crew(5001))
    south_crew = await logged_in(app, world.crew(5011))
    dispatcher = await logged_in(app, world.crew(6001))
    try:
        assert [r[0] for r in (await north_crew.get("/board/rows.json")).json()["rows"]] == [1]
        assert (await south_crew.get("/board/rows.json")).json()["rows"] == []
        assert (await south_crew.get("/board/t/1")).status_code == 404
        page = (await north_crew.get("/board/t/1")).text
        assert "<form" not in page
        refused = await north_crew.post("/board/t/1/level", data={"csrf": "x", "value": "general"})
        assert refused.status_code == 403
        assert "<form" in (await dispatcher.get("/board/t/1")).text
    finally:
        for http in (north_crew, south_crew, dispatcher):
            await http.aclose()


async def test_an_action_without_the_sessions_csrf_token_is_refused(app, tg, world):
    scene = await story.cold_flat_scene(app, tg, world)
    http = await logged_in(app, world.crew(6001))
    try:
        answer = await http.post("/board/t/1/level", data={"csrf": "not-the-token", "value": "general"})
        assert answer.status_code == 403
        assert (await scene.ticket()).level == "major"
        assert await scene.events("set_level") == []
    finally:
        await http.aclose()


async def test_a_level_set_on_the_board_is_the_level_command_recorded_via_board(app, tg, world):
    scene = await story.cold_flat_scene(app, tg, world)
    http = await logged_in(app, world.crew(6001))
    try:
        page = (await http.get("/board/t/1")).text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        assert (await http.post("/board/t/1/level", data={"csrf": csrf, "value": "general"})).status_code == 200
        assert (await scene.ticket()).level == "general"
        [event] = await scene.events("set_level")
        assert event.actor == "孙丽" and event.detail["via"] == "board"
        told = (await scene.dispatch.next_message()).text               # dispatch's group hears it as for /level
        assert "0001" in told and "一般" in told
    finally:
        await http.aclose()


async def test_the_event_stream_says_change_within_a_second_of_a_button_press(app, tg, world):
    scene = await story.cold_flat_scene(app, tg, world)
    http = await logged_in(app, world.crew(6001))
    try:
        async with http.stream("GET", "/board/events") as stream:
            lines = stream.aiter_lines()
            assert (await anext(lines)).startswith("retry:")
            await asyncio.sleep(0.2)                   # let any earlier commit settle
            pressed = time.monotonic()
            await world.crew(5001).press(scene.card, "受理")
            while True:
                line = await asyncio.wait_for(anext(lines), 2)
                if line == "event: change":
                    break
            assert time.monotonic() - pressed < 1.0
    finally:
        await http.aclose()


async def test_with_a_public_url_staff_get_the_board_on_their_menu_button(emulator, world, db_path, clock):
    for user_id in (6001, 5001):                       # they have talked to the bot before
        await world.crew(user_id).send("/start")
    async for app in board_app(emulator, db_path, clock, public_url="https://heat.example.com"):
        button = await app.bot.get_chat_menu_button(chat_id=6001)
        assert button.type == "web_app" and button.web_app.url == "https://heat.example.com/board/"
        assert button.text == "调度看板"
        assert app.bot_data["board_url"] == "https://heat.example.com"


# ------------------------------------------------------------ dispatch's actions, as buttons


async def csrf_of(http: httpx.AsyncClient, number: int) -> str:
    return (await http.get(f"/board/t/{number}")).text.split('name="csrf" value="')[1].split('"')[0]


async def ask_return(scene, crew, reason: str):
    await crew.press(scene.card, "退单")
    prompt = await scene.north.next_message()
    await crew.send(reason, chat=scene.north, reply_to=prompt)
    await scene.north.next_message()                       # "sent to dispatch"
    return await scene.dispatch.next_message()             # the decision message with its buttons


async def test_a_return_transferred_on_the_board_moves_the_ticket_as_the_button_does(app, tg, world):
    scene = await story.cold_flat_scene(app, tg, world)
    await ask_return(scene, world.crew(5001), "不是我们片区")
    http = await logged_in(app, world.crew(6001))
    try:
        page = (await http.get("/board/t/1")).text
        assert "不是我们片区" in page
        request = page.split('name="request" value="')[1].split('"')[0]
        answer = await http.post("/board/t/1/transfer", data={"csrf": await csrf_of(http, 1), "request": request,
                                                             "centre": "repair-south"})
        assert answer.status_code == 200 and "南区维修服务中心" in answer.text
        assert (await scene.ticket()).centre_id == "repair-south"
        [moved] = await scene.events("transferred")
        assert moved.detail["to"] == "repair-south" and moved.detail["via"] == "board"
        card = await world.groups["repair-south"].next_message_where(lambda m: "0001" in m.text)
        assert "0001" in card.text                          # the new centre gets the card
    finally:
        await http.aclose()


async def test_out_of_scope_on_the_board_closes_with_the_explanation_the_resident_reads(app, tg, world):
    scene = await story.cold_flat_scene(app, tg, world)
    await ask_return(scene, world.crew(5001), "用户私改管道")
    http = await logged_in(app, world.crew(6001))
    try:
        page = (await http.get("/board/t/1")).text
        request = page.split('name="request" value="')[1].split('"')[0]
        csrf = await csrf_of(http, 1)
        empty = await http.post("/board/t/1/scope", data={"csrf": csrf, "request": request, "explanation": " "})
        assert empty.status_code == 400 and (await scene.ticket()).status != "closed"    # Art. 6: never without one
        done = await http.post("/board/t/1/scope", data={"csrf": csrf, "request": request,
                                                         "explanation": "私改管道不在保修范围，请联系物业"})
        assert done.status_code == 200
        ticket = await scene.ticket()
        assert ticket.status == "closed" and ticket.outcome == "out_of_scope"
        told = await scene.resident.next_message_where(lambda m: "私改管道不在保修范围" in m.text)
        assert "0001" in told.text
        assert [e.detail["via"] for e in await scene.events("closed_out_of_scope")] == ["board"]
    finally:
        await http.aclose()


async def test_an_escalation_is_acknowledged_on_the_board_as_by_its_button(app, tg, world, clock):
    scene = await story.cold_flat_scene(app, tg, world)
    clock.advance(minutes=35)                              # past the 30-minute accept limit (Art. 12)
    await clockwork.sweep(scene.svc)
    alert = await scene.dispatch.next_message_where(lambda m: any("知悉" in b for b in m.button_texts()))
    http = await logged_in(app, world.crew(6001))
    try:
        page = (await http.get("/board/t/1")).text
        alert_id = page.split('name="alert" value="')[1].split('"')[0]
        answer = await http.post("/board/t/1/ack", data={"csrf": await csrf_of(http, 1), "alert": alert_id})
        assert answer.status_code == 200
        [acked] = await scene.events("acknowledged")
        assert acked.actor == "孙丽" and acked.detail["via"] == "board"
        again = await http.post("/board/t/1/ack", data={"csrf": await csrf_of(http, 1), "alert": alert_id})
        assert "孙丽" in again.text                          # the button's own answer: already taken, by whom
        assert alert.text
    finally:
        await http.aclose()


async def test_an_unroutable_ticket_is_assigned_on_the_board_through_the_assign_button(app, tg, world):
    svc = app.bot_data["svc"]
    async with svc.db.transaction() as conn:
        await file_ticket(conn, svc, Filing(category="not_warm", source=Source.HOTLINE, lang="zh", name="张先生",
                                           phone="13800000000", community_text="红星小区", address="红星路 18 号",
                                           entered_by=6001, entered_name="孙丽"))
    svc.wake_sender()
    dispatch = world.groups["dispatch"]
    await dispatch.next_message_where(lambda m: any("指派" in b for b in m.button_texts()))
    http = await logged_in(app, world.crew(6001))
    try:
        assert "/assign" in (await http.get("/board/t/1")).text
        assert (await http.post("/board/t/1/assign", data={"csrf": await csrf_of(http, 1)})).status_code == 200
        await dispatch.next_message_where(lambda m: any("南区" in b for b in m.button_texts()))
        page = (await http.get("/board/t/1")).text
        request = page.split('name="request" value="')[1].split('"')[0]
        answer = await http.post("/board/t/1/transfer", data={"csrf": await csrf_of(http, 1), "request": request,
                                                             "centre": "repair-south"})
        assert answer.status_code == 200
        async with svc.db.transaction() as conn:
            assert (await tickets.get_ticket(conn, 1)).centre_id == "repair-south"
    finally:
        await http.aclose()


async def test_the_residents_photo_is_on_the_ticket_page_fetched_by_the_bot(app, tg, world):
    resident = await tg.user("张三", language_code="zh")
    await story.report_to_address(resident)
    for answer in ("3-2-501", "13912345678"):
        await resident.send(answer)
        await resident.next_message()
    await resident.next_message()
    await resident.send("14")
    await resident.next_message()
    picture = b"\xff\xd8\xff\xe0" + b"board-test-photo" * 64
    await resident.send_photo(picture, caption="暖气片冰凉")
    summary = await resident.next_message()
    await resident.press(summary, "确认提交")
    await resident.next_message()
    http = await logged_in(app, world.crew(6001))
    try:
        assert 'src="/board/t/0001/photo"' in (await http.get("/board/t/1")).text
        photo = await http.get("/board/t/0001/photo")
        assert photo.status_code == 200 and photo.content == picture
    finally:
        await http.aclose()


def test_the_public_url_is_read_without_its_trailing_slash_and_must_be_a_url():
    assert load_config(env=base_env(), env_file=None).public_url is None
    config = load_config(env=base_env(HEATBOT_PUBLIC_URL="https://heat.example.com/"), env_file=None)
    assert config.public_url == "https://heat.example.com"
    with pytest.raises(ConfigError, match="HEATBOT_PUBLIC_URL"):
        load_config(env=base_env(HEATBOT_PUBLIC_URL="heat.example.com"), env_file=None)


# ------------------------------------------------------------- the figures and outages tabs


def figures_rows(page: str, period: str) -> dict[str, list[str]]:
    """The figures table of one period (``today``/``week``): centre name -> its cells."""
    section = page.split(f'id="period-{period}"')[1].split("</section>")[0]
    rows = {}
    for tr in re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", section, re.S):
        rows[tr[0]] = [html.unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr[1], re.S)]
    return rows


async def test_the_figures_tab_counts_todays_and_this_weeks_tickets_for_each_centre(app, tg, world, clock):
    scene = await story.cold_flat_scene(app, tg, world)       # 0001 for the north centre
    clock.advance(minutes=5)
    await scene.step(world.crew(5001), "受理")                 # accepted within the 30 minutes (Art. 12)
    dispatcher = await logged_in(app, world.crew(6001))
    try:
        page = (await dispatcher.get("/board/figures")).text
        for period in ("today", "week"):
            rows = figures_rows(page, period)
            # received, accepted on time, on site, closed, late, satisfied, points
            assert rows["北区维修服务中心"][:2] == ["1", "100.0%"]
            assert rows["北区维修服务中心"][4] == "0"
            assert rows["南区维修服务中心"][0] == "0"
        assert 'aria-current="page">数据' in page
    finally:
        await dispatcher.aclose()


async def test_a_late_accept_shows_as_late_in_the_centres_figures(app, tg, world, clock):
    scene = await story.cold_flat_scene(app, tg, world)
    clock.advance(minutes=45)                                  # past the accept limit
    await clockwork.sweep(scene.svc)
    await scene.step(world.crew(5001), "受理")
    dispatcher = await logged_in(app, world.crew(6001))
    try:
        north = figures_rows((await dispatcher.get("/board/figures")).text, "today")["北区维修服务中心"]
        assert north[1] == "0.0%" and north[4] == "1"
        assert int(north[6]) != 0                                  # a late limit costs points (Ch. 4)
    finally:
        await dispatcher.aclose()


async def test_a_crew_member_sees_only_their_own_centres_figures_and_chart(app, tg, world):
    await story.cold_flat_scene(app, tg, world)
    north_crew = await logged_in(app, world.crew(5001))
    south_crew = await logged_in(app, world.crew(5011))
    try:
        north = figures_rows((await north_crew.get("/board/figures")).text, "today")
        assert list(north) == ["北区维修服务中心"] and north["北区维修服务中心"][0] == "1"
        south = figures_rows((await south_crew.get("/board/figures")).text, "week")
        assert list(south) == ["南区维修服务中心"] and south["南区维修服务中心"][0] == "0"
        chart = await south_crew.get("/board/figures/week.png")
        assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
        assert (await south_crew.get("/board/figures/month.png")).status_code == 404
    finally:
        for http in (north_crew, south_crew):
            await http.aclose()


async def test_the_figures_and_chart_are_kept_a_minute_then_counted_again(app, tg, world, clock):
    dispatcher = await logged_in(app, world.crew(6001))
    try:
        empty = (await dispatcher.get("/board/figures/today.png")).content
        scene = await story.cold_flat_scene(app, tg, world)
        await scene.step(world.crew(5001), "受理")              # an accept judged on time: a bar to draw
        assert (await dispatcher.get("/board/figures/today.png")).content == empty     # within the minute
        assert figures_rows((await dispatcher.get("/board/figures")).text, "today")["北区维修服务中心"][0] == "0"
        clock.advance(seconds=61)
        assert (await dispatcher.get("/board/figures/today.png")).content != empty     # the north centre's bar
        assert figures_rows((await dispatcher.get("/board/figures")).text, "today")["北区维修服务中心"][0] == "1"
    finally:
        await dispatcher.aclose()


async def test_strangers_and_removed_staff_see_no_figures_or_outages(app, tg, world, clock):
    async with httpx.AsyncClient(base_url=base_url(app), timeout=5) as http:
        for path in ("/board/figures", "/board/outages", "/board/figures/today.png"):
            answer = await http.get(path)
            assert answer.status_code == 401 and "北区" not in answer.text
        assert (await http.post("/board/webapp", data={"init_data": init_data(424242, clock.now())})).status_code == 403
    crew = await logged_in(app, world.crew(5011))
    svc = app.bot_data["svc"]
    async with svc.db.transaction() as conn:                   # taken off the registry after logging in
        await conn.execute("DELETE FROM staff WHERE user_id = 5011")
    try:
        for path in ("/board/figures", "/board/outages", "/board/figures/today.png"):
            answer = await crew.get(path)
            assert answer.status_code == 403 and "南区" not in answer.text
    finally:
        await crew.aclose()


async def test_an_outage_in_progress_is_on_the_outages_tab_with_its_progress_for_its_centre(app, tg, world):
    s = OutageScene(app, world, None, None)
    await start_emergency(s)                                   # 和平苑, served by the north centre
    await s.settle()
    notice = await world.groups["repair-north"].next_message_where(lambda m: "T001" in (m.text or ""))
    dispatcher = await logged_in(app, world.crew(6001))
    north_crew = await logged_in(app, world.crew(5001))
    south_crew = await logged_in(app, world.crew(5011))
    try:
        page = html.unescape((await dispatcher.get("/board/outages")).text)
        assert "紧急停热 T001" in page and "和平苑" in page and "进行中" in page
        assert "已张贴 0 / 应张贴 1" in page and "尚未恢复" in page
        assert "北区维修服务中心：待张贴" in page
        assert "T001" in (await north_crew.get("/board/outages")).text
        assert "T001" not in (await south_crew.get("/board/outages")).text
        await world.crew(5001).press(notice, "已张贴")
        page = html.unescape((await north_crew.get("/board/outages")).text)
        assert "已张贴 1 / 应张贴 1" in page and "王师傅" in page
        await s.press("紧急停热 T001", "已恢复")
        page = html.unescape((await dispatcher.get("/board/outages")).text)
        assert "已恢复" in page and "孙丽" in page and "尚未恢复" not in page
    finally:
        for http in (dispatcher, north_crew, south_crew):
            await http.aclose()


async def test_an_english_speaker_reads_the_tabs_in_english(app, tg, world, clock):
    await story.cold_flat_scene(app, tg, world)
    async with httpx.AsyncClient(base_url=base_url(app), timeout=5) as http:
        ok = await http.post("/board/webapp", data={"init_data": init_data(6001, clock.now(), lang="en")})
        assert ok.status_code == 200
        figures = html.unescape((await http.get("/board/figures")).text)
        outages = html.unescape((await http.get("/board/outages")).text)
    assert "This week" in figures and "Closed on time" in figures and "本周" not in figures
    assert re.search(r"[\u4e00-\u9fff]", figures.split("<main")[1].split('id="period-today"')[0]) is None
    assert "No outage in progress" in outages and "停热" not in outages
    assert "North" in figures and "北区" not in figures                # the centres by their English names
