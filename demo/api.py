"""The demo's API story (Art. 4, 5, 7, 13): the city's 12345 platform hands over a work order
through the Open311 API, the crew works it, and the platform reads it closed."""
from __future__ import annotations

import httpx

from .lines import Lines
from .narrator import Narrator
from .world import World

__all__ = ["api_story", "DEMO_KEY"]

# The demo channel's key; org.example.toml holds only its SHA-256.
DEMO_KEY = "demo-key-city-12345-0f3b9c"
_STATUS = ("service_request_id", "status", "status_notes", "agency_responsible", "expected_datetime")


async def api_story(n: Narrator, world: World, L: Lines, base_url: str) -> None:
    n.title(L.s4_title)
    north = world.groups["repair-north"]
    platform = await n.person(L.platform, "🏛")
    wang = await n.person(world.crew(5002).first_name, "👷", user=world.crew(5002))
    locale = {"locale": L.lang}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        [filed] = await n.calls_api(platform, http, "POST", "/open311/v2/requests.json", data={
            "api_key": DEMO_KEY, "service_code": "not_warm", "address_string": L.api_address,
            "description": L.api_description, "phone": "13600002222", "external_id": "GD20260115-0815", **locale,
        })
        number = filed["service_request_id"]
        await n.time_passes(sweep=False, minutes=8)
        await n.taps(wang, L.accept, chat=north)
        await n.calls_api(platform, http, "GET", f"/open311/v2/requests/{number}.json",
                          params={"api_key": DEMO_KEY, **locale}, show=_STATUS)
        await n.time_passes(sweep=False, minutes=35)
        await n.taps(wang, L.arrived, chat=north)
        await n.time_passes(sweep=False, minutes=50)
        await n.taps(wang, L.done, chat=north)
        card = await n.latest(north, lambda m: m.text.startswith("✅"))
        await n.types(wang, L.api_note, chat=north, reply_to=card)
        await n.calls_api(platform, http, "GET", f"/open311/v2/requests/{number}.json",
                          params={"api_key": DEMO_KEY, **locale}, show=_STATUS)
    n.say(f"\n✔ {L.s4_end}")
