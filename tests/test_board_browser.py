"""The dispatch board in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright, against the real bot, its web server, the emulator and a real SQLite file.

CI (.ci/run -> scripts/test) installs chromium when it is missing; on a machine without it
these tests are skipped, saying why. Screenshots go to var/ci/ (the README's, in docs/, are of
the demo's board: ``make demo ARGS=--serve``).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from storage import deadlines
from tests import story
from tests.board_helpers import base_url, board_app, init_data, login_url
from tests.test_outages import Scene as OutageScene
from tests.test_outages import start_emergency

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip("browser tests skipped: Debian's chromium is not installed (apt-get install chromium; "
                "CI installs it through scripts/test)", allow_module_level=True)
try:
    from playwright.async_api import async_playwright, expect
except ImportError:
    pytest.skip("browser tests skipped: playwright is not installed (pip install -e '.[test]')", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "var" / "ci"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
# Telegram's dark theme colours, as a client passes them to a Mini App.
DARK = '{"bg_color":"#212121","text_color":"#ffffff","hint_color":"#aaaaaa","link_color":"#8774e1",' \
       '"button_color":"#8774e1","button_text_color":"#ffffff","secondary_bg_color":"#181818"}'


@pytest.fixture
async def app(emulator, world, db_path, clock):
    async for a in board_app(emulator, db_path, clock):
        yield a


@pytest.fixture
async def browser():
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def open_with_link(browser, user, **context):
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(await login_url(user))
    return page


def row(page, number: str):
    return page.locator(f'#rows tr[data-number="{number}"]')


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


async def test_a_one_time_link_logs_a_browser_in_and_a_reused_link_is_refused(app, tg, world, browser):
    await story.cold_flat_scene(app, tg, world)
    dispatcher = world.crew(6001)
    link = await login_url(dispatcher)
    page = await (await browser.new_context()).new_page()
    await page.goto(link)
    assert page.url.endswith("/board/")
    await expect(row(page, "0001")).to_contain_text("和平苑")
    await expect(row(page, "0001")).to_contain_text("北区维修服务中心")
    other = await (await browser.new_context()).new_page()
    answer = await other.goto(link)
    assert answer.status == 403
    await expect(other.locator(".refused")).to_contain_text("已使用")
    assert await other.locator("#rows").count() == 0


async def test_the_mini_app_opens_with_telegrams_signed_data_and_refuses_forged_tampered_or_expired_data(
        app, tg, world, browser, clock):
    await story.cold_flat_scene(app, tg, world)
    board = base_url(app) + "/board/"

    async def mini_app(data: str):
        page = await (await browser.new_context(viewport={"width": 390, "height": 800})).new_page()
        await page.goto(f"{board}#tgWebAppData={quote(data)}&tgWebAppVersion=8.0&tgWebAppThemeParams={quote(DARK)}")
        return page

    page = await mini_app(init_data(6001, clock.now()))
    await expect(row(page, "0001")).to_be_visible()
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"   # Telegram's colours
    await page.screenshot(path=artifact("board-phone-dark.png"), full_page=True)

    refused = [init_data(6001, clock.now(), token="999:NOT-OUR-BOT"),                 # forged
               init_data(6001, clock.now(), user='{"id":6002,"first_name":"X"}'),     # tampered
               init_data(6001, clock.now().replace(year=2025))]                        # expired
    for data in refused:
        page = await mini_app(data)
        await expect(page.locator(".refused")).to_contain_text("重新登录")
        assert await page.locator("#rows").count() == 0


async def test_accept_pressed_in_telegram_changes_the_row_without_a_reload(app, tg, world, browser):
    scene = await story.cold_flat_scene(app, tg, world)
    page = await open_with_link(browser, world.crew(6001), viewport={"width": 1280, "height": 600})
    await expect(row(page, "0001")).to_contain_text("待接单")
    await page.evaluate("window.sameDocument = true")
    await scene.step(world.crew(5001), "受理")
    await expect(row(page, "0001")).to_contain_text("已接单", timeout=2000)
    await expect(row(page, "0001")).to_contain_text("王师傅")
    assert await page.evaluate("window.sameDocument === true")          # updated in place, not reloaded
    await page.screenshot(path=artifact("board.png"))
    assert artifact("board.png").stat().st_size > 10_000


async def test_a_delay_approved_on_the_board_moves_the_card_and_tells_the_resident(app, tg, world, browser):
    scene = await story.cold_flat_scene(app, tg, world)
    crew = world.crew(5001)
    await scene.step(crew, "受理")
    await crew.press(scene.card, "申请延时")
    prompt = await scene.north.next_message()
    await crew.send("等待配件 11:30", chat=scene.north, reply_to=prompt)
    await scene.north.next_message()                                   # "sent to dispatch"
    ask = await scene.dispatch.next_message()
    assert "延时申请" in ask.text

    page = await open_with_link(browser, world.crew(6001))
    await page.goto(base_url(app) + "/board/t/1")
    await page.get_by_role("button", name="批准延期").click()
    await expect(page.locator(".answer")).to_contain_text("已批准")

    card = await scene.north.wait_edited(scene.card)
    assert "11:30" in card.text                                        # the Telegram card shows the new limit
    assert "已批准" in (await scene.north.next_message()).text
    assert "11:30" in (await scene.resident.next_message()).text       # the resident hears the new on-site time
    onsite = await deadlines.get(scene.conn, 1, "onsite")
    assert onsite.delayed
    [approved] = await scene.events("delay_approved")
    assert approved.actor == "孙丽" and approved.detail["via"] == "board"
    await expect(page.locator("table.ledger")).to_contain_text("批准延时")
    # The decision message in dispatch's group is settled, as after a press there.
    settled = await scene.dispatch.wait_edited(ask)
    assert settled.button_texts() == [] and "孙丽" in settled.text


async def test_a_crew_member_sees_no_other_centre_and_no_action_button(app, tg, world, browser):
    await story.cold_flat_scene(app, tg, world)                        # held by the north centre
    south = await open_with_link(browser, world.crew(5011))
    await expect(south.locator("#rows tr.empty")).to_be_visible()
    assert await row(south, "0001").count() == 0
    assert (await south.goto(south.url.replace("/board/", "/board/t/1"))).status == 404

    north = await open_with_link(browser, world.crew(5001))
    await expect(row(north, "0001")).to_be_visible()
    await north.goto(north.url.replace("/board/", "/board/t/1"))
    await expect(north.locator(".card")).to_contain_text("0001")
    assert await north.locator("form").count() == 0
    assert await north.get_by_role("button").count() == 0


async def test_the_board_is_usable_by_keyboard(app, tg, world, browser):
    await story.cold_flat_scene(app, tg, world)
    page = await open_with_link(browser, world.crew(6001))
    for _ in range(12):                                                # the filters, then the first ticket's link
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.getAttribute('href')") == "/board/t/0001":
            break
    else:
        pytest.fail("Tab never reached the first ticket's link")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/board/t/0001")
    await expect(page.locator(".card")).to_contain_text("0001")


async def tab_to(page, href: str, presses: int = 6) -> None:
    """Press Tab until the link to ``href`` has the focus, then Enter."""
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.getAttribute('href')") == href:
            await page.keyboard.press("Enter")
            await page.wait_for_url("**" + href)
            return
    pytest.fail(f"Tab never reached the link to {href}")


async def test_the_figures_and_outages_tabs_are_reached_by_keyboard_and_the_chart_loads(app, tg, world, browser):
    scene = await story.cold_flat_scene(app, tg, world)
    await scene.step(world.crew(5001), "受理")
    page = await open_with_link(browser, world.crew(6001), viewport={"width": 390, "height": 844})
    await expect(row(page, "0001")).to_be_visible()
    await tab_to(page, "/board/figures")                                # the tabs come first on the page
    await expect(page.locator('.tabs a[aria-current="page"]')).to_have_text("数据")
    await expect(page.locator("#period-today table.figures")).to_contain_text("北区维修服务中心")
    chart = page.locator("#period-today img.chart")
    await chart.scroll_into_view_if_needed()
    await expect(chart).to_have_js_property("complete", True, timeout=10000)
    assert await chart.evaluate("img => img.naturalWidth") == 1280           # a PNG the browser decoded
    await page.screenshot(path=artifact("board-figures.png"), full_page=True)
    assert artifact("board-figures.png").stat().st_size > 10_000
    await tab_to(page, "/board/outages")
    await expect(page.locator('.tabs a[aria-current="page"]')).to_have_text("停热")
    await expect(page.locator("main")).to_contain_text("当前没有进行中的停热")


async def test_an_outage_in_progress_shows_its_progress_on_the_outages_tab(app, tg, world, browser):
    s = OutageScene(app, world, None, None)
    await start_emergency(s)                                            # 和平苑, the north centre's
    await s.settle()
    page = await open_with_link(browser, world.crew(5001), viewport={"width": 390, "height": 844},
                                color_scheme="dark")
    await page.goto(base_url(app) + "/board/outages")
    outage = page.locator('section.outage[data-outage="T001"]')
    await expect(outage).to_contain_text("紧急停热 T001")
    await expect(outage.locator(".notices")).to_contain_text("已张贴 0 / 应张贴 1")
    await expect(outage.locator(".restored")).to_contain_text("尚未恢复")
    await page.screenshot(path=artifact("board-outages-phone-dark.png"), full_page=True)
