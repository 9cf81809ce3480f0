"""PostgreSQL going wrong under heatbot: a server that refuses or cannot be reached stops
``heatbot run`` with one line (never the password); a database from a newer heatbot is
refused; connections cut under a running bot (what a server restart does to its clients)
lose nothing: the bot connects again and what the resident sent is filed once."""
from __future__ import annotations

import psycopg
import pytest

from bot import app as heatbot_app
from bot.app import build_application
from handlers.patience import PATIENCE_KEY, Patience
from storage import tickets
from tests.conftest import make_config
from tests.pg import database_name, role_with_password
from tests.story import card_in, report_cold_flat
from tests.test_cli import bot_env, free_port, heatbot, workdir  # noqa: F401  (workdir: a fixture)

PASSWORD = "s3cret-pw-never-shown"
NORTH = "repair-north"


def with_credentials(url: str, user: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest.split('@', 1)[1]}"


@pytest.mark.parametrize("case", ["wrong-password", "unknown-role", "unreachable-host", "no-such-database"])
async def test_a_postgresql_server_that_refuses_or_cannot_be_reached_stops_run_with_one_line(
        tmp_path, workdir, emulator, pg_server, case):
    if case == "wrong-password":
        with role_with_password(pg_server, "the-right-one") as role:
            url, word = with_credentials(pg_server, role, PASSWORD), "password"
            env = bot_env(tmp_path, HEATBOT_DB=url, TELEGRAM_API_BASE_URL=emulator.api_base_url)
            run = await heatbot("run", env=env, cwd=workdir)
        run.assert_one_clear_line("HEATBOT_DB", "cannot connect", word, role)
        assert PASSWORD not in run.out + run.err
        return
    if case == "unknown-role":
        url, word = with_credentials(pg_server, "nobody_here", PASSWORD), "nobody_here"
    elif case == "unreachable-host":
        url, word = f"postgresql://heat:{PASSWORD}@127.0.0.1:{free_port()}/heatbot?connect_timeout=3", "127.0.0.1"
    else:
        url, word = pg_server.replace("/postgres?", "/no_such_heatbot_db?", 1), "no_such_heatbot_db"
    env = bot_env(tmp_path, HEATBOT_DB=url, TELEGRAM_API_BASE_URL=emulator.api_base_url)
    run = await heatbot("run", env=env, cwd=workdir)
    line = run.assert_one_clear_line("HEATBOT_DB", "cannot connect", word)
    assert PASSWORD not in run.out + run.err, line


async def test_a_postgresql_database_from_a_newer_heatbot_is_refused_with_one_line(tmp_path, workdir, emulator, pg_database):
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("UPDATE heatbot_schema SET version = 999")
    env = bot_env(tmp_path, HEATBOT_DB=pg_database, TELEGRAM_API_BASE_URL=emulator.api_base_url)
    run = await heatbot("run", env=env, cwd=workdir)
    run.assert_one_clear_line("schema version 999", "upgrade heatbot")


def cut_connections(server: str, url: str) -> int:
    """What a restarting server does to its clients: every connection to the database ends."""
    with psycopg.connect(server, autocommit=True) as admin:
        rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                             "AND pid <> pg_backend_pid()", (database_name(url),)).fetchall()
    return len(rows)


async def test_connections_cut_under_a_running_bot_lose_nothing(emulator, world, tg, clock, pg_server, pg_database):
    app = build_application(make_config(emulator, pg_database), clock=clock)
    await heatbot_app.start(app)
    try:
        app.bot_data[PATIENCE_KEY] = Patience(waits=(0.05,) * 40)
        north = world.groups[NORTH]
        await report_cold_flat(await tg.user("张三", language_code="zh"))
        assert "0001" in (await card_in(north)).text
        assert cut_connections(pg_server, pg_database) >= 1
        # The next report meets the cut connection first; it is filed once all the same, and
        # the crews' group gets its card (the sender connects again too).
        resident = await tg.user("李四", language_code="zh")
        receipt = await report_cold_flat(resident, address="5-1-101")
        assert "0002" in receipt.text
        assert "0002" in (await card_in(north)).text
        async with app.bot_data["svc"].db.transaction() as conn:
            assert [t.id for t in await tickets.tickets_of_resident(conn, resident.id)] == [2]
    finally:
        await heatbot_app.stop(app)
