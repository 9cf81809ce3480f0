"""Steps of the resident's story, shared by the end-to-end tests and kept close to what a
person does on the phone."""
from __future__ import annotations

from tgemu import Group, Msg, User


async def report_cold_flat(
    resident: User, *, community: str = "和平", pick: str = "和平苑", address: str = "3-2-501",
    phone: str = "13912345678", temperature: str | None = "14", description: str | None = "暖气片冰凉",
    category: str = "家中不热",
) -> Msg:
    """Walk the whole intake and return the receipt the bot sends after Confirm."""
    await resident.send("/report")
    msg = await resident.next_message()
    await resident.press(msg, category)
    msg = await resident.next_message()
    await resident.send(community)
    msg = await resident.next_message()
    await resident.press(msg, pick)
    await resident.next_message()
    await resident.send(address)
    await resident.next_message()
    await resident.send(phone)
    await resident.next_message()          # "✔ phone" (removes the reply keyboard)
    msg = await resident.next_message()
    if category in ("家中不热", "室温异常", "Home not warm"):
        if temperature is None:
            await resident.press(msg, "跳过")
        else:
            await resident.send(temperature)
        msg = await resident.next_message()
    # Photo and description are one optional step (no photo here).
    if description is None:
        await resident.press(msg, "跳过")
    else:
        await resident.send(description)
    summary = await resident.next_message()
    await resident.press(summary, "确认提交")
    return await resident.next_message()


async def card_in(group: Group) -> Msg:
    return await group.next_message()
