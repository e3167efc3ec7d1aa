"""The pairings app's ledgers (台账): registered with the framework, scoped by the selectors,
filtered by scheme, unit, organization, period, status and kind, typed cells in a file that
opens with openpyxl, and a number of queries that does not grow with the rows."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils.translation import gettext, override

from branches.periods import Period
from pairings.models import (
    CounterpartKind,
    HelpKind,
    HelpPhoto,
    HelpRecord,
    Measure,
    MemberPair,
    Need,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
    Project,
)
from reports.ledgers import REGISTRY, write_xlsx
from tests.conftest import add_record
from tests.reports.test_ledger_files import assert_ledger_file

D = datetime.date
CODES = ["pairings", "help_records", "member_pairs"]
EVIL = '=HYPERLINK("http://x","y")'

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(tree, schemes, partners, pair, activity_types, secretary_a):
    """Three pairings (A-1 "1+1" with 东村, docked; A-2 flagged onto the same village; B-1
    "挂钩帮扶" with 西村, ended in 2025), with needs, help, projects and member pairs."""
    m = tree.members
    a1 = pair(
        schemes["one_plus_one"],
        tree.branch_a,
        partners["village1"],
        started_on=D(2025, 1, 1),
        status=PairingStatus.DOCKED,
        docked_on=D(2025, 2, 1),
    )
    a2 = pair(
        schemes["one_plus_one"],
        tree.branch_a2,
        partners["village1"],
        started_on=D(2026, 1, 5),
        override_reason="两个支部均派驻第一书记",
    )
    b1 = pair(schemes["village_support"], tree.branch_b, partners["village2"], D(2024, 3, 1))
    Pairing.objects.filter(pk=b1.pk).update(status=PairingStatus.ENDED, ended_on=D(2025, 6, 30))
    # Needs: two open and one met on A-1, with measures.
    road = Need.objects.create(pairing=a1, description="村道硬化", found_on=D(2025, 1, 10))
    Need.objects.create(pairing=a1, description="活动室漏雨", found_on=D(2025, 3, 1))
    Need.objects.create(
        pairing=a1, description="缺少图书", found_on=D(2025, 1, 5), met_on=D(2025, 5, 1)
    )
    Measure.objects.create(need=road, description="争取交通局资金")
    Measure.objects.create(need=road, description="党员志愿劳动")
    Project.objects.create(
        pairing=a1,
        name="村级书屋",
        budget=Decimal("12000.50"),
        started_on=D(2025, 2, 1),
        due_on=D(2025, 12, 31),
    )
    # Help on A-1: a visit counted as the theme day, another in 2026, funds and goods.
    theme_day = add_record(tree.branch_a, activity_types["theme_day"], D(2025, 3, 15), "走访")
    visit = HelpRecord.objects.create(
        pairing=a1,
        kind=HelpKind.VISIT,
        date=D(2025, 3, 15),
        description="走访困难户",
        others="驻村第一书记",
        activity_record=theme_day,
        filed_by=secretary_a,
    )
    visit.participants.set([m["a2"], m["a1"]])
    HelpPhoto.objects.create(
        help_record=visit,
        file="help/a.png",
        original_name="a.png",
        content_type="image/png",
        size=1,
    )
    HelpRecord.objects.create(
        pairing=a1, kind=HelpKind.VISIT, date=D(2026, 1, 20), description=EVIL
    )
    HelpRecord.objects.create(
        pairing=a1,
        kind=HelpKind.FUNDS,
        date=D(2025, 4, 1),
        description="资助村道",
        amount=Decimal("400000.10"),
    )
    HelpRecord.objects.create(
        pairing=a1,
        kind=HelpKind.GOODS,
        date=D(2025, 12, 20),
        description="冬季慰问",
        item="棉被",
        quantity=Decimal("206"),
        unit_of_measure="床",
        value=Decimal("20600.20"),
    )
    HelpRecord.objects.create(
        pairing=b1, kind=HelpKind.FUNDS, date=D(2024, 5, 1), description="B", amount=Decimal("5")
    )
    MemberPair.objects.create(
        pairing=a1,
        member=m["a1"],
        counterpart_kind=CounterpartKind.KEY_HOUSEHOLD,
        counterpart_name="王大爷",
        started_on=D(2025, 2, 1),
    )
    MemberPair.objects.create(
        pairing=b1,
        member=m["b1"],
        counterpart_kind=CounterpartKind.VILLAGE_MEMBER,
        counterpart_name="李村民",
        started_on=D(2024, 4, 1),
    )
    return {"a1": a1, "a2": a2, "b1": b1}


def build(code, user, **params):
    """(ledger, worksheet, data rows as dicts by English header) of one ledger as written."""
    ledger = REGISTRY[code](user, params)
    out = io.BytesIO()
    written = write_xlsx(ledger, out)
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    with override("en"):
        names = [str(c.header) for c in ledger.columns]
    rows = [dict(zip(names, r, strict=True)) for r in ws.iter_rows(min_row=5, values_only=True)]
    if not written:
        rows = []
    assert len(rows) == written == ledger.count()
    return ledger, ws, rows, out.getvalue()


def by(rows, key, value) -> dict:
    (found,) = [r for r in rows if r[key] == value]
    return found


# --- registration ------------------------------------------------------------------------------


def test_the_three_ledgers_are_registered_with_their_filters():
    assert set(CODES) <= set(REGISTRY)
    filters = {code: [f.name for f in REGISTRY[code].filters] for code in CODES}
    assert filters == {
        "pairings": ["scheme", "unit", "organization", "period", "status"],
        "help_records": ["scheme", "unit", "organization", "period", "kind"],
        "member_pairs": ["scheme", "unit", "organization", "period", "status"],
    }


def test_the_api_lists_them_and_builds_one_as_a_job(
    client_for, data, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client = client_for("secretary_a")
    listed = {item["code"] for item in client.get(reverse("ledger-list")).json()}
    assert set(CODES) <= listed
    with django_capture_on_commit_callbacks(execute=True):  # the (eager) task builds it
        response = client.post(
            reverse("ledger-export-list"),
            {"ledger": "pairings", "scheme": data["a1"].scheme_id, "status": "docked"},
            content_type="application/json",
        )
    assert response.status_code == 201, response.json()
    job = client.get(response["Location"]).json()
    assert job["params"] == {
        "scheme": data["a1"].scheme_id,
        "unit": None,
        "organization": None,
        "period": None,
        "status": "docked",
    }
    assert job["status"] == "done" and job["rows_written"] == 1
    bad = client.post(
        reverse("ledger-export-list"),
        {"ledger": "help_records", "kind": "gold"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "kind" in bad.json()


def test_the_downloads_page_offers_them(client_for, data):
    page = client_for("secretary_a").get(reverse("portal:downloads") + "?ledger=pairings")
    assert page.status_code == 200
    with override("zh-hans"):
        html = client_for("secretary_a").get(reverse("portal:downloads")).content.decode()
    assert "结对共建台账" in html and "帮扶记录台账" in html and "党员结对台账" in html


# --- rows and types ------------------------------------------------------------------------------


def test_pairing_rows_carry_needs_help_projects_and_the_flag(data, staff):
    with override("zh-hans"):
        ledger, ws, rows, content = build("pairings", staff)
        yes, no = gettext("Yes"), gettext("No")
        seen = assert_ledger_file(ledger, content)
    assert seen >= {"text", "int", "date", "money", "bool"}
    a1 = by(rows, "Organization code", "A-1")
    assert a1["Pairing scheme"] == "“1+1”好支部共建" and a1["Unit"] == "市统计局"
    assert a1["Organ organization"] == "统计局第一党支部"
    assert (a1["Partner"], a1["Town or subdistrict"]) == ("东村党支部", "城关镇")
    assert a1["District or county"] == "江城区" and a1["Partner kind"] == "村党组织"
    assert a1["Pairing status"] == "对接完成"
    assert a1["Started on"] == datetime.datetime(2025, 1, 1)
    assert a1["Docked on"] == datetime.datetime(2025, 2, 1) and a1["Ended on"] is None
    assert (a1["Needs"], a1["Open needs"], a1["Measures"]) == (3, 2, 2)
    assert a1["Open needs (what)"] == "村道硬化；活动室漏雨"  # oldest first, the met one left out
    assert (a1["Visits"], a1["Last visit"]) == (2, datetime.datetime(2026, 1, 20))
    assert a1["Funds (yuan)"] == 400000.10 and a1["Goods value (yuan)"] == 20600.20
    assert a1["Co-building projects"] == 1
    assert a1["Breaks the scheme's rule"] == no and a1["Reason for breaking the rule"] is None
    a2 = by(rows, "Organization code", "A-2")
    assert a2["Breaks the scheme's rule"] == yes
    assert a2["Reason for breaking the rule"] == "两个支部均派驻第一书记"
    assert (a2["Visits"], a2["Funds (yuan)"], a2["Last visit"]) == (0, 0, None)
    assert a2["Open needs (what)"] is None
    cells = {c.column_letter: c for c in ws[5]}
    funds = next(c for c in ws[4] if c.value == "资金（元）").column_letter
    assert cells[funds].data_type == "n" and cells[funds].number_format == "#,##0.00"


def test_money_is_exact_however_many_small_amounts(data, staff):
    a2 = data["a2"]
    HelpRecord.objects.bulk_create(
        HelpRecord(
            pairing=a2,
            kind=HelpKind.FUNDS,
            date=D(2026, 1, 6),
            description="x",
            amount=Decimal("0.10"),
        )
        for _ in range(3)
    )
    ledger = REGISTRY["pairings"](staff, {})
    row = next(r for r in ledger.rows() if r["pk"] == a2.pk)
    from pairings.ledgers import PairingLedger

    with override("en"):
        funds = next(c for c in PairingLedger.columns if str(c.header) == "Funds (yuan)")
    assert funds.source.reader(ledger)(row) == Decimal("0.30")


def test_help_rows_name_who_went_and_the_theme_day(data, staff):
    with override("zh-hans"):
        ledger, ws, rows, content = build("help_records", staff)
        yes, no = gettext("Yes"), gettext("No")
        assert_ledger_file(ledger, content)
    # Newest first.
    assert [r["Date"].date() for r in rows] == [
        D(2026, 1, 20),
        D(2025, 12, 20),
        D(2025, 4, 1),
        D(2025, 3, 15),
        D(2024, 5, 1),
    ]
    visit = by(rows, "What was done", "走访困难户")
    assert visit["Kind of help"] == "走访" and visit["Organ organization"] == "统计局第一党支部"
    assert visit["Who went"] == "张伟、王芳"  # by member number
    assert visit["Others who went"] == "驻村第一书记"
    assert visit["Counted as theme party day"] == yes and visit["Photos"] == 1
    assert visit["Filed by"] == "sec_a"
    assert by(rows, "What was done", EVIL)["Counted as theme party day"] == no
    funds = by(rows, "What was done", "资助村道")
    assert funds["Amount (yuan)"] == 400000.10 and funds["Counted as theme party day"] is None
    assert funds["Who went"] is None
    goods = by(rows, "What was done", "冬季慰问")
    assert (goods["Item"], goods["Quantity"], goods["Unit of measure"]) == ("棉被", 206, "床")
    assert goods["Goods value (yuan)"] == 20600.20
    evil = next(c for row in ws.iter_rows(min_row=5) for c in row if c.value == EVIL)
    assert evil.data_type == "s"  # user text that looks like a formula stays text


def test_member_pair_rows(data, staff):
    with override("zh-hans"):
        ledger, _ws, rows, content = build("member_pairs", staff)
        assert_ledger_file(ledger, content)
    a = by(rows, "Member number", "A0001")
    assert (a["Organ member"], a["Party branch"]) == ("张伟", "统计局第一党支部")
    assert (a["Paired with"], a["Counterpart"]) == ("重点户", "王大爷")
    assert a["Partner"] == "东村党支部" and a["Started on"] == datetime.datetime(2025, 2, 1)
    assert a["Pairing status"] == "对接完成"


# --- scope ---------------------------------------------------------------------------------------

SCOPE = [
    ("pairings", "Organization code", "secretary_a", {"A-1"}),
    ("pairings", "Organization code", "secretary_b", {"B-1"}),
    ("pairings", "Organization code", "inspector_a", {"A-1", "A-2"}),
    ("pairings", "Organization code", "inspector_city", {"A-1", "A-2", "B-1"}),
    ("pairings", "Organization code", "staff", {"A-1", "A-2", "B-1"}),
    ("help_records", "Organ organization", "secretary_a", {"统计局第一党支部"}),
    ("help_records", "Organ organization", "secretary_b", {"水务局第一党支部"}),
    ("help_records", "Organ organization", "inspector_a", {"统计局第一党支部"}),
    ("help_records", "Organ organization", "staff", {"统计局第一党支部", "水务局第一党支部"}),
    ("member_pairs", "Member number", "secretary_a", {"A0001"}),
    ("member_pairs", "Member number", "secretary_b", {"B0001"}),
    ("member_pairs", "Member number", "inspector_a", {"A0001"}),
    ("member_pairs", "Member number", "staff", {"A0001", "B0001"}),
]


@pytest.mark.parametrize("code, key, role, expected", SCOPE)
def test_each_user_gets_only_the_rows_of_their_scope(code, key, role, expected, data, users):
    _ledger, _ws, rows, _content = build(code, users[role])
    assert {r[key] for r in rows} == expected


def test_a_filter_outside_the_scope_gives_nothing(data, secretary_a, tree):
    for code in CODES:
        assert build(code, secretary_a, unit=tree.unit_b)[2] == [], code
        assert build(code, secretary_a, organization=tree.branch_b)[2] == [], code


# --- filters -------------------------------------------------------------------------------------


def test_scheme_status_unit_and_organization_filters(data, staff, schemes, tree):
    def codes(**params):
        return sorted(r["Organization code"] for r in build("pairings", staff, **params)[2])

    assert codes(scheme=schemes["one_plus_one"]) == ["A-1", "A-2"]
    assert codes(scheme=schemes["village_support"]) == ["B-1"]
    assert codes(status=PairingStatus.PLANNED) == ["A-2"]
    assert codes(status=PairingStatus.ENDED) == ["B-1"]
    assert codes(unit=tree.unit_a) == ["A-1", "A-2"]
    assert codes(organization=tree.branch_a) == ["A-1"]
    assert codes(organization=tree.committee_b) == ["B-1"]  # and everything under it
    ledger = build("pairings", staff, scheme=schemes["one_plus_one"], status="docked")[0]
    with override("zh-hans"):
        assert ledger.params.describe() == ["结对方案：“1+1”好支部共建", "结对状态：对接完成"]
    assert ledger.filename().startswith("pairings-one_plus_one-docked-")


def test_a_period_takes_the_pairings_in_effect_and_counts_its_own_help(data, staff):
    rows = build("pairings", staff, period=Period.year(2025))[2]
    # A-2 started in 2026; B-1 ended in June 2025 but was in effect in 2025.
    assert sorted(r["Organization code"] for r in rows) == ["A-1", "B-1"]
    a1 = by(rows, "Organization code", "A-1")
    assert (a1["Visits"], a1["Last visit"]) == (1, datetime.datetime(2025, 3, 15))
    assert a1["Funds (yuan)"] == 400000.10 and a1["Goods value (yuan)"] == 20600.20
    assert a1["Needs"] == 3  # needs are counted as they stand
    rows = build("pairings", staff, period=Period.month(2026, 1))[2]
    assert sorted(r["Organization code"] for r in rows) == ["A-1", "A-2"]
    a1 = by(rows, "Organization code", "A-1")
    assert (a1["Visits"], a1["Funds (yuan)"], a1["Goods value (yuan)"]) == (1, 0, 0)
    # The help ledger of the same period holds exactly what those totals add up.
    helps = build("help_records", staff, period=Period.month(2026, 1))[2]
    assert [r["What was done"] for r in helps] == [EVIL]


def test_help_records_by_period_kind_and_scheme(data, staff, schemes):
    def described(**params):
        return sorted(r["What was done"] for r in build("help_records", staff, **params)[2])

    assert described(period=Period.quarter(2025, 1)) == ["走访困难户"]
    assert described(kind=HelpKind.FUNDS) == ["B", "资助村道"]
    assert described(kind=HelpKind.GOODS, period=Period.year(2025)) == ["冬季慰问"]
    assert described(scheme=schemes["village_support"]) == ["B"]


def test_member_pairs_by_period_and_status(data, staff):
    def numbers(**params):
        return sorted(r["Member number"] for r in build("member_pairs", staff, **params)[2])

    assert numbers(period=Period.year(2024)) == ["B0001"]  # A0001's pair started in 2025
    assert numbers(period=Period.year(2026)) == ["A0001"]  # B-1 had ended
    assert numbers(status=PairingStatus.ENDED) == ["B0001"]


def test_the_filter_forms_offer_active_schemes_and_validate_choices(data, secretary_a, schemes):
    from reports.ledgers import LedgerFilterForm, params_from_json

    schemes["co_creation"].active = False
    schemes["co_creation"].save()
    form = LedgerFilterForm(REGISTRY["pairings"], secretary_a)
    offered = {s.code for s in form.fields["scheme"].queryset}
    assert "co_creation" not in offered and "one_plus_one" in offered
    with override("zh-hans"):
        assert dict(form.fields["status"].choices)[""] == "全部状态"
    params = params_from_json(
        REGISTRY["help_records"],
        secretary_a,
        {"scheme": schemes["one_plus_one"].pk, "kind": "funds"},
    )
    assert params["scheme"] == schemes["one_plus_one"] and params["kind"] == "funds"
    with pytest.raises(Exception, match="kind"):
        params_from_json(REGISTRY["help_records"], secretary_a, {"kind": "gold"})


# --- queries: constant, or growing only with the number of chunks --------------------------------


def _more(tree, schemes, n, start):
    """n more "挂钩帮扶" pairings of A-2 (each with an open need, a visit with who went, and a
    member pair) and as many of B-1."""
    villages = PartnerOrganization.objects.bulk_create(
        PartnerOrganization(name=f"村{i}", kind=PartnerKind.VILLAGE, town="河口镇")
        for i in range(start, start + 2 * n)
    )
    pairings = Pairing.objects.bulk_create(
        Pairing(
            scheme=schemes["village_support"],
            organization=tree.branch_a2 if i % 2 else tree.branch_b,
            partner=village,
            started_on=D(2025, 1, 1),
        )
        for i, village in enumerate(villages)
    )
    Need.objects.bulk_create(
        Need(pairing=p, description=f"需求{p.pk}", found_on=D(2025, 1, 2)) for p in pairings
    )
    visits = HelpRecord.objects.bulk_create(
        HelpRecord(pairing=p, kind=HelpKind.VISIT, date=D(2025, 2, 1), description="走访")
        for p in pairings
    )
    through = HelpRecord.participants.through
    through.objects.bulk_create(
        through(
            helprecord_id=v.pk,
            member_id=(
                tree.members["a2_1"]
                if v.pairing.organization_id == tree.branch_a2.pk
                else tree.members["b1"]
            ).pk,
        )
        for v in visits
    )
    MemberPair.objects.bulk_create(
        MemberPair(
            pairing=p,
            member=tree.members["a2_1"]
            if p.organization_id == tree.branch_a2.pk
            else tree.members["b2"],
            counterpart_kind=CounterpartKind.VILLAGE_MEMBER,
            counterpart_name=f"村民{p.pk}",
            started_on=D(2025, 1, 1),
        )
        for p in pairings
    )


# One query for the rows, one per chunk for the open needs / who went (none for member pairs);
# an inspector's scope reads its organizations' ids first.
QUERIES = {"pairings": 2, "help_records": 2, "member_pairs": 1}


@pytest.mark.parametrize("code", CODES)
def test_queries_do_not_grow_with_rows(code, data, users, tree, schemes, django_assert_num_queries):
    def write(role, **params):
        return write_xlsx(REGISTRY[code](users[role], params), io.BytesIO())

    roles = ("secretary_a", "inspector_a", "staff")
    expected = {role: QUERIES[code] + (role == "inspector_a") for role in roles}
    few = {}
    for role in roles:
        with django_assert_num_queries(expected[role]):
            few[role] = write(role)
    _more(tree, schemes, 15, 0)
    for role in roles:
        with django_assert_num_queries(expected[role]):
            many = write(role)
        grown = {"secretary_a": 0, "inspector_a": 15, "staff": 30}[role]
        assert many == few[role] + grown, role
    with django_assert_num_queries(QUERIES[code] + 1):  # a unit: its organizations, a subquery
        write("inspector_a", unit=tree.unit_a, period=Period.year(2025))


@pytest.mark.parametrize("code", ["pairings", "help_records"])
def test_the_names_are_read_per_chunk(code, data, staff, tree, schemes, django_assert_num_queries):
    _more(tree, schemes, 15, 0)
    ledger = REGISTRY[code](staff, {})
    ledger.chunk_size = 10
    total = ledger.count()
    with django_assert_num_queries(1 + -(-total // 10)):
        assert write_xlsx(ledger, io.BytesIO()) == total
