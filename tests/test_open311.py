"""The Open311 GeoReport v2 API against a running bot over real HTTP: every endpoint, every
refusal the desk's issue lists, and a 12345 work order's whole story from POST to ``closed``.

The bot is the real Application with its real web server on a free port; Telegram is the
emulator, time the fake clock (Art. 4, 5, 7, 13).
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram.ext import Application

from bot.clock import FakeClock
from bot.web.open311 import BURST
from demo.world import World
from tgemu import EmulatorClient

# The demo channels' keys (org.example.toml holds only their SHA-256).
CITY = "demo-key-city-12345-0f3b9c"         # city-12345: the mayor's hotline, major (Art. 13)
CALL_CENTRE = "demo-key-callcentre-7d21e4"  # call-centre: the company's own hotline
REVOKED = "demo-key-revoked-000000"



@pytest.fixture
async def api(web_bot: Application) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client pointed at the running bot's Open311 API."""
    port = web_bot.bot_data["web"].port
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/open311/v2", timeout=10) as client:
        client.bot = web_bot    # type: ignore[attr-defined]
        client.port = port      # type: ignore[attr-defined]
        yield client


def work_order(**fields: str) -> dict[str, str]:
    values = {
        "api_key": CITY, "service_code": "not_warm", "address_string": "和平苑 3-2-501",
        "description": "12345 转来：家中暖气不热，室温 14 度", "first_name": "建华", "last_name": "王",
        "phone": "13912345678", "external_id": "GD20260115-0001",
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


async def post(api: httpx.AsyncClient, **fields: str) -> httpx.Response:
    return await api.post("/requests.json", data=work_order(**fields))


def refused(response: httpx.Response, status: int) -> str:
    """The standard's error shape with ``status``; returns the description."""
    assert response.status_code == status, response.text
    [error] = response.json()
    assert error["code"] == status and error["description"]
    return error["description"]


async def ticket_count(api: httpx.AsyncClient) -> int:
    svc = api.bot.bot_data["svc"]        # type: ignore[attr-defined]
    async with svc.db.transaction() as conn:
        async with conn.execute("SELECT COUNT(*) FROM tickets") as cur:
            return (await cur.fetchone())[0]


# ---------------------------------------------------------------- services

async def test_services_are_the_categories_in_the_requested_language(api: httpx.AsyncClient):
    zh = (await api.get("/services.json")).json()
    en = (await api.get("/services.json", params={"locale": "en"})).json()
    codes = {s["service_code"] for s in zh}
    assert "not_warm" in codes and codes == {s["service_code"] for s in en}
    by_code = {s["service_code"]: s for s in zh} | {"en:" + s["service_code"]: s for s in en}
    assert by_code["not_warm"]["service_name"] == "家中不热"
    assert by_code["en:not_warm"]["service_name"] == "Home not warm"
    assert all(s["type"] == "realtime" and s["metadata"] is False for s in zh)
    assert by_code["not_warm"]["group"] == "repair"


# ---------------------------------------------------------------- the whole story

async def test_a_12345_work_order_is_carded_at_its_centre_and_ends_closed_with_the_crews_note(
        api: httpx.AsyncClient, world: World, clock: FakeClock):
    created = await post(api)
    assert created.status_code == 200
    [answer] = created.json()
    number = answer["service_request_id"]
    assert number == "0001" and "北区维修服务中心" in answer["service_notice"]

    group = world.groups["repair-north"]
    card = await group.next_message()
    # Major because it came from 12345 (Art. 13, urgent (1)); the card says where from.
    assert "工单 0001" in card.text and "重大" in card.text
    assert "来源：12345" in card.text and "GD20260115-0001" in card.text
    assert "王 建华" in card.text and "13912345678" in card.text
    # Art. 7: a 12345 complaint is reported to leadership at once.
    assert "0001" in (await world.groups["leadership"].next_message()).text

    [status] = (await api.get(f"/requests/{number}.json", params={"api_key": CITY})).json()
    assert status["status"] == "open" and "等待" in status["status_notes"]
    assert status["agency_responsible"] == "北区维修服务中心" and status["service_code"] == "not_warm"
    assert status["address"] == "和平苑 3-2-501" and status["external_id"] == "GD20260115-0001"
    assert status["expected_datetime"].startswith("2026-01-15T09:30")        # accept within 30 min (Art. 12)

    crew = world.crew(5001)
    clock.advance(minutes=5)
    await crew.press(card, "受理")
    card = await group.wait_edited(card)
    [status] = (await api.get(f"/requests/{number}.json", params={"api_key": CITY})).json()
    assert status["status"] == "open" and "王师傅" in status["status_notes"] and "北区维修服务中心" in status["status_notes"]
    assert status["updated_datetime"].startswith("2026-01-15T09:05")

    await crew.press(card, "已到场")
    card = await group.wait_edited(card)
    [status] = (await api.get(f"/requests/{number}.json", params={"api_key": CITY})).json()
    assert "到场" in status["status_notes"]

    await crew.press(card, "处理完成")
    card = await group.wait_edited(card)
    await crew.send("更换了堵塞的阀门，室温已恢复到 20 度", chat=group, reply_to=card)
    await group.wait_edited(card)
    [status] = (await api.get(f"/requests/{number}.json", params={"api_key": CITY, "locale": "en"})).json()
    assert status["status"] == "closed" and status["expected_datetime"] is None
    assert "更换了堵塞的阀门" in status["status_notes"] and "Done" in status["status_notes"]
    assert status["agency_responsible"] == "North Repair Centre"


async def test_an_address_in_no_known_community_goes_to_dispatch_never_dropped(api: httpx.AsyncClient, world: World):
    [answer] = (await post(api, address_string="新建路 8 号 2-301", external_id="GD-X")).json()
    assert "调度" in answer["service_notice"]
    card = await world.groups["dispatch"].next_message()
    assert f"工单 {answer['service_request_id']}" in card.text and "未能自动分派" in card.text
    [status] = (await api.get(f"/requests/{answer['service_request_id']}.json", params={"api_key": CITY})).json()
    assert status["agency_responsible"] == "调度中心"


async def test_the_call_centre_key_files_a_hotline_ticket_at_its_categorys_level(api: httpx.AsyncClient, world: World):
    # A leak in a flat is a general event; from the company's own hotline it stays one.
    [answer] = (await post(api, api_key=CALL_CENTRE, service_code="home_leak", address_string="阳光花园 5-1-202")).json()
    card = await world.groups["repair-south"].next_message()
    assert f"工单 {answer['service_request_id']}" in card.text
    assert "来源：热线电话" in card.text and "一般" in card.text


# ---------------------------------------------------------------- idempotence

async def test_the_same_external_id_twice_from_one_channel_returns_the_first_ticket(api: httpx.AsyncClient, world: World):
    first = (await post(api)).json()[0]
    again = (await post(api, description="重试：同一工单")).json()[0]
    assert again["service_request_id"] == first["service_request_id"]
    assert await ticket_count(api) == 1


async def test_the_same_external_id_from_two_channels_makes_two_tickets(api: httpx.AsyncClient):
    city = (await post(api, api_key=CITY, external_id="A-1")).json()[0]
    call = (await post(api, api_key=CALL_CENTRE, external_id="A-1")).json()[0]
    assert city["service_request_id"] != call["service_request_id"]
    assert await ticket_count(api) == 2


# ---------------------------------------------------------------- following requests

async def test_requests_are_listed_by_id_status_and_date_and_only_to_the_channel_that_filed_them(
        api: httpx.AsyncClient, clock: FakeClock):
    a = (await post(api, external_id="L-1")).json()[0]["service_request_id"]
    clock.advance(hours=2)
    b = (await post(api, external_id="L-2")).json()[0]["service_request_id"]
    other = (await post(api, api_key=CALL_CENTRE, external_id="L-3")).json()[0]["service_request_id"]

    both = (await api.get("/requests.json", params={"api_key": CITY, "service_request_id": f"{a},{b}"})).json()
    assert {r["service_request_id"] for r in both} == {a, b}
    everything = (await api.get("/requests.json", params={"api_key": CITY})).json()
    assert {r["service_request_id"] for r in everything} == {a, b}          # not the call centre's
    later = (await api.get("/requests.json", params={"api_key": CITY, "start_date": "2026-01-15T10:00:00+08:00"})).json()
    assert [r["service_request_id"] for r in later] == [b]
    earlier = (await api.get("/requests.json", params={"api_key": CITY, "end_date": "2026-01-15T10:00"})).json()
    assert [r["service_request_id"] for r in earlier] == [a]
    assert (await api.get("/requests.json", params={"api_key": CITY, "status": "closed"})).json() == []
    assert len((await api.get("/requests.json", params={"api_key": CITY, "status": "open"})).json()) == 2

    refused(await api.get(f"/requests/{other}.json", params={"api_key": CITY}), 404)
    mixed = (await api.get("/requests.json", params={"api_key": CITY, "service_request_id": f"{a},{other}"})).json()
    assert [r["service_request_id"] for r in mixed] == [a]


# ---------------------------------------------------------------- refusals

async def test_a_call_without_a_key_with_a_wrong_key_or_a_revoked_key_is_forbidden(api: httpx.AsyncClient):
    assert "api_key" in refused(await post(api, api_key=None), 403)
    refused(await post(api, api_key="guess"), 403)
    assert "吊销" in refused(await post(api, api_key=REVOKED), 403)
    refused(await api.get("/requests.json"), 403)
    refused(await api.get("/requests/0001.json", params={"api_key": "guess"}), 403)
    assert await ticket_count(api) == 0


async def test_a_service_code_that_is_not_a_category_code_is_refused(api: httpx.AsyncClient):
    assert "家中不热" in refused(await post(api, service_code="家中不热"), 400)    # the label, not the code
    refused(await post(api, service_code="NOT_WARM"), 400)
    refused(await post(api, service_code=None), 400)
    assert await ticket_count(api) == 0


@pytest.mark.parametrize("typed", ["abc", "1e3", "-1", "0", "１", "99999999999999999999"])
async def test_a_request_id_that_is_not_a_ticket_number_is_a_400(api: httpx.AsyncClient, typed: str):
    refused(await api.get(f"/requests/{typed}.json", params={"api_key": CITY}), 400)


async def test_an_unknown_request_id_is_a_404_and_bad_filters_are_400(api: httpx.AsyncClient):
    assert "0042" in refused(await api.get("/requests/0042.json", params={"api_key": CITY}), 404)
    refused(await api.get("/requests.json", params={"api_key": CITY, "service_request_id": "1,x"}), 400)
    refused(await api.get("/requests.json", params={"api_key": CITY, "start_date": "yesterday"}), 400)
    refused(await api.get("/requests.json", params={"api_key": CITY, "status": "pending"}), 400)


async def test_a_body_over_64_kib_is_refused_and_creates_nothing(api: httpx.AsyncClient):
    description = "暖" * 30_000                       # 90,000 bytes once UTF-8 encoded
    refused(await post(api, description=description), 413)
    async def chunks():                            # no Content-Length: streamed
        for _ in range(80):
            yield b"x" * 1024
    response = await api.post("/requests.json", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    refused(response, 413)
    assert await ticket_count(api) == 0


async def test_a_description_over_2000_characters_is_refused(api: httpx.AsyncClient):
    assert "2000" in refused(await post(api, description="冷" * 2001), 400)
    assert (await post(api, description="冷" * 2000)).status_code == 200


async def test_malformed_form_data_is_a_400_and_creates_nothing(api: httpx.AsyncClient):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    refused(await api.post("/requests.json", json=work_order()), 400)                          # JSON, not a form
    refused(await api.post("/requests.json", content=b"api_key=%FF%FE&x=1", headers=form), 400)   # not UTF-8
    refused(await api.post("/requests.json", content=b"no pairs here", headers=form), 400)
    refused(await api.post("/requests.json", content=f"api_key={CITY}&api_key={CITY}".encode(), headers=form), 400)
    assert await ticket_count(api) == 0


async def test_a_phone_of_letters_is_refused(api: httpx.AsyncClient):
    assert "phone" in refused(await post(api, phone="call-me-maybe"), 400)
    assert await ticket_count(api) == 0


async def test_html_and_sql_in_every_field_are_kept_as_text(api: httpx.AsyncClient, world: World):
    evil = "<b>x</b>'); DROP TABLE tickets;--"
    [answer] = (await post(api, address_string=f"和平苑 {evil}", description=evil, first_name=evil[:30],
                           last_name="<i>", external_id=evil)).json()
    card = await world.groups["repair-north"].next_message()
    assert "<b>x</b>'); DROP TABLE tickets;--" in card.text          # shown as typed, not as markup
    [status] = (await api.get(f"/requests/{answer['service_request_id']}.json", params={"api_key": CITY})).json()
    assert status["description"] == evil and status["external_id"] == evil and evil in status["address"]
    assert await ticket_count(api) == 1


async def test_a_hundred_requests_in_one_second_from_one_key_are_throttled(api: httpx.AsyncClient):
    responses = await asyncio.gather(*(post(api, external_id=f"F-{i}") for i in range(100)))
    codes = [r.status_code for r in responses]
    assert codes.count(200) == BURST and codes.count(429) == 100 - BURST
    limited = next(r for r in responses if r.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1 and refused(limited, 429)
    assert await ticket_count(api) == BURST
    # Another channel is not held up by the flood.
    assert (await post(api, api_key=CALL_CENTRE, external_id="other")).status_code == 200


async def test_the_throttle_lets_a_key_in_again_once_time_has_passed(api: httpx.AsyncClient, clock: FakeClock):
    for i in range(BURST):
        assert (await post(api, external_id=f"T-{i}")).status_code == 200
    assert (await post(api, external_id="T-late")).status_code == 429
    clock.advance(seconds=1)
    assert (await post(api, external_id="T-late")).status_code == 200


async def test_the_health_check_answers_while_the_bot_serves(api: httpx.AsyncClient):
    health = await api.get(f"http://127.0.0.1:{api.port}/healthz")
    assert health.status_code == 200 and health.json()["ok"] is True


async def test_a_post_that_gives_its_locale_in_the_body_is_refused_in_that_language(api: httpx.AsyncClient):
    english = refused(await post(api, service_code="nope", locale="en"), 400)
    assert "Unknown service_code" in english
    assert "未知" in refused(await post(api, service_code="nope"), 400)


async def test_a_call_entered_with_new_is_followed_by_the_call_centre_to_closed_but_not_by_12345(
        api: httpx.AsyncClient, world: World):
    from tests.test_new_ticket import enter_call
    await enter_call(world.crew(6001), None, source="热线电话", community="阳光花园")
    south, crew = world.groups["repair-south"], world.crew(5011)
    card = await south.next_message()
    for button in ("受理", "已到场", "处理完成"):
        await crew.press(card, button)
        card = await south.wait_edited(card)
    await crew.send("散热器排气后恢复正常", chat=south, reply_to=card)
    await south.wait_edited(card)
    [status] = (await api.get("/requests/0001.json", params={"api_key": CALL_CENTRE})).json()
    assert status["status"] == "closed" and "散热器排气后恢复正常" in status["status_notes"]
    assert status["agency_responsible"] == "南区维修服务中心"
    refused(await api.get("/requests/0001.json", params={"api_key": CITY}), 404)      # not 12345's


async def test_a_residents_own_report_is_never_shown_to_a_channel(api: httpx.AsyncClient, tg: EmulatorClient):
    from tests.story import report_cold_flat
    await report_cold_flat(await tg.user("张三", language_code="zh"))
    for key in (CITY, CALL_CENTRE):
        refused(await api.get("/requests/0001.json", params={"api_key": key}), 404)
        assert (await api.get("/requests.json", params={"api_key": key})).json() == []


async def test_a_2000_character_description_fits_the_card_and_the_ledger(api: httpx.AsyncClient, world: World):
    description = "暖气片冰凉，" * 333 + "冷冷"                                # 2,000 characters
    assert len(description) == 2000
    [answer] = (await post(api, description=description, address_string="和平苑 " + "3号楼" * 60)).json()
    card = await world.groups["repair-north"].next_message()
    assert description in card.text
    dispatcher, dispatch = world.crew(6001), world.groups["dispatch"]
    await dispatcher.send(f"/ticket {answer['service_request_id']}", chat=dispatch)
    history = await dispatch.next_message_where(lambda m: "记录" in m.text)
    assert description in history.text
