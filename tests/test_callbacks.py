"""Button data codecs: every prefix packs and parses back, and anything forged parses to None."""
from __future__ import annotations

import pytest

from bot.callbacks import (
    MAX_BYTES, MAX_ID, Acknowledge, CardPress, CardRequest, Choice, Decision, FollowupAnswer, IntakeStep, LanguageChoice, Menu,
    NewStep, NoticePosted, OutageControl, OutageDecision, PhoneRecord, RegisterStep, Subscribe, WizardStep, centre_buttons,
    community_buttons, new_nonce, parse_id, parse_number, size,
)

NONCE = "a1b2c3"

ROUND_TRIPS = [
    (CardPress(12, "accept"), "t:12:accept"),
    (CardPress(MAX_ID, "nonote"), f"t:{MAX_ID}:nonote"),
    (CardRequest(7, "delay"), "w:7:delay"),
    (CardRequest(7, "assign"), "w:7:assign"),
    (Decision(2, "ok"), "d:2:ok"),
    (Decision(2, "no"), "d:2:no"),
    (Decision(2, "scope"), "d:2:scope"),
    (Decision(2, Choice.TRANSFER, "repair-south"), "d:2:c-repair-south"),
    (Acknowledge(5), "a:5"),
    (WizardStep(NONCE, "kind", "emergency"), f"o:w:{NONCE}:kind:emergency"),
    (WizardStep(NONCE, "com", "heping"), f"o:w:{NONCE}:com:heping"),
    (WizardStep(NONCE, "com", "done"), f"o:w:{NONCE}:com:done"),
    (WizardStep(NONCE, "go"), f"o:w:{NONCE}:go"),
    (OutageDecision(3, True), "o:a:3:yes"),
    (OutageDecision(3, False), "o:a:3:no"),
    (NoticePosted(9), "o:p:9"),
    (OutageControl(3, "restore"), "o:c:3:restore"),
    (Subscribe("heping"), "o:s:heping"),
    (Subscribe("和平苑"), "o:s:和平苑"),
    (IntakeStep(NONCE, "cat", "not_warm"), f"i:{NONCE}:cat:not_warm"),
    (IntakeStep(NONCE, "com", "none"), f"i:{NONCE}:com:none"),
    (IntakeStep(NONCE, "outage", "file"), f"i:{NONCE}:outage:file"),
    (IntakeStep(NONCE, "confirm"), f"i:{NONCE}:confirm"),
    (IntakeStep(NONCE, "skip", "photo"), f"i:{NONCE}:skip:photo"),
    (Menu("my"), "menu:my"),
    (Menu("cold"), "menu:cold"),
    (FollowupAnswer(12, 0, "yes"), "f:12:0:yes"),
    (FollowupAnswer(12, 2, "rate", 5), "f:12:2:rate:5"),
    (FollowupAnswer(MAX_ID, 999, "noreason"), f"f:{MAX_ID}:999:noreason"),
    (PhoneRecord(3, "unreachable"), "fp:3:unreachable"),
    (LanguageChoice("en"), "lang:en"),
    (NewStep(NONCE, "src", "mayor_hotline"), f"n:{NONCE}:src:mayor_hotline"),
    (NewStep(NONCE, "com", "none"), f"n:{NONCE}:com:none"),
    (NewStep(NONCE, "go"), f"n:{NONCE}:go"),
    (RegisterStep(NONCE, "kind", "praise"), f"r:{NONCE}:kind:praise"),
    (RegisterStep(NONCE, "staff", "5001"), f"r:{NONCE}:staff:5001"),
    (RegisterStep(NONCE, "start"), f"r:{NONCE}:start"),
]


@pytest.mark.parametrize(("value", "data"), ROUND_TRIPS, ids=[d for _, d in ROUND_TRIPS])
def test_each_codec_packs_its_data_and_parses_it_back(value, data):
    assert value.pack() == data
    assert type(value).parse(data) == value


FORGED = [
    (CardPress, "t:99999999999999999999999:accept", "beyond 64 bits: answered no such ticket"),
    (CardPress, f"t:{MAX_ID + 1}:accept", "one past the largest SQLite integer"),
    (CardPress, "t:²:accept", "superscript two: isdigit() but not int()"),
    (CardPress, "t:١٢:accept", "Arabic-Indic digits"),
    (CardPress, "t:0:accept", "zero is no row id"),
    (CardPress, "t:-1:accept", "negative"),
    (CardPress, "t:012:accept", "leading zero: not the canonical form"),
    (CardPress, "t: 12:accept", "space"),
    (CardPress, "t:12:explode", "unknown action"),
    (CardPress, "t:12", "no action"),
    (CardPress, "t:12:accept:more", "trailing field"),
    (CardPress, "w:12:delay", "another prefix"),
    (CardRequest, "w:12:accept", "a card action is not a request"),
    (Decision, "d:2:maybe", "unknown choice"),
    (Decision, "d:2:transfer", "a transfer names its centre"),
    (Decision, "d:2:c-", "a transfer to no centre"),
    (Decision, "d:99999999999999999999999:ok", "request beyond 64 bits"),
    (IntakeStep, f"i:{NONCE}:skip", "a skip names the step it was shown on"),
    (IntakeStep, f"i:{NONCE}:skip:summary", "the summary cannot be skipped"),
    (FollowupAnswer, "f:1:0:rate", "a rating without stars"),
    (FollowupAnswer, "f:1:0:rate:6", "six stars"),
    (FollowupAnswer, "f:1:0:yes:5", "stars on a yes"),
    (FollowupAnswer, "f:1:00:yes", "round with a leading zero"),
    (FollowupAnswer, "f:1:-1:yes", "negative round"),
    (FollowupAnswer, "f:1:0:maybe", "unknown answer"),
    (FollowupAnswer, "fp:1:satisfied", "the phone record's prefix"),
    (PhoneRecord, "fp:1:happy", "not on the feedback card"),
    (PhoneRecord, "fp:0:basic", "zero is no ticket"),
    (Acknowledge, "a:", "no alert"),
    (Acknowledge, "a:1x", "not a number"),
    (Acknowledge, "a:1:2", "extra field"),
    (WizardStep, "o:w:zzzzzz:go", "nonce not hex"),
    (WizardStep, "o:w:a1b2:go", "nonce too short"),
    (WizardStep, f"o:w:{NONCE}:kind:party", "unknown outage kind"),
    (WizardStep, f"o:w:{NONCE}:go:now", "go takes no argument"),
    (WizardStep, f"o:w:{NONCE}:com", "com needs a community"),
    (WizardStep, f"o:w:{NONCE}:launch", "unknown wizard verb"),
    (OutageDecision, "o:a:3:maybe", "approval is yes or no"),
    (NoticePosted, "o:p:²", "superscript posting id"),
    (OutageControl, "o:c:3:delete", "unknown control"),
    (Subscribe, "o:s:", "no community"),
    (IntakeStep, f"i:{NONCE}:same:perhaps", "same is yes or no"),
    (IntakeStep, f"i:{NONCE}:hack", "unknown intake verb"),
    (IntakeStep, f"i:{NONCE}:outage:burn", "outage answer is file or drop"),
    (Menu, "menu:admin", "unknown menu item"),
    (LanguageChoice, "lang:fr", "a language we do not speak"),
    (Subscribe, "o:s:" + "x" * 61, "65 bytes: over Telegram's limit"),
    (CardPress, None, "no data at all"),
    (NewStep, f"n:{NONCE}:src:resident", "a resident's own report is not filed with /new"),
    (NewStep, f"n:{NONCE}:src", "a source needs its name"),
    (NewStep, f"n:{NONCE}:go:now", "go takes no argument"),
    (NewStep, f"n:{NONCE}:drop", "unknown /new verb"),
    (RegisterStep, f"r:{NONCE}:kind:gossip", "unknown register kind"),
    (RegisterStep, f"r:{NONCE}:staff:王师傅", "a staff member is named by user id"),
    (RegisterStep, f"r:{NONCE}:staff:٥٠٠١", "Arabic-Indic user id"),
]


@pytest.mark.parametrize(("codec", "data", "why"), FORGED, ids=[why for _, _, why in FORGED])
def test_data_that_pack_would_not_make_parses_to_none(codec, data, why):
    assert codec.parse(data) is None


def test_pack_refuses_data_over_64_bytes_counted_in_utf8():
    fits = Subscribe("和" * ((MAX_BYTES - len("o:s:")) // 3))        # 3 bytes per character
    assert size(fits.pack()) <= MAX_BYTES
    with pytest.raises(ValueError, match="64"):
        Subscribe("和" * ((MAX_BYTES - len("o:s:")) // 3 + 1)).pack()


@pytest.mark.parametrize(
    "build",
    [lambda: CardPress(0, "accept"), lambda: CardPress(True, "accept"), lambda: CardPress(MAX_ID + 1, "close"),
     lambda: CardPress(1, "explode"), lambda: Decision(1, Choice.TRANSFER), lambda: Decision(1, "ok", "repair-north"),
     lambda: IntakeStep("nonce!", "confirm"), lambda: Subscribe("")],
    ids=["zero id", "bool id", "id past 2**63-1", "unknown verb", "transfer without centre", "centre without transfer",
         "bad nonce", "empty community"],
)
def test_a_codec_cannot_be_built_with_values_parse_would_refuse(build):
    with pytest.raises(ValueError):
        build()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("0012", 12), ("#0012", 12), (" 7 ", 7), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None),
     ("99999999999999999999999", None), ("²", None), ("١", None), ("0", None), ("-3", None), ("", None), (None, None),
     ("1e3", None), ("0" * 40 + "5", 5)],
    ids=["plain", "leading zeros", "hash", "spaces", "largest", "one past largest", "beyond 64 bits", "superscript",
         "arabic-indic", "zero", "negative", "empty", "missing", "exponent", "many zeros"],
)
def test_a_typed_number_is_ascii_digits_within_64_bits(text, expected):
    assert parse_number(text) == expected


def test_parse_id_takes_no_hash_or_spaces():
    assert parse_id("#1") is None and parse_id(" 1") is None and parse_id("1") == 1


def test_a_fresh_nonce_makes_valid_steps():
    nonce = new_nonce()
    assert IntakeStep.parse(IntakeStep(nonce, "confirm").pack()) == IntakeStep(nonce, "confirm")


def test_the_widest_buttons_of_an_org_id_are_what_the_org_check_measures():
    community = "c" * 20
    assert max(size(b.pack()) for b in community_buttons(community)) == len(f"o:w:{NONCE}:com:") + 20
    assert max(size(b.pack()) for b in centre_buttons("r" * 20)) == len(f"d:{MAX_ID}:c-") + 20
    with pytest.raises(ValueError):
        for b in community_buttons("c" * 50):
            b.pack()
