"""The organisation file: the example checks clean; every problem is reported on its line."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.orgfile import CENTRE_KINDS, Org, OrgFileError, OrgIssue, check_org, load_org
from storage import org as storage_org
from storage.db import open_database

EXAMPLE = Path(__file__).resolve().parent.parent / "org.example.toml"

# A small valid file; each broken case below edits it. The edit marks the line the issue must
# name with `#<` (a TOML comment, so it changes nothing else); no mark means "no line".
BASE = """\
dispatch_chat_id = -1009000000001

[[centres]]
id = "repair-north"
name_zh = "北区维修服务中心"
name_en = "North Repair Centre"
kind = "repair"
chat_id = -1009000000101

[[centres]]
id = "network-station"
name_zh = "管网管理站"
name_en = "Network Station"
kind = "network"
chat_id = -1009000000201

[[communities]]
id = "heping"
name_zh = "和平苑"
name_en = "Heping Garden"
aliases = ["和平", "heping"]
centres = { repair = "repair-north", network = "network-station" }

[[staff]]
user_id = 5001
name = "王师傅"
phone = "13800000001"
centre = "repair-north"
role = "crew"

[[staff]]
user_id = 6001
name = "孙丽"
phone = "13800000601"
role = "dispatcher"
"""

NETWORK_HEADER = '[[centres]]\nid = "network-station"'
SECOND_COMMUNITY = """
[[communities]]
id = "xingfuli"
name_zh = "幸福里"
name_en = "Xingfu Li"
aliases = []
centres = { repair = "repair-north" }
"""


def edited(*edits: tuple[str, str]) -> str:
    text = BASE
    for old, new in edits:
        assert text.count(old) == 1, f"the edit {old!r} must hit exactly one place"
        text = text.replace(old, new)
    return text


def appended(extra: str) -> str:
    return BASE + extra


def marked_line(text: str) -> int | None:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if "#<" in line]
    assert len(lines) <= 1, "mark at most one line"
    return lines[0] if lines else None


# id, file text, words the issue must contain
BROKEN = [
    # TOML syntax: tomllib's own line
    ("toml_syntax_error", edited(('name_en = "Heping Garden"', 'name_en = "Heping Garden #<')), "TOML syntax error"),
    ("toml_duplicate_key", edited(('kind = "repair"', 'kind = "repair"\nkind = "repair" #<')), "TOML syntax error"),
    # missing required keys: the table's header, or no line for the top level
    ("missing_top_level_dispatch_chat", edited(("dispatch_chat_id = -1009000000001\n", "")),
     "missing required key 'dispatch_chat_id'"),
    ("missing_centre_kind", edited((NETWORK_HEADER, '[[centres]] #<\nid = "network-station"'), ('kind = "network"\n', "")),
     "centre 'network-station': missing required key 'kind'"),
    ("missing_community_centres", edited(("[[communities]]", "[[communities]] #<"),
                                         ('centres = { repair = "repair-north", network = "network-station" }\n', "")),
     "community 'heping': missing required key 'centres'"),
    ("missing_staff_phone", edited(("[[staff]]\nuser_id = 6001", "[[staff]] #<\nuser_id = 6001"),
                                   ('phone = "13800000601"\n', "")),
     "staff 6001: missing required key 'phone'"),
    ("missing_centres_array", edited(*[(block, "") for block in BASE.split("\n\n") if block.startswith("[[centres]]")]),
     "missing required key 'centres'"),
    # wrong types
    ("chat_id_is_text", edited(("chat_id = -1009000000201", 'chat_id = "-1009000000201" #<')),
     "'chat_id' must be an integer, got string"),
    ("user_id_is_text", edited(("user_id = 6001", 'user_id = "6001" #<')), "'user_id' must be an integer"),
    ("phone_is_a_number", edited(('phone = "13800000601"', "phone = 13800000601 #<")), "'phone' must be a string"),
    ("aliases_not_a_list", edited(('aliases = ["和平", "heping"]', 'aliases = "heping" #<')), "'aliases' must be a list"),
    ("aliases_not_strings", edited(('aliases = ["和平", "heping"]', 'aliases = ["和平", 3] #<')),
     "'aliases' must be a list of non-empty strings"),
    ("name_is_empty", edited(('name_en = "Network Station"', 'name_en = "" #<')), "'name_en' must not be empty"),
    ("centres_not_tables", edited(*[(block, "") for block in BASE.split("\n\n") if block.startswith("[[centres]]")],
                                  ("dispatch_chat_id = -1009000000001", 'dispatch_chat_id = -1009000000001\ncentres = ["a"] #<')),
     "'centres' must be an array of [[centres]] tables"),
    # duplicates
    ("duplicate_centre_id", edited(('id = "network-station"', 'id = "repair-north" #<')),
     "duplicate centre id 'repair-north' (first at line 4)"),
    ("duplicate_community_id", appended(SECOND_COMMUNITY.replace('id = "xingfuli"', 'id = "heping" #<')),
     "duplicate community id 'heping' (first at line 18)"),
    ("duplicate_staff_user_id", edited(("user_id = 6001", "user_id = 5001 #<")),
     "duplicate staff user_id 5001 (first at line 25)"),
    ("group_chat_shared_by_two_centres", edited(("chat_id = -1009000000201", "chat_id = -1009000000101 #<")),
     "chat_id -1009000000101 is already the group of centre 'repair-north'"),
    ("alias_shared_by_two_communities", appended(SECOND_COMMUNITY.replace("aliases = []", 'aliases = ["HePing"] #<')),
     "'HePing' is also used by community 'heping'"),
    # ids that go into button data (Telegram's 64 bytes)
    ("community_id_too_long_for_buttons", edited(('id = "heping"', 'id = "' + "h" * 50 + '" #<')),
     "too long for button data (at most 49 bytes"),
    ("community_id_in_chinese_too_long", edited(('id = "heping"', 'id = "' + "和" * 17 + '" #<')),
     "51 bytes, too long for button data"),
    ("centre_id_too_long_for_buttons", edited(('id = "network-station"', 'id = "' + "n" * 41 + '" #<')),
     "too long for button data (at most 40 bytes"),
    ("community_id_reserved_for_a_button", edited(('id = "heping"', 'id = "none" #<')), "'none' is reserved"),
    ("community_id_with_a_newline", edited(('id = "heping"', 'id = "hep\\ning" #<')), "cannot go into button data"),
    # centre kinds
    ("unknown_centre_kind", edited(('kind = "network"', 'kind = "pipes" #<')), "unknown centre kind 'pipes'"),
    ("community_unknown_centre",
     edited(('centres = { repair = "repair-north", network = "network-station" }',
             'centres = { repair = "repair-x", network = "network-station" } #<')),
     "unknown centre 'repair-x' for repair"),
    ("community_centre_of_other_kind",
     edited(('centres = { repair = "repair-north", network = "network-station" }',
             'centres = { repair = "network-station" } #<')),
     "centre 'network-station' is a network centre, not repair"),
    ("community_unknown_kind_key",
     edited(('centres = { repair = "repair-north", network = "network-station" }',
             'centres = { repair = "repair-north", heating = "repair-north" } #<')),
     "unknown centre kind 'heating' in centres"),
    ("community_centres_as_subtable",
     edited(('centres = { repair = "repair-north", network = "network-station" }\n',
             '\n[communities.centres]\nnetwork = "network-station"\nrepair = "repair-x" #<\n')),
     "unknown centre 'repair-x' for repair"),
    # staff
    ("staff_unknown_centre", edited(('centre = "repair-north"', 'centre = "repair-x" #<')), "staff 5001: unknown centre 'repair-x'"),
    ("staff_unknown_role", edited(('role = "crew"', 'role = "boss" #<')), "staff 5001: unknown role 'boss'"),
    ("crew_without_centre", edited(("[[staff]]\nuser_id = 5001", "[[staff]] #<\nuser_id = 5001"),
                                   ('centre = "repair-north"\n', "")),
     "staff 5001: a crew needs a 'centre'"),
    ("centre_lead_without_centre", edited(("[[staff]]\nuser_id = 5001", "[[staff]] #<\nuser_id = 5001"),
                                          ('centre = "repair-north"\n', ""), ('role = "crew"', 'role = "centre_lead"')),
     "staff 5001: a centre_lead needs a 'centre'"),
    ("user_id_not_positive", edited(("user_id = 5001", "user_id = -5001 #<")), "'user_id' must be a positive integer"),
    ("phone_with_dashes", edited(('phone = "13800000001"', 'phone = "138-0000-0001" #<')), "is not a phone number"),
    ("phone_too_short", edited(('phone = "13800000001"', 'phone = "123456" #<')), "is not a phone number"),
    ("phone_too_long", edited(('phone = "13800000001"', 'phone = "+1234567890123456" #<')), "is not a phone number"),
    ("phone_plus_inside", edited(('phone = "13800000001"', 'phone = "138+00000001" #<')), "is not a phone number"),
    # group chat ids
    ("dispatch_chat_positive", edited(("dispatch_chat_id = -1009000000001", "dispatch_chat_id = 9000000001 #<")),
     "'dispatch_chat_id' must be a negative integer"),
    ("leadership_chat_zero", edited(("dispatch_chat_id = -1009000000001",
                                     "dispatch_chat_id = -1009000000001\nleadership_chat_id = 0 #<")),
     "'leadership_chat_id' must be a negative integer"),
    ("customer_service_chat_boolean", edited(("dispatch_chat_id = -1009000000001",
                                              "dispatch_chat_id = -1009000000001\ncustomer_service_chat_id = true #<")),
     "'customer_service_chat_id' must be an integer, got boolean"),
    ("centre_chat_positive", edited(("chat_id = -1009000000201", "chat_id = 1009000000201 #<")),
     "centre 'network-station': 'chat_id' must be a negative integer"),
    # lines stay right after values spanning lines
    ("after_a_multiline_array",
     edited(('aliases = ["和平", "heping"]', 'aliases = [\n  "和平",  # [[staff]]\n  "heping = 1",\n]'),
            ('role = "crew"', 'role = "boss" #<')),
     "unknown role 'boss'"),
    ("after_a_multiline_string",
     edited(('name_en = "Heping Garden"', 'name_en = """Heping\n[[staff]]\nGarden"""'),
            ('role = "crew"', 'role = "boss" #<')),
     "unknown role 'boss'"),
]


@pytest.mark.parametrize(("text", "words"), [row[1:] for row in BROKEN], ids=[row[0] for row in BROKEN])
def test_each_problem_is_reported_on_its_line(text, words):
    org, issues = check_org(text)
    line = marked_line(text)
    assert org is None
    assert any(issue.line == line and words in issue.message and not issue.warning for issue in issues), (
        f"expected line {line}: {words!r}; got:\n" + "\n".join(map(str, issues))
    )


def test_the_example_organisation_checks_clean():
    org, issues = check_org(EXAMPLE.read_text(encoding="utf-8"))
    assert issues == []
    assert org is not None and org == load_org(EXAMPLE)
    assert (org.dispatch_chat_id, org.customer_service_chat_id, org.leadership_chat_id) == (
        -1001000000001, -1001000000002, -1001000000003,
    )
    assert [c.id for c in org.centres] == ["repair-north", "repair-south", "network-station", "metering", "automation"]
    assert {c.kind for c in org.centres} == set(CENTRE_KINDS)
    assert [c.id for c in org.communities] == ["heping", "xingfuli", "yangguang", "lijingwan", "jianshe"]


def _staff(org: Org, role: str, centre_id: str | None = None) -> list[int]:
    return [s.user_id for s in org.staff if s.role == role and (centre_id is None or s.centre_id == centre_id)]


def test_the_example_has_the_people_the_demo_needs():
    org = load_org(EXAMPLE)
    for centre_id in ("repair-north", "repair-south"):
        assert len(_staff(org, "crew", centre_id)) >= 2
    for centre in org.centres:
        assert len(_staff(org, "centre_lead", centre.id)) == 1, centre.id
    for centre_id in ("network-station", "metering"):
        assert _staff(org, "crew", centre_id)
    assert _staff(org, "dispatcher") == [6001, 6002]
    assert _staff(org, "department_head") == [7001]
    assert {s.user_id: s.name for s in org.staff}[5001] == "王师傅"


@pytest.fixture
async def example_db(tmp_path: Path):
    db = await open_database(tmp_path / "org.db")
    async with db.transaction() as conn:
        await storage_org.replace_org(conn, load_org(EXAMPLE))
    try:
        yield db
    finally:
        await db.close()


async def test_the_example_leaves_jianshe_without_a_network_centre(example_db):
    async with example_db.transaction() as conn:
        assert await storage_org.centre_for(conn, "jianshe", "network") is None
        assert (await storage_org.centre_for(conn, "jianshe", "repair")).id == "repair-south"
        assert (await storage_org.centre_for(conn, "heping", "network")).id == "network-station"
        assert await storage_org.centre_for(conn, "nowhere", "repair") is None


FINDS = [
    ("id", "heping", "heping"),
    ("chinese_name", "和平苑", "heping"),
    ("chinese_alias", "和平", "heping"),
    ("english_name_any_case", "heping garden", "heping"),
    ("acronym_any_case", "hpy", "heping"),
    ("pinyin", "xingfu", "xingfuli"),
    ("blank_padded", " 建设 ", "jianshe"),
    ("unknown", "紫禁城", None),
    ("empty", "", None),
]


@pytest.mark.parametrize(("text", "expected"), [r[1:] for r in FINDS], ids=[r[0] for r in FINDS])
async def test_a_community_is_found_by_id_name_or_alias(example_db, text, expected):
    async with example_db.transaction() as conn:
        found = await storage_org.find_communities(conn, text)
    assert ([c.id for c in found] or [None])[0] == expected


async def test_names_follow_the_language(example_db):
    async with example_db.transaction() as conn:
        centre = await storage_org.get_centre(conn, "repair-north")
        community = await storage_org.get_community(conn, "heping")
    assert (centre.name("zh"), centre.name("en")) == ("北区维修服务中心", "North Repair Centre")
    assert (community.name("zh"), community.name("en")) == ("和平苑", "Heping Garden")


def test_every_problem_in_a_file_is_reported_at_once_in_line_order():
    text = edited(
        ('kind = "network"', 'kind = "pipes"'),
        ('role = "crew"', 'role = "boss"'),
        ('phone = "13800000601"', 'phone = "x"'),
    )
    org, issues = check_org(text)
    assert org is None
    assert len(issues) == 3
    assert [issue.line for issue in issues] == sorted(issue.line for issue in issues)


def test_no_dispatcher_is_a_warning_without_a_line_and_the_file_still_loads():
    org, issues = check_org(edited(('role = "dispatcher"', 'role = "department_head"')))
    assert org is not None
    assert [(i.line, i.warning) for i in issues] == [(None, True)]
    assert "no staff with role 'dispatcher'" in str(issues[0])
    assert org.warnings == tuple(issues)


def test_an_unknown_key_is_a_warning_on_its_line():
    text = edited(('kind = "network"', 'kind = "network"\ncolour = "red" #<'))
    org, issues = check_org(text)
    assert org is not None
    assert [(i.line, i.warning) for i in issues] == [(marked_line(text), True)]
    assert str(issues[0]) == f"line {marked_line(text)}: warning: centre 'network-station': unknown key 'colour' (ignored)"


VALID_VARIANTS = [
    ("empty_aliases", edited(('aliases = ["和平", "heping"]', "aliases = []"))),
    ("no_aliases_key", edited(('aliases = ["和平", "heping"]\n', ""))),
    ("community_without_a_network_centre", edited((', network = "network-station"', ""))),
    ("international_phone", edited(('phone = "13800000601"', 'phone = "+8613800000601"'))),
    ("dispatcher_with_a_centre", edited(('role = "dispatcher"', 'role = "dispatcher"\ncentre = "repair-north"'))),
    ("optional_chats", edited(("dispatch_chat_id = -1009000000001",
                               "dispatch_chat_id = -1009000000001\ncustomer_service_chat_id = -1009000000002\n"
                               "leadership_chat_id = -1009000000003"))),
]


@pytest.mark.parametrize("text", [r[1] for r in VALID_VARIANTS], ids=[r[0] for r in VALID_VARIANTS])
def test_allowed_variations_check_clean(text):
    org, issues = check_org(text)
    assert issues == []
    assert isinstance(org, Org)


def test_org_issue_prints_its_line_first():
    assert str(OrgIssue(12, "staff 5001: unknown centre 'repair-x'")) == "line 12: staff 5001: unknown centre 'repair-x'"
    assert str(OrgIssue(None, "missing required key 'centres'")) == "missing required key 'centres'"


def test_load_org_raises_org_file_error_listing_every_problem(tmp_path):
    path = tmp_path / "org.toml"
    path.write_text(edited(('centre = "repair-north"', 'centre = "repair-x"')), encoding="utf-8")
    with pytest.raises(OrgFileError) as raised:
        load_org(path)
    assert raised.value.path == path
    assert [str(issue) for issue in raised.value.issues] == ["line 28: staff 5001: unknown centre 'repair-x'"]
    assert f"{path}: line 28: staff 5001: unknown centre 'repair-x'" in str(raised.value)


def test_load_org_reports_a_missing_file_as_org_file_error(tmp_path):
    with pytest.raises(OrgFileError, match="cannot read"):
        load_org(tmp_path / "missing.toml")


@pytest.mark.parametrize(("community", "centre"), [("h" * 49, "n" * 40), ("和" * 16, "站" * 13)], ids=["ascii", "chinese"])
def test_ids_as_long_as_button_data_allows_load_and_their_buttons_pack(community, centre):
    from bot.callbacks import centre_buttons, community_buttons

    text = edited(('id = "heping"', f'id = "{community}"'), ('id = "network-station"', f'id = "{centre}"'),
                  ('network = "network-station"', f'network = "{centre}"'))
    org, issues = check_org(text)
    assert org is not None, issues
    for button in community_buttons(community) + centre_buttons(centre):
        assert len(button.pack().encode()) <= 64
