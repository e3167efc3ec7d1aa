"""The branches app's ledgers (台账) as inspectors download them: layout, types, scope, no formula
from user text, and a number of queries that does not grow with the rows."""

import datetime
import io

import openpyxl
import pytest
from django.utils import timezone
from django.utils.translation import gettext, override
from openpyxl.utils import get_column_letter

from branches.compliance import compute_compliance
from branches.ledgers import ActivityLedger
from branches.models import (
    Attachment,
    Attendance,
    Organization,
    OrganizationKind,
    Term,
)
from branches.periods import Period
from reports.ledgers import REGISTRY, write_xlsx
from tests.conftest import add_record, make_member

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
Q1 = Period.quarter(2026, 1)
CODES = ["roster", "activities", "compliance", "overdue_elections"]
INJECTIONS = ['=HYPERLINK("http://x","y")', "+1+2", "-3+cmd|' /C calc'!A0", "@SUM(1,2)"]


@pytest.fixture
def ledger_data(tree, activity_types, users):
    """Records in five organizations (one topic each), attendance and attachments on branch_a's,
    and current terms: overdue in branch_a, branch_a2, committee_b and branch_b only."""
    t = activity_types
    m = tree.members
    records = {
        "branch_a": add_record(
            tree.branch_a,
            t["theme_day"],
            D(2026, 3, 31),
            "A1 主题党日",
            place="三楼会议室",
            filed_by=users["secretary_a"],
            present_count=1,
            excused_count=1,
            absent_count=1,
        ),
        "group_a": add_record(tree.group_a, t["group_meeting"], D(2026, 2, 10), "A1-1 党小组会"),
        "branch_a2": add_record(tree.branch_a2, t["party_lecture"], D(2026, 1, 15), "A2 党课"),
        "committee_a": add_record(tree.committee_a, t["theme_day"], D(2026, 1, 20), "A 党委"),
        "branch_b": add_record(tree.branch_b, t["theme_day"], D(2026, 2, 5), "B1 主题党日"),
    }
    a = records["branch_a"]
    Attendance.objects.bulk_create(
        [
            Attendance(record=a, member=m["a1"], status="present"),
            Attendance(record=a, member=m["a2"], status="excused"),
            Attendance(record=a, member=m["a3"], status="absent"),
        ]
    )
    for name in ("合影.png", "记录.pdf"):
        Attachment.objects.create(
            record=a, file=f"activity/{name}", original_name=name, content_type="image/png", size=1
        )
    Term.objects.create(organization=tree.committee_a, started_on=D(2024, 1, 1))  # due 2029
    Term.objects.create(organization=tree.branch_a, started_on=D(2023, 1, 1))  # due 2026-01-01
    Term.objects.create(organization=tree.branch_a2, started_on=D(2021, 5, 1))
    Term.objects.create(organization=tree.committee_b, started_on=D(2020, 6, 1))
    Term.objects.create(
        organization=tree.branch_b,
        started_on=D(2022, 3, 1),
        length_years=3,
        extension_months=6,
        extension_approval="水务局党委〔2025〕1号",
    )  # due 2025-09-01
    Organization.objects.filter(pk=tree.branch_a.pk).update(secretary=m["a1"])
    Organization.objects.filter(pk=tree.branch_b.pk).update(secretary=m["b1"])
    return records


def build(code, user, **params):
    """(ledger, worksheet, data rows as values) of one ledger written by the shared writer."""
    if code == "compliance":
        params.setdefault("period", Q1)
    ledger = REGISTRY[code](user, params)
    out = io.BytesIO()
    written = write_xlsx(ledger, out)
    out.seek(0)
    ws = openpyxl.load_workbook(out).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(min_row=5, values_only=True)]
    if not written:  # an empty ledger says so on the line under its header
        assert rows == [
            [
                gettext("No rows: nothing in your scope matches."),
                *[None] * (len(ledger.columns) - 1),
            ]
        ]
        rows = []
    assert len(rows) == written
    return ledger, ws, rows


def headers(ledger):
    """The columns named by their source (English) headers, whatever the language of the file."""
    with override("en"):
        return [str(c.header) for c in ledger.columns]


def column(ledger, rows, header):
    index = headers(ledger).index(header)
    return [row[index] for row in rows]


def row_where(ledger, rows, header, value):
    index = headers(ledger).index(header)
    (found,) = [row for row in rows if row[index] == value]
    return dict(zip(headers(ledger), found, strict=True))


# -- layout -----------------------------------------------------------------------------------


def test_the_four_ledgers_are_registered():
    assert set(CODES) <= set(REGISTRY)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("code", CODES)
def test_each_ledger_has_title_filters_header_frozen_panes_and_auto_filter(
    code, language, ledger_data, staff, tree
):
    with override(language):
        ledger, ws, rows = build(code, staff, unit=tree.unit_a)
        assert ws["A1"].value == str(ledger.title)
        assert ws["A2"].value == "；".join(ledger.params.describe())
        assert gettext("Unit: %(name)s") % {"name": "市统计局"} in ws["A2"].value
        assert [c.value for c in ws[4]] == [str(c.header) for c in ledger.columns]
    assert ws.freeze_panes == "A5"
    assert rows, "unit A has rows in every ledger"
    last = get_column_letter(len(ledger.columns))
    assert ws.auto_filter.ref == f"A4:{last}{4 + len(rows)}"
    assert ledger.count() == len(rows)


def test_a_ledger_with_no_rows_still_has_its_header_and_filter(tree, activity_types, staff):
    ledger, ws, rows = build("activities", staff)
    assert rows == []
    with override("zh-hans"):
        assert (
            build("activities", staff)[1]["A5"].value
            == "没有数据：您的权限范围内没有符合条件的记录。"
        )
    assert ws["A2"].value == gettext("All organizations in your scope")
    assert ws.auto_filter.ref == f"A4:{get_column_letter(len(ledger.columns))}5"


# -- rows and types ---------------------------------------------------------------------------


def test_roster_rows_are_typed_and_labelled(ledger_data, staff, tree):
    with override("zh-hans"):
        ledger, _ws, rows = build("roster", staff)
        yes, no = gettext("Yes"), gettext("No")
    # By unit sort order, branch path, member number.
    expected = ["A0001", "A0002", "A0003", "A0101", "B0001", "B0002"]
    assert column(ledger, rows, "Member number") == expected
    a1 = row_where(ledger, rows, "Member number", "A0001")
    assert a1["Unit"] == "市统计局" and a1["Party branch"] == "统计局第一党支部"
    assert a1["Party group"] == "统计局第一党小组" and a1["Name"] == "张伟"
    assert a1["Sex"] == "男" and a1["Status"] == "正式党员" and a1["Party duty"] == "书记"
    assert a1["Birth date"] == datetime.datetime(1985, 6, 1)
    assert a1["Joined the party on"] == datetime.datetime(2010, 7, 1)
    assert isinstance(a1["Age"], int)
    assert a1["Age"] == tree.members["a1"].age()
    assert a1["Party affairs cadre"] == no and a1["Hardship member"] == no
    assert a1["Full member since"] is None and a1["Phone"] is None
    a3 = row_where(ledger, rows, "Member number", "A0003")
    assert a3["Status"] == "预备党员" and a3["Party group"] is None and a3["Party duty"] is None
    make_member(tree.branch_a2, "A0102", "赵敏", is_hardship=True, phone="13800000000")
    _ledger, _ws, rows = build("roster", staff)
    a102 = row_where(ledger, rows, "Member number", "A0102")
    assert a102["Hardship member"] == yes and a102["Phone"] == "13800000000"


def test_activity_rows_carry_attendance_names_attachments_and_filing(ledger_data, staff):
    ledger, ws, rows = build("activities", staff)
    by_date = ["A2 党课", "A 党委", "B1 主题党日", "A1-1 党小组会", "A1 主题党日"]
    assert column(ledger, rows, "Topic") == by_date
    row = row_where(ledger, rows, "Topic", "A1 主题党日")
    assert row["Date"] == datetime.datetime(2026, 3, 31)
    assert row["Unit"] == "市统计局" and row["Organization"] == "统计局第一党支部"
    assert row["Activity type"] == "主题党日" and row["Place"] == "三楼会议室"
    assert (row["Expected"], row["Present"], row["Excused"], row["Absent"]) == (3, 1, 1, 1)
    assert row["Attendance rate"] == pytest.approx(1 / 3)
    assert row["Excused members"] == "王芳" and row["Absent members"] == "李娜"
    assert row["Attachments"] == 2
    assert row["Counts for compliance"] == gettext("Yes")
    assert row["Filed by"] == "sec_a"
    filed_at = timezone.localtime(ledger_data["branch_a"].filed_at).replace(tzinfo=None)
    assert isinstance(row["Filed at"], datetime.datetime)
    assert abs(row["Filed at"] - filed_at) < datetime.timedelta(seconds=1)
    cells = dict(zip(headers(ledger), ws[9], strict=True))
    assert cells["Attendance rate"].number_format == "0.0%"
    assert cells["Date"].number_format == "yyyy-mm-dd"
    assert cells["Filed at"].number_format == "yyyy-mm-dd hh:mm"
    assert cells["Expected"].data_type == "n"
    quiet = row_where(ledger, rows, "Topic", "A2 党课")
    assert quiet["Expected"] == 0 and quiet["Attendance rate"] is None
    assert quiet["Excused members"] is None and quiet["Attachments"] == 0
    assert quiet["Filed by"] is None


def test_activity_names_follow_member_numbers_and_several_are_joined(ledger_data, staff, tree):
    record = ledger_data["branch_a"]
    Attendance.objects.filter(record=record, member=tree.members["a1"]).update(status="excused")
    ledger, _ws, rows = build("activities", staff)
    row = row_where(ledger, rows, "Topic", "A1 主题党日")
    assert row["Excused members"] == "张伟、王芳"


def test_period_filter_of_activities_includes_31_march_in_q1_not_in_q2(ledger_data, staff):
    ledger, ws, rows = build("activities", staff, period=Q1)
    assert "A1 主题党日" in column(ledger, rows, "Topic")
    assert len(rows) == 5
    ledger, ws, rows = build("activities", staff, period=Period.quarter(2026, 2))
    assert rows == []
    march = build("activities", staff, period=Period.month(2026, 3))
    assert column(march[0], march[2], "Topic") == ["A1 主题党日"]
    assert march[0].params["period"].label in march[1]["A2"].value


def test_organization_filter_takes_the_subtree(ledger_data, staff, tree):
    ledger, _ws, rows = build("activities", staff, organization=tree.branch_a)
    assert set(column(ledger, rows, "Topic")) == {"A1 主题党日", "A1-1 党小组会"}
    ledger, _ws, rows = build("roster", staff, organization=tree.branch_a2)
    assert column(ledger, rows, "Member number") == ["A0101"]


def test_compliance_numbers_are_those_of_the_engine(ledger_data, staff, tree):
    with override("zh-hans"):
        ledger, _ws, rows = build("compliance", staff, period=Q1)
        yes, no = gettext("Yes"), gettext("No")
    judged = Organization.objects.exclude(kind=OrganizationKind.GROUP)
    engine = compute_compliance(judged, Q1)
    assert len(rows) == len(engine) == ledger.count() == 6
    names = dict(judged.values_list("name", "pk"))
    for values in rows:
        row = dict(zip(headers(ledger), values, strict=True))
        result = engine[names[row["Organization"]]]
        assert (row["Activities owed"], row["Activities held"], row["Missing"]) == (
            result.owed,
            result.held,
            result.missing,
        )
        assert row["What was missed"] == (result.missing_detail() or None)
        assert row["Compliant"] == ((yes if result.compliant else no) if result.owed else None)
        due = result.election_due_on
        assert row["Next election due"] == (
            datetime.datetime.combine(due, datetime.time()) if due else None
        )
        assert row["Election overdue"] == (yes if result.election_overdue else no)
    a2 = row_where(ledger, rows, "Organization", "统计局第二党支部")
    # Q1: a general meeting, a lecture (held on 15 January) and three theme days owed.
    assert (a2["Activities owed"], a2["Activities held"], a2["Missing"]) == (5, 1, 4)
    assert a2["What was missed"] == "支部党员大会×1、主题党日×3"
    assert a2["Compliant"] == no and a2["Election overdue"] == yes
    a1 = row_where(ledger, rows, "Organization", "统计局第一党支部")
    assert "党小组会×2" in a1["What was missed"]  # group_a met in February only
    committee = row_where(ledger, rows, "Organization", "市统计局机关党委")
    assert committee["Activities owed"] == 0 and committee["Compliant"] is None
    assert committee["Kind"] == str(OrganizationKind.COMMITTEE.label)
    assert committee["Next election due"] == datetime.datetime(2029, 1, 1)


def test_compliance_of_a_group_asked_for_by_itself(ledger_data, staff, tree):
    ledger, _ws, rows = build("compliance", staff, organization=tree.group_a)
    (row,) = rows
    assert row[1] == "统计局第一党小组" and row[3:6] == [3, 1, 2]


def test_overdue_elections_rows(ledger_data, staff):
    today = timezone.localdate()
    ledger, _ws, rows = build("overdue_elections", staff)
    longest_overdue_first = [
        "统计局第二党支部",
        "市水务局机关党委",
        "水务局第一党支部",
        "统计局第一党支部",
    ]
    assert column(ledger, rows, "Organization") == longest_overdue_first
    b1 = row_where(ledger, rows, "Organization", "水务局第一党支部")
    assert b1["Unit"] == "市水务局" and b1["Kind"] == str(OrganizationKind.BRANCH.label)
    assert b1["Term started on"] == datetime.datetime(2022, 3, 1)
    assert b1["Term length (years)"] == 3 and b1["Approved change (months)"] == 6
    assert b1["Election due on"] == datetime.datetime(2025, 9, 1)
    assert b1["Days overdue"] == (today - D(2025, 9, 1)).days
    assert b1["Secretary"] == "陈静"
    committee = row_where(ledger, rows, "Organization", "市水务局机关党委")
    assert committee["Term length (years)"] == 5 and committee["Secretary"] is None


# -- scope: every ledger, every standing user ---------------------------------------------------

A_ROSTER = {"A0001", "A0002", "A0003"}
A_TOPICS = {"A1 主题党日", "A1-1 党小组会"}
A_JUDGED = {"统计局第一党支部"}
UNIT_A_JUDGED = A_JUDGED | {"市统计局机关党委", "统计局第二党支部"}
B_JUDGED = {"市水务局机关党委", "水务局机关党总支", "水务局第一党支部"}
KEY = {
    "roster": "Member number",
    "activities": "Topic",
    "compliance": "Organization",
    "overdue_elections": "Organization",
}
SCOPE = [
    ("roster", "secretary_a", A_ROSTER),
    ("roster", "inspector_a", A_ROSTER | {"A0101"}),
    ("roster", "secretary_b", {"B0001", "B0002"}),
    ("roster", "staff", A_ROSTER | {"A0101", "B0001", "B0002"}),
    ("roster", "inspector_city", A_ROSTER | {"A0101", "B0001", "B0002"}),
    ("activities", "secretary_a", A_TOPICS),
    ("activities", "inspector_a", A_TOPICS | {"A2 党课", "A 党委"}),
    ("activities", "secretary_b", {"B1 主题党日"}),
    ("activities", "staff", A_TOPICS | {"A2 党课", "A 党委", "B1 主题党日"}),
    ("compliance", "secretary_a", A_JUDGED),
    ("compliance", "inspector_a", UNIT_A_JUDGED),
    ("compliance", "secretary_b", {"水务局第一党支部"}),
    ("compliance", "staff", UNIT_A_JUDGED | B_JUDGED),
    ("overdue_elections", "secretary_a", {"统计局第一党支部"}),
    ("overdue_elections", "inspector_a", {"统计局第一党支部", "统计局第二党支部"}),
    ("overdue_elections", "secretary_b", {"水务局第一党支部"}),
    (
        "overdue_elections",
        "staff",
        {"统计局第一党支部", "统计局第二党支部", "市水务局机关党委", "水务局第一党支部"},
    ),
]


@pytest.mark.parametrize("code, role, expected", SCOPE)
def test_each_user_gets_only_the_rows_of_their_scope(code, role, expected, ledger_data, users):
    ledger, _ws, rows = build(code, users[role])
    assert set(column(ledger, rows, KEY[code])) == expected
    assert len(rows) == len(expected) == ledger.count()


def test_a_filter_outside_the_scope_gives_nothing(ledger_data, secretary_a, tree):
    """The filter form refuses it; even if it got through, the scope still applies."""
    for code in CODES:
        _ledger, _ws, rows = build(code, secretary_a, unit=tree.unit_b)
        assert rows == [], code


# -- formula injection ------------------------------------------------------------------------


def test_user_text_that_looks_like_a_formula_comes_out_as_text(ledger_data, staff, tree):
    evil = make_member(tree.branch_a, "A0000", INJECTIONS[0])
    record = ledger_data["branch_a"]
    Attendance.objects.create(record=record, member=evil, status="excused")
    Organization.objects.filter(pk=tree.branch_a.pk).update(secretary=evil)
    for day, topic in enumerate(INJECTIONS[1:], start=1):
        add_record(tree.branch_a2, record.activity_type, D(2026, 4, day), topic, place=topic)

    ledger, ws, rows = build("roster", staff)
    (cell,) = [c for c in ws["E"] if c.value == INJECTIONS[0]]
    assert cell.data_type == "s"

    ledger, ws, rows = build("activities", staff)
    topics = {c.value: c for c in ws["E"][4:]}
    for text in INJECTIONS[1:]:
        assert topics[text].data_type == "s"
    (excused,) = [c for c in ws["L"][4:] if c.value and c.value.startswith("=")]
    assert excused.value == f"{INJECTIONS[0]}、王芳"  # by member number: A0000 first
    assert excused.data_type == "s"

    ledger, ws, rows = build("overdue_elections", staff)
    (cell,) = [c for c in ws["I"] if c.value == INJECTIONS[0]]
    assert cell.data_type == "s"


# -- queries: constant, or growing only with the number of chunks ---------------------------------


def _more_members(tree, n):
    for i in range(n):
        make_member(tree.branch_a2 if i % 2 else tree.branch_b, f"X{i:04d}", f"党员{i}")


def _more_overdue(tree, n):
    for i in range(n):
        branch = Organization.objects.create(
            code=f"A-X{i}",
            name=f"新支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
        Term.objects.create(organization=branch, started_on=D(2019, 1, 1))


# Which queries: the roster and the election ledger are one query each (scope is a subquery;
# an inspector's members read the scope's ids first, `selectors._scope_ids`); the compliance
# ledger is the engine's six (organizations, groups, rules, committee sizes, record counts,
# terms) and one for the organizations' names.
@pytest.mark.parametrize(
    "code, queries, grow",
    [
        ("roster", {"secretary_a": 1, "inspector_a": 2, "staff": 1}, _more_members),
        ("compliance", 7, _more_overdue),
        ("overdue_elections", 1, _more_overdue),
    ],
)
def test_queries_do_not_grow_with_rows(
    code, queries, grow, ledger_data, users, tree, django_assert_num_queries
):
    params = {"period": Q1} if code == "compliance" else {}

    def write(role):
        return write_xlsx(REGISTRY[code](users[role], params), io.BytesIO())

    expected = (
        queries
        if isinstance(queries, dict)
        else dict.fromkeys(("secretary_a", "inspector_a", "staff"), queries)
    )
    for role in ("secretary_a", "inspector_a", "staff"):
        with django_assert_num_queries(expected[role]):
            few = write(role)
    grow(tree, 30)
    for role in ("inspector_a", "staff"):
        with django_assert_num_queries(expected[role]):
            many = write(role)
    assert many == few + 30


def _records(tree, activity_types, n):
    theme = activity_types["theme_day"]
    members = list(tree.branch_a.members.all())
    start = D(2025, 1, 1)
    for i in range(n):
        record = add_record(
            tree.branch_a2, theme, start + datetime.timedelta(days=i), f"第{i}次", absent_count=1
        )
        Attendance.objects.create(record=record, member=members[i % len(members)], status="absent")


class BigChunks(ActivityLedger):
    chunk_size = 1000


@pytest.mark.parametrize("n", [3, 30])
def test_activity_ledger_queries_do_not_grow_with_rows(
    n, tree, activity_types, staff, django_assert_num_queries
):
    # One query streams the records (attachment counts are a subquery in it), one fetches the
    # excused and absent names of the chunk: two for 3 records and for 30.
    _records(tree, activity_types, n)
    with django_assert_num_queries(2):
        assert write_xlsx(BigChunks(staff), io.BytesIO()) == n


@pytest.mark.parametrize("n, chunks", [(0, 0), (3, 1), (10, 1), (11, 2), (30, 3)])
def test_activity_ledger_queries_grow_only_per_chunk(
    n, chunks, tree, activity_types, staff, django_assert_num_queries
):
    _records(tree, activity_types, n)
    ledger = ActivityLedger(staff)
    ledger.chunk_size = 10
    with django_assert_num_queries(1 + chunks):
        out = io.BytesIO()
        assert write_xlsx(ledger, out) == n
    out.seek(0)
    sheet = openpyxl.load_workbook(out).active
    absent = [row[12] for row in sheet.iter_rows(min_row=5, values_only=True)]
    if n == 0:
        absent = []  # the one line under the header says the ledger has no rows
    assert all(absent) and len(absent) == n  # every chunk got its names


# -- columns a user may not see ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "private"),
    [("staff", True), ("secretary_a", True), ("inspector_a", False), ("inspector_city", False)],
)
def test_phone_and_birth_date_only_for_those_who_may_see_them(role, private, ledger_data, users):
    """Inspectors get the age but no phone or birth date ("member.view_private")."""
    make_member(ledger_data["branch_a"].organization, "A0009", "赵敏", phone="13800000000")
    ledger, ws, rows = build("roster", users[role])
    names = headers(ledger)
    assert ("Phone" in names, "Birth date" in names) == (private, private)
    assert [c.value for c in ws[4]] == [str(c.header) for c in ledger.columns]
    assert len(ledger.columns) == len(type(ledger).columns) - (0 if private else 2)
    row = row_where(ledger, rows, "Member number", "A0009")
    assert isinstance(row["Age"], int)
    if private:
        assert row["Phone"] == "13800000000"
        assert row["Birth date"] == datetime.datetime(1985, 6, 1)
    else:
        # Not even read from the database.
        assert "phone" not in ledger.fields()
        assert "13800000000" not in {v for r in rows for v in r}


# -- one home per rule -------------------------------------------------------------------------


def test_a_name_is_printed_family_name_first_everywhere(ledger_data, secretary_a, staff, tree):
    """The activity ledger's "Filed by" and every sheet's "built by" line print 苏刚波, as the
    rest of the portal does; an account without a name shows its username."""
    secretary_a.first_name, secretary_a.last_name = "刚波", "苏"
    secretary_a.save(update_fields=["first_name", "last_name"])
    theme = ledger_data["branch_a"].activity_type
    add_record(tree.branch_a, theme, D(2026, 3, 20), "苏书记填报", filed_by=secretary_a)
    add_record(tree.branch_a, theme, D(2026, 3, 21), "无名账号填报", filed_by=staff)
    for code in CODES:
        ledger, ws, rows = build(code, secretary_a)
        assert "苏刚波" in ws["A3"].value and "刚波 苏" not in ws["A3"].value, code
        assert "刚波 苏" not in {v for r in rows for v in r if isinstance(v, str)}, code
    ledger, ws, rows = build("activities", staff)
    assert row_where(ledger, rows, "Topic", "苏书记填报")["Filed by"] == "苏刚波"
    assert row_where(ledger, rows, "Topic", "无名账号填报")["Filed by"] == "staff"
    assert row_where(ledger, rows, "Topic", "A1 主题党日")["Filed by"] == "苏刚波"
    assert "staff" in ws["A3"].value


def test_the_unit_filter_takes_the_joint_committees_spanning_the_unit(
    ledger_data, users, tree, activity_types
):
    """A joint committee whose joint units include unit A is among unit A's organizations
    (`Organization.objects.of_unit`), in every ledger that lists organizations."""
    tree.committee_b.joint_units.add(tree.unit_a)
    add_record(tree.committee_b, activity_types["theme_day"], D(2026, 2, 2), "B 联合党委")
    for role in ("staff", "inspector_a"):
        user = users[role]
        _ledger, _ws, rows = build("overdue_elections", user, unit=tree.unit_a)
        assert "市水务局机关党委" in {row[1] for row in rows}, role
        ledger, _ws, rows = build("compliance", user, unit=tree.unit_a)
        assert set(column(ledger, rows, "Organization")) == UNIT_A_JUDGED | {"市水务局机关党委"}
        ledger, _ws, rows = build("activities", user, unit=tree.unit_a)
        assert "B 联合党委" in column(ledger, rows, "Topic"), role
        assert "B1 主题党日" not in column(ledger, rows, "Topic")  # its children are not
    ledger, _ws, rows = build("compliance", users["staff"], unit=tree.unit_b)
    assert "市水务局机关党委" in column(ledger, rows, "Organization")  # still its own unit's


def test_the_bulletin_unit_filter_takes_joint_committees_and_keeps_history(
    ledger_data, users, tree
):
    from reports.models import Bulletin, BulletinRow

    tree.committee_b.joint_units.add(tree.unit_a)
    bulletin = Bulletin.objects.create(month=D(2026, 10, 1), built_at=timezone.now())

    def line(organization, unit, name):
        return BulletinRow(
            bulletin=bulletin,
            organization=organization,
            unit=unit,
            organization_name=name,
            organization_code=name,
            organization_kind="branch",
            unit_name=unit.name,
            owed=1,
            held=0,
            missing=1,
        )

    BulletinRow.objects.bulk_create(
        [
            line(tree.branch_a, tree.unit_a, "A-1"),
            line(tree.committee_b, tree.unit_b, "B"),
            line(tree.branch_b, tree.unit_b, "B-1"),
            line(None, tree.unit_a, "A-deleted"),  # an organization deleted since
        ]
    )
    october = Period.month(2026, 10)
    for role, expected in (("staff", {"A-1", "B", "A-deleted"}), ("inspector_a", {"A-1", "B"})):
        ledger, _ws, rows = build("bulletin", users[role], unit=tree.unit_a, period=october)
        assert set(column(ledger, rows, "Organization code")) == expected, role
