"""The desk's pure parts and settings: matching an address to a community (Art. 5), the
per-key rate limit, what the Open311 form accepts, the API channels of the organisation file,
and the web server's settings."""
from __future__ import annotations

import pytest

from bot.config import ConfigError, load_config
from bot.orgfile import check_org
from rules.desk import RateLimiter, match_community
from rules.open311 import ApiRefusal, parse_form, parse_ids, parse_request
from rules.org import hash_key
from tests.conftest import ORG_FILE, TOKEN

COMMUNITIES = [("yangguang", ["阳光花园", "阳光", "yghy"]), ("guangming", ["光明里", "光明"]),
               ("twin-a", ["双子"]), ("twin-b", ["双子"])]


@pytest.mark.parametrize(("address", "community"), [
    ("阳光花园 5-1-202", "yangguang"),
    ("朝阳区阳光花园5号楼", "yangguang"),
    ("YGHY 5-1-202", "yangguang"),                 # an alias, whatever its case
    ("光明里 3-301", "guangming"),
    ("新建路 8 号", None),                          # nothing known: dispatch routes it (Art. 5)
    ("双子 1-101", None),                           # two communities share the name: no guess
    ("阳 1-101", None),                             # one character routes nothing
])
def test_an_address_is_matched_to_the_community_it_names_or_to_none(address: str, community: str | None):
    assert match_community(address, COMMUNITIES) == community


def test_the_longest_name_wins_over_a_shorter_alias_of_another_community():
    assert match_community("阳光花园 1-1", [("a", ["阳光"]), ("b", ["阳光花园"])]) == "b"


def test_the_rate_limit_allows_a_burst_then_the_average_rate_per_key():
    limiter = RateLimiter(burst=3, per_second=2.0)
    assert [limiter.take("k", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("k", 100.0) == pytest.approx(0.5)
    assert limiter.take("other", 100.0) == 0.0                  # keys are counted apart
    assert limiter.take("k", 100.5) == 0.0                      # half a second buys one more


def test_the_form_is_read_strictly():
    assert parse_form(b"a=1&b=%E6%9A%96") == {"a": "1", "b": "暖"}
    assert parse_form(b"") == {}
    for body, reason in ((b"a=1&a=2", "repeated"), (b"a=%FF", "malformed"), (b"just text", "malformed"),
                         (b"x" * (64 * 1024 + 1), "too_large")):
        with pytest.raises(ApiRefusal) as refused:
            parse_form(body)
        assert refused.value.reason == reason


def test_a_request_needs_a_known_code_an_address_and_a_description():
    codes = frozenset({"not_warm"})
    good = {"service_code": "not_warm", "address_string": " 阳光花园  5-1-202 ", "description": "冷",
            "first_name": "建华", "last_name": "王", "phone": "+86 139-1234-5678"}
    req = parse_request(good, codes)
    assert (req.address, req.name, req.phone, req.external_id) == ("阳光花园 5-1-202", "王 建华", "13912345678", None)
    for change, reason in (({"service_code": "Not_Warm"}, "unknown_service"), ({"address_string": "\u200b"}, "missing"),
                           ({"description": ""}, "missing"), ({"phone": "abc"}, "bad_phone"),
                           ({"description": "x" * 2001}, "too_long"), ({"external_id": "x" * 65}, "too_long")):
        with pytest.raises(ApiRefusal) as refused:
            parse_request({**good, **change}, codes)
        assert (refused.value.status, refused.value.reason) == (400, reason)


def test_request_ids_are_ticket_numbers():
    assert parse_ids("0001, 12") == [1, 12]
    for text in ("1,,2", "a", "1e3", "１", ",".join(["1"] * 101)):
        with pytest.raises(ApiRefusal):
            parse_ids(text)


ORG = ORG_FILE.read_text(encoding="utf-8")


def test_the_example_channels_hold_hashes_of_the_demo_keys_and_one_is_revoked():
    org, issues = check_org(ORG)
    assert org is not None
    by_id = {c.id: c for c in org.api_channels}
    assert by_id["city-12345"].key_hash == hash_key("demo-key-city-12345-0f3b9c")
    assert by_id["city-12345"].source == "mayor_hotline" and by_id["old-portal"].revoked


@pytest.mark.parametrize(("table", "problem"), [
    ('id = "x"\nname = "X"\nsource = "resident"\nkey_sha256 = "' + "a" * 64 + '"', "unknown source"),
    ('id = "x"\nname = "X"\nsource = "press"\nkey_sha256 = "my-secret-key"', "64 lower-case hex"),
    ('id = "X Y"\nname = "X"\nsource = "press"\nkey_sha256 = "' + "a" * 64 + '"', "lower-case"),
    ('id = "x"\nname = "X"\nsource = "press"\nkey_sha256 = "' + "a" * 64 + '"\nrevoked = "no"', "true or false"),
])
def test_a_bad_api_channel_is_reported_on_its_line(table: str, problem: str):
    text = ORG + "\n[[api_channels]]\n" + table + "\n"
    org, issues = check_org(text)
    assert org is None
    [issue] = [i for i in issues if not i.warning]
    assert problem in issue.message and issue.line is not None and issue.line > ORG.count("\n")


def test_the_same_key_for_two_channels_is_refused():
    twice = ORG + '\n[[api_channels]]\nid = "copy"\nname = "C"\nsource = "press"\nkey_sha256 = "' + \
        hash_key("demo-key-city-12345-0f3b9c") + '"\n'
    org, issues = check_org(twice)
    assert org is None and any("another channel" in i.message for i in issues)


def env(**extra: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "HEATBOT_ORG": str(ORG_FILE), **extra}


def test_the_web_server_listens_on_localhost_8080_by_default_and_0_turns_it_off():
    config = load_config(env(), env_file=None)
    assert (config.http_listen, config.http_port) == ("127.0.0.1", 8080)
    assert load_config(env(HEATBOT_HTTP_PORT="0"), env_file=None).http_port == 0
    assert load_config(env(HEATBOT_HTTP_LISTEN="0.0.0.0"), env_file=None).http_listen == "0.0.0.0"


@pytest.mark.parametrize(("settings", "name"), [
    ({"HEATBOT_HTTP_PORT": "http"}, "HEATBOT_HTTP_PORT"), ({"HEATBOT_HTTP_PORT": "70000"}, "HEATBOT_HTTP_PORT"),
    ({"HEATBOT_HTTP_PORT": "-1"}, "HEATBOT_HTTP_PORT"), ({"HEATBOT_HTTP_LISTEN": "every where"}, "HEATBOT_HTTP_LISTEN"),
])
def test_a_bad_web_server_setting_is_one_line_naming_it(settings: dict[str, str], name: str):
    with pytest.raises(ConfigError) as error:
        load_config(env(**settings), env_file=None)
    assert name in str(error.value) and "\n" not in str(error.value)
