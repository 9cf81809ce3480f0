"""Pure, synchronous business rules of the service desk (the regulation, Art. 1-24).

Nothing here imports Telegram, the database or asyncio, and nothing reads the clock: times
are passed in, so the rules can be tested and explained (`heatbot rules explain`) in isolation.
Import from the submodules: ``rules.policy``, ``rules.errors``.
"""

__all__: list[str] = []
