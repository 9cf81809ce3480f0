"""``/whoami``: an operator filling the organisation file reads the ids from the bot, in any chat,
instead of from DEBUG logs (which no longer carry them)."""
from __future__ import annotations

from tgemu import EmulatorClient
from demo.world import World


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def test_whoami_in_a_private_chat_tells_the_users_id_in_chinese(bot, tg: EmulatorClient):
    person = await tg.user("张三", language_code="zh")
    await person.send("/whoami")
    answer = await person.next_message()
    assert str(person.id) in answer.text
    assert "私聊" in answer.text and "user_id" in answer.text


async def test_whoami_in_a_centre_group_tells_the_groups_chat_id_and_the_senders_user_id(bot, tg, world: World):
    group = world.groups["repair-north"]
    crew = world.crew(5001)
    await crew.send("/whoami", chat=group)
    answer = await group.next_message()
    assert str(group.id) in answer.text and str(crew.id) in answer.text
    assert "chat_id" in answer.text and "私聊" not in answer.text
    assert is_chinese(answer.text)


async def test_whoami_answers_an_english_speaker_in_english(bot, tg: EmulatorClient):
    person = await tg.user("John", language_code="en-GB")
    await person.send("/whoami")
    answer = await person.next_message()
    assert str(person.id) in answer.text and "private chat" in answer.text
    assert not is_chinese(answer.text)
