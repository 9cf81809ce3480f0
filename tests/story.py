"""Steps of the resident's story, shared by the end-to-end tests and kept close to what a
person does on the phone."""
from __future__ import annotations

from dataclasses import dataclass

from storage import tickets
from tgemu import Group, Msg, User


async def report_to_address(resident: User, *, category: str = "家中不热", community: str = "和平",
                            pick: str = "和平苑") -> Msg:
    """Start a report, pick the category, find and pick the community; return the address question."""
    await resident.send("/report")
    await resident.press(await resident.next_message(), category)
    await resident.next_message()
    await resident.send(community)
    await resident.press(await resident.next_message(), pick)
    return await resident.next_message()


async def report_cold_flat(
    resident: User, *, community: str = "和平", pick: str = "和平苑", address: str = "3-2-501",
    phone: str = "13912345678", temperature: str | None = "14", description: str | None = "暖气片冰凉",
    category: str = "家中不热",
) -> Msg:
    """Walk the whole intake and return the receipt the bot sends after Confirm."""
    await report_to_address(resident, category=category, community=community, pick=pick)
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


@dataclass
class Scene:
    """Ticket 0001 (家中不热 in 和平苑, reported 09:00), its resident, the north repair centre's
    group that holds it, dispatch, and the card as it last read."""
    app: object
    resident: User
    north: Group
    dispatch: Group
    card: Msg

    @property
    def svc(self):
        return self.app.bot_data["svc"]

    @property
    def conn(self):
        return self.svc.db.conn

    async def ticket(self, number: int = 1):
        return await tickets.get_ticket(self.conn, number)

    async def events(self, kind: str, number: int = 1) -> list:
        return [e for e in await tickets.list_events(self.conn, number) if e.kind == kind]

    async def kinds(self, number: int = 1) -> list[str]:
        return [e.kind for e in await tickets.list_events(self.conn, number)]

    async def step(self, crew: User, button: str) -> Msg:
        """A crew press on the live card; returns what the resident is told."""
        await crew.press(self.card, button)
        self.card = await self.north.wait_edited(self.card)
        return await self.resident.next_message()


async def cold_flat_scene(bot, tg, world, cls: type[Scene] = Scene) -> Scene:
    """The resident 张三 reports a cold flat; the card reaches the north repair centre. ``cls``:
    a test module's own Scene with more helpers."""
    resident = await tg.user("张三", language_code="zh")
    await report_cold_flat(resident)
    north = world.groups["repair-north"]
    return cls(bot, resident, north, world.groups["dispatch"], await north.next_message())
