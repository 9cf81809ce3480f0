"""The demo's outage story (Art. 14, 15, 23): an emergency shutdown is announced, answers a
resident's cold-home report, is posted by the crew, and heating is restored."""
from __future__ import annotations

from .lines import Lines
from .narrator import Narrator
from .world import World

__all__ = ["outage_story"]


async def outage_story(n: Narrator, world: World, L: Lines) -> None:
    n.title(L.s3_title)
    dispatch, north = world.groups["dispatch"], world.groups["repair-north"]
    dispatcher = await n.person(world.crew(6001).first_name, "🧑‍💼", user=world.crew(6001))

    # A resident of the community subscribes to outage notices (reporting a problem would do it too).
    chen = await n.person(L.chen, "👵", language_code=L.lang)
    await n.types(chen, L.subscribe)

    # A burst on the main: the dispatcher publishes an emergency shutdown (Art. 15), answering
    # each of the bot's questions by replying to it.
    await n.types(dispatcher, "/outage", chat=dispatch)
    await n.taps(dispatcher, L.emergency, chat=dispatch)
    await n.taps(dispatcher, L.heping, chat=dispatch)
    await n.taps(dispatcher, L.done_choosing, chat=dispatch)
    for answer in ("DN300", L.valves, L.area, L.reason, L.now, L.duration):
        await n.types(dispatcher, answer, chat=dispatch, reply_to=await n.latest(dispatch))
    await n.taps(dispatcher, L.submit, chat=dispatch)

    # Another resident's home goes cold: the bot answers with the notice before filing.
    liu = await n.person(L.liu, "👴", language_code=L.lang)
    await n.types(liu, "/report")
    await n.taps(liu, L.cold)
    await n.types(liu, L.heping_query)
    await n.taps(liu, L.heping)
    await n.taps(liu, L.no_report)

    # The crew posts the notice; four hours later heat is back.
    await n.taps(await n.person(world.crew(5001).first_name, "👷", user=world.crew(5001)), L.posted, chat=north)
    await n.time_passes(sweep=False, hours=4)
    await n.taps(dispatcher, L.restored, chat=dispatch)
    await n.time_passes(minutes=1)           # the sweep brings dispatch's progress panel up to date
    n.say(f"\n✔ {L.s3_end}")
