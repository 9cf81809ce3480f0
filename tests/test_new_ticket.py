"""``/new``: a complaint entered on a caller's behalf by dispatch or a centre's hotline staff
(Art. 4, 5, 7, 10 (1), 13), end to end through the real Application and the emulator."""
from __future__ import annotations

from telegram.ext import Application

from demo.world import World
from tgemu import EmulatorClient, Group, Msg, User

DISPATCHER = 6001           # 孙丽
NORTH_CREW = 5001           # 王师傅, North Repair Centre


async def answer(person: User, where: Group | None, question: Msg, text: str) -> None:
    """Reply to the wizard's question: in a group by replying to it, in private by sending."""
    if where is None:
        await person.send(text)
    else:
        await person.send(text, chat=where, reply_to=question)


async def enter_call(person: User, where: Group | None, *, source: str = "热线电话", category: str = "家中不热",
                     community: str = "阳光花园", address: str = "5-1-202", name: str | None = "李大爷",
                     phone: str | None = "13811112222", description: str = "老人独居，暖气不热",
                     reference: str | None = None) -> Msg:
    """Walk /new to the summary and confirm; returns the bot's "filed" message."""
    chat = where if where is not None else person
    await person.send("/new", chat=where)
    msg = await chat.next_message()
    await person.press(msg, source)
    msg = await chat.next_message()
    await person.press(msg, category)
    msg = await chat.next_message()
    await person.press(msg, community)
    for value in (address, name, phone, description, reference):
        msg = await chat.next_message()
        if value is None:
            await person.press(msg, "跳过")
        else:
            await answer(person, where, msg, value)
    summary = await chat.next_message()
    assert "请核对" in summary.text
    await person.press(summary, "确认提交")
    return await chat.next_message()


async def test_a_phone_call_entered_in_the_dispatch_group_runs_the_whole_story(bot: Application, world: World):
    dispatch = world.groups["dispatch"]
    filed = await enter_call(world.crew(DISPATCHER), dispatch)
    assert "工单 0001" in filed.text and "南区维修服务中心" in filed.text

    south = world.groups["repair-south"]
    card = await south.next_message()
    assert "工单 0001" in card.text and "来源：热线电话" in card.text and "录入：孙丽" in card.text
    assert "来电人：李大爷 13811112222" in card.text and "阳光花园 5-1-202" in card.text
    assert "重大" in card.text             # not warm at home is a major event (Art. 13); the hotline keeps it

    crew = world.crew(5011)
    await crew.press(card, "受理")
    card = await south.wait_edited(card)
    # The caller has no Telegram chat: whoever entered it is told, to pass it on (Art. 5).
    assert "0001" in (told := await dispatch.next_message()).text and "张师傅" in told.text
    await crew.press(card, "已到场")
    card = await south.wait_edited(card)
    assert "到场" in (await dispatch.next_message()).text
    await crew.press(card, "处理完成")
    await south.wait_edited(card)
    assert "处理完成" in (await dispatch.next_message()).text

    await world.crew(DISPATCHER).send("/ticket 0001", chat=dispatch)
    history = await dispatch.next_message()
    assert "来源：热线电话" in history.text and "已完成" in history.text


async def test_a_12345_order_entered_in_private_is_major_alerts_leadership_and_shows_its_number(bot: Application, world: World):
    dispatcher = world.crew(DISPATCHER)
    filed = await enter_call(dispatcher, None, source="12345", category="室温异常", community="和平苑",
                             reference="GD20260115-0042")
    assert "工单 0001" in filed.text
    card = await world.groups["repair-north"].next_message()
    # Art. 13, urgent (1): a complaint through the mayor's hotline is major whatever its category.
    assert "重大" in card.text and "来源：12345" in card.text and "编号 GD20260115-0042" in card.text
    # Art. 7: reported to leadership at once.
    assert "0001" in (await world.groups["leadership"].next_message()).text


async def test_a_centre_crew_may_enter_a_call_for_another_centres_community_and_it_is_routed_there(
        bot: Application, world: World):
    crew = world.crew(NORTH_CREW)
    await enter_call(crew, None, community="丽景湾")               # a South Repair Centre community
    card = await world.groups["repair-south"].next_message()
    assert "工单 0001" in card.text and "录入：王师傅" in card.text


async def test_a_community_not_listed_goes_to_dispatch(bot: Application, world: World):
    await enter_call(world.crew(DISPATCHER), None, community="其他")
    card = await world.groups["dispatch"].next_message()
    assert "工单 0001" in card.text and "未能自动分派" in card.text


async def test_a_resident_trying_new_is_told_it_is_for_staff_and_nothing_is_filed(bot: Application, world: World,
                                                                                  tg: EmulatorClient):
    resident = await tg.user("张三", language_code="zh")
    await resident.send("/new")
    answer_ = await resident.next_message()
    assert "/report" in answer_.text and not answer_.button_texts()
    # Their next message is their own conversation, not a wizard's answer.
    await resident.send("和平苑")
    assert "工单" not in (await resident.next_message()).text


async def test_new_in_a_centre_group_is_pointed_to_dispatch_or_private(bot: Application, world: World):
    north = world.groups["repair-north"]
    await world.crew(NORTH_CREW).send("/new", chat=north)
    assert "调度中心群" in (await north.next_message()).text


async def test_a_phone_of_letters_is_asked_again_and_html_is_kept_as_text(bot: Application, world: World):
    dispatcher = world.crew(DISPATCHER)
    await dispatcher.send("/new")
    await dispatcher.press(await dispatcher.next_message(), "媒体")
    await dispatcher.press(await dispatcher.next_message(), "家中不热")
    await dispatcher.press(await dispatcher.next_message(), "和平苑")
    await dispatcher.next_message()
    await dispatcher.send("<b>3</b>-2-501")
    await dispatcher.next_message()
    await dispatcher.send("<i>记者</i>")
    await dispatcher.next_message()
    await dispatcher.send("call me")
    assert "电话号码不对" in (await dispatcher.next_message()).text
    await dispatcher.next_message()                                 # the phone question again
    await dispatcher.send("13900001111")
    await dispatcher.next_message()
    await dispatcher.send("'); DROP TABLE tickets;--")
    await dispatcher.press(await dispatcher.next_message(), "跳过")
    await dispatcher.press(await dispatcher.next_message(), "确认提交")
    assert "工单 0001" in (await dispatcher.next_message()).text
    card = await world.groups["repair-north"].next_message()
    assert "<b>3</b>-2-501" in card.text and "<i>记者</i>" in card.text and "DROP TABLE" in card.text
    assert "来源：媒体" in card.text and "重大" in card.text


async def test_a_button_of_someone_elses_wizard_is_refused(bot: Application, world: World):
    dispatch = world.groups["dispatch"]
    await world.crew(DISPATCHER).send("/new", chat=dispatch)
    question = await dispatch.next_message()
    refused = await world.crew(6002).press(question, "12345")
    assert refused.show_alert and "不是您" in refused.text


async def test_cancel_files_nothing(bot: Application, world: World):
    dispatcher = world.crew(DISPATCHER)
    await dispatcher.send("/new")
    await dispatcher.press(await dispatcher.next_message(), "取消")
    assert "没有登记" in (await dispatcher.next_message()).text
    svc = bot.bot_data["svc"]
    async with svc.db.transaction() as conn:
        async with conn.execute("SELECT COUNT(*) FROM tickets") as cur:
            assert (await cur.fetchone())[0] == 0


async def test_overdue_shows_where_each_ticket_came_from(bot: Application, world: World, clock):
    dispatch = world.groups["dispatch"]
    await enter_call(world.crew(DISPATCHER), dispatch, source="住建部门")
    await world.crew(DISPATCHER).send("/overdue", chat=dispatch)
    listing = await dispatch.next_message_where(lambda m: "0001" in m.text and "受理" in m.text)
    assert "［住建部门］" in listing.text


async def test_an_out_of_scope_answer_for_a_caller_goes_to_whoever_entered_it_to_pass_on(bot: Application, world: World):
    dispatcher = world.crew(DISPATCHER)
    await enter_call(dispatcher, None, community="和平苑")            # entered in the dispatcher's private chat
    north, dispatch, crew = world.groups["repair-north"], world.groups["dispatch"], world.crew(NORTH_CREW)
    card = await north.next_message()
    await crew.press(card, "退单")
    prompt = await north.next_message()
    await crew.send("住户自装的地暖", chat=north, reply_to=prompt)
    await north.next_message()
    ask = await dispatch.next_message()
    await dispatcher.press(ask, "不属于服务范围")
    prompt = await dispatch.next_message()
    await dispatcher.send("自装地暖请联系安装单位。", chat=dispatch, reply_to=prompt)
    told = await dispatcher.next_message_where(lambda m: "转告" in m.text)
    assert "工单 0001" in told.text and "自装地暖请联系安装单位" in told.text
