"""Every ledger file (台账) as `reports.xlsx` writes it (xlsxwriter, constant_memory), opened
with openpyxl as a user's Excel would: a valid workbook, its header frozen and its columns as
wide as declared, every cell of its column's type, no formula anywhere whatever users typed,
and no temporary file left behind, even when a ledger fails half-way."""

from __future__ import annotations

import datetime
import enum
import io
import tempfile
import warnings
from decimal import Decimal

import openpyxl
import pytest
from django.utils.translation import override

from branches.models import Attendance, Member, Organization, Term
from branches.periods import Period
from reports.ledgers import (
    BOOL,
    DATE,
    DATETIME,
    DECIMAL,
    INT,
    MONEY,
    NUMBER_FORMATS,
    PERCENT,
    REGISTRY,
    TEXT,
    Column,
    Ledger,
    write_xlsx,
)
from reports.services import build_bulletin
from reports.xlsx import XlsxSheet, sheet_name
from tests.conftest import add_record

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
EVIL = "=1+1"  # what a user might type: Excel would compute it, were it a formula
CODES = [
    "activities",
    "bulletin",
    "compliance",
    "overdue_elections",
    "roster",
    "pairings",
    "help_records",
    "member_pairs",
    "evaluation_applications",
    "designations",
    "problems",
    "campaign_targets",
    "campaign_participation",
]
PARAMS = {
    "bulletin": {"period": Period.month(2026, 3)},
    "compliance": {"period": Period.quarter(2026, 1)},
}


def load(content: bytes) -> openpyxl.Workbook:
    """The workbook as openpyxl reads it; a warning (a part it had to make do with) fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return openpyxl.load_workbook(io.BytesIO(content))


def widths(ws) -> dict[int, float]:
    """Column number -> stored width (a `<col>` may span columns of one width)."""
    return {
        number: dimension.width
        for dimension in ws.column_dimensions.values()
        for number in range(dimension.min, dimension.max + 1)
    }


def assert_ledger_file(ledger: Ledger, content: bytes) -> set[str]:
    """The layout every ledger file shares, and every data cell typed as its column says.
    Returns the column types that had at least one value."""
    book = load(content)
    assert book.sheetnames == [sheet_name(str(ledger.title))]
    ws = book.active
    assert ws["A1"].value == str(ledger.title) and ws["A1"].font.bold and ws["A1"].font.sz == 14
    assert ws.freeze_panes == "A5"  # title, filters, build line, header: the header stays
    header = ws[4]
    assert [c.value for c in header] == [str(c.header) for c in ledger.columns]
    assert all(c.font.bold and c.fill.fgColor.rgb == "FFB22222" for c in header)
    assert widths(ws) == {i: c.width for i, c in enumerate(ledger.columns, start=1)}
    seen = set()
    for index, column in enumerate(ledger.columns, start=1):
        for (cell,) in ws.iter_rows(min_row=5, min_col=index, max_col=index):
            if cell.value is None:
                continue
            assert cell.data_type != "f", cell  # never a formula
            seen.add(column.type)
            if column.type in (TEXT, BOOL):
                assert cell.data_type == "s" and isinstance(cell.value, str), cell
            elif column.type in (DATE, DATETIME):
                assert isinstance(cell.value, datetime.datetime), cell
                assert cell.number_format == NUMBER_FORMATS[column.type], cell
            else:
                assert cell.data_type == "n" and isinstance(cell.value, int | float), cell
                if column.type != INT:
                    assert cell.number_format == NUMBER_FORMATS[column.type], cell
    return seen


@pytest.fixture
def typed_data(tree, activity_types, users):
    """A value in every column of every ledger, and user text that looks like a formula: the
    second branch is named "=1+1", and so are its record's topic and place."""
    Organization.objects.filter(pk=tree.branch_a2.pk).update(
        name=EVIL, secretary=tree.members["a2_1"]
    )
    Member.objects.filter(pk=tree.members["a2_1"].pk).update(
        full_member_on=D(2011, 7, 1), is_party_worker=True, phone="13800000000"
    )
    record = add_record(
        tree.branch_a2,
        activity_types["theme_day"],
        D(2026, 3, 10),
        EVIL,
        place=EVIL,
        filed_by=users["secretary_a"],
        present_count=1,
        absent_count=1,
    )
    Attendance.objects.create(record=record, member=tree.members["a2_1"], status="absent")
    Term.objects.create(organization=tree.branch_a2, started_on=D(2021, 5, 1))  # overdue
    _campaign_data(tree, users)  # before the bulletin: a problem overdue at March's end
    build_bulletin(Period.month(2026, 3), today=D(2026, 4, 2))
    _pairing_data(tree, users)
    _evaluation_data(tree, users)


def _pairing_data(tree, users):
    """A pairing of the "=1+1" branch with a village: a visit, funds, goods, a member pair."""
    from pairings.defaults import seed_schemes
    from pairings.models import HelpRecord, MemberPair, Need, Pairing, PartnerOrganization, Scheme

    seed_schemes(Scheme)
    pairing = Pairing.objects.create(
        scheme=Scheme.objects.get(code="village_support"),
        organization=tree.branch_a2,
        partner=PartnerOrganization.objects.create(
            name="东村党支部", kind="village", town="城关镇"
        ),
        started_on=D(2025, 1, 1),
        status="docked",
        docked_on=D(2025, 2, 1),
    )
    Need.objects.create(pairing=pairing, description=EVIL, found_on=D(2025, 1, 2))
    visit = HelpRecord.objects.create(
        pairing=pairing,
        kind="visit",
        date=D(2025, 3, 1),
        description="走访",
        filed_by=users["secretary_a"],
    )
    visit.participants.add(tree.members["a2_1"])
    HelpRecord.objects.create(
        pairing=pairing, kind="funds", date=D(2025, 3, 2), description="资金", amount=Decimal("9.9")
    )
    HelpRecord.objects.create(
        pairing=pairing,
        kind="goods",
        date=D(2025, 3, 3),
        description="物资",
        item="棉被",
        quantity=Decimal("2.5"),
        unit_of_measure="床",
        value=Decimal("300"),
    )
    MemberPair.objects.create(
        pairing=pairing,
        member=tree.members["a2_1"],
        counterpart_kind="key_household",
        counterpart_name="王大爷",
        started_on=D(2025, 2, 1),
    )


def _campaign_data(tree, users):
    """A campaign named "=1+1" with a target; the "=1+1" branch's problem found by its group,
    answered and sent back (overdue since March); a problem found in its annual report,
    accepted; its participation with money and goods."""
    from campaigns.models import (
        AnnualReport,
        Campaign,
        InspectionGroup,
        Participation,
        ParticipationGoods,
        Problem,
        ProblemEvent,
        Rectification,
        Target,
    )

    campaign = Campaign.objects.create(
        name=EVIL, kind="inspection", starts_on=D(2026, 1, 1), ends_on=D(2026, 12, 31)
    )
    Target.objects.create(
        campaign=campaign,
        indicator="督导覆盖率",
        unit_of_measure="个",
        goal=Decimal("10"),
        manual_progress=Decimal("4"),
    )
    group = InspectionGroup.objects.create(campaign=campaign, name="第一督导组")
    problem = Problem.objects.create(
        organization=tree.branch_a2,
        group=group,
        category="组织生活",
        description=EVIL,
        found_on=D(2026, 3, 1),
        deadline=D(2026, 3, 20),
        state="sent_back",
        overdue_since=D(2026, 3, 21),
    )
    Rectification.objects.create(problem=problem, measures=EVIL, submitted_by=users["secretary_a"])
    ProblemEvent.objects.create(problem=problem, from_state="submitted", to_state="sent_back")
    report = AnnualReport.objects.create(organization=tree.branch_a2, year=2025, report="述职")
    accepted = Problem.objects.create(
        organization=tree.branch_a2,
        annual_report=report,
        category="述职评议",
        description="学习制度落实不够",
        found_on=D(2026, 1, 10),
        deadline=D(2026, 2, 10),
        state="accepted",
    )
    ProblemEvent.objects.create(problem=accepted, from_state="submitted", to_state="accepted")
    participation = Participation.objects.create(
        campaign=campaign, organization=tree.branch_a2, members=3, money=Decimal("9.9")
    )
    ParticipationGoods.objects.create(
        participation=participation,
        item="棉被",
        quantity=Decimal("2"),
        unit_of_measure="床",
        value=Decimal("300"),
    )


def _evaluation_data(tree, users):
    """The "=1+1" branch's application, self-assessed and scored at the first stage, and its
    title, re-reviewed once."""
    from evaluations.defaults import seed_program
    from evaluations.models import (
        Application,
        Criterion,
        Designation,
        Program,
        ReReview,
        ReviewSheet,
        Score,
        SelfAssessment,
        Stage,
    )

    program = Program.objects.create(
        name="2026年度示范点",
        kind="demonstration_site",
        year=2026,
        opens_on=D(2026, 3, 1),
        closes_on=D(2026, 4, 1),
        title="示范点",
    )
    seed_program(program, Criterion, Stage)
    stage = program.stages.get(order=1)
    criteria = list(Criterion.objects.filter(program=program, organization_kind="branch"))
    application = Application.objects.create(
        program=program,
        organization=tree.branch_a2,
        status="under_review",
        stage=stage,
        submitted_at=datetime.datetime(2026, 3, 20, 2, 0, tzinfo=datetime.UTC),
    )
    SelfAssessment.objects.bulk_create(
        SelfAssessment(application=application, criterion=c, score=Decimal("18")) for c in criteria
    )
    sheet = ReviewSheet.objects.create(
        application=application,
        stage=stage,
        reviewer=users["staff"],
        total=Decimal("85.00"),
        submitted_at=datetime.datetime(2026, 5, 6, 2, 0, tzinfo=datetime.UTC),
    )
    Score.objects.bulk_create(
        Score(sheet=sheet, criterion=c, score=Decimal("17")) for c in criteria
    )
    title = Designation.objects.create(
        program=program,
        organization=tree.branch_a2,
        title="示范点",
        awarded_on=D(2023, 6, 1),
        valid_until=D(2026, 6, 1),
        re_review_listed_on=D(2026, 5, 1),
    )
    ReReview.objects.create(
        designation=title,
        due_on=D(2026, 6, 1),
        outcome="kept",
        reason=EVIL,
        decided_on=D(2026, 5, 20),
        decided_by=users["staff"],
    )


def test_every_registered_ledger_is_checked_here():
    assert set(REGISTRY) <= set(CODES)


@pytest.mark.parametrize("code", CODES)
def test_each_ledger_file_is_valid_frozen_and_typed(code, typed_data, staff):
    with override("zh-hans"):
        ledger = REGISTRY[code](staff, PARAMS.get(code))
        out = io.BytesIO()
        assert write_xlsx(ledger, out) > 0
        seen = assert_ledger_file(ledger, out.getvalue())
    assert seen == {column.type for column in ledger.columns}  # every type met a value
    ws = load(out.getvalue()).active
    evil = [c for row in ws.iter_rows(min_row=5) for c in row if c.value == EVIL]
    assert evil and all(c.data_type == "s" for c in evil)


# -- the writer's cells, one kind after another ------------------------------------------------


class Level(enum.IntEnum):
    HIGH = 3


SHANGHAI_NOON = datetime.datetime(2026, 6, 5, 4, 0, tzinfo=datetime.UTC)  # 12:00 in Shanghai

# (column type, value given, value openpyxl reads, its data type, its number format)
CELLS = [
    (TEXT, EVIL, EVIL, "s", "General"),
    (TEXT, "@SUM(1,2)", "@SUM(1,2)", "s", "General"),
    (TEXT, "http://example.com/x", "http://example.com/x", "s", "General"),
    (TEXT, "0012", "0012", "s", "General"),  # a member number keeps its zeros
    (TEXT, 12, "12", "s", "General"),
    (TEXT, "", None, "n", "General"),
    (BOOL, True, "是", "s", "General"),
    (BOOL, False, "否", "s", "General"),
    (INT, 206, 206, "n", "General"),
    (INT, Level.HIGH, 3, "n", "General"),
    (INT, True, True, "b", "General"),
    (INT, "", None, "n", "General"),
    (INT, "=1+1", "=1+1", "s", "General"),  # not a number: text, never a formula
    (MONEY, Decimal("400000.50"), 400000.5, "n", "#,##0.00"),
    (MONEY, "12.5", 12.5, "n", "#,##0.00"),
    (DECIMAL, "abc", "abc", "s", "General"),
    (PERCENT, 0.875, 0.875, "n", "0.0%"),
    (PERCENT, float("nan"), None, "n", "General"),
    (PERCENT, float("inf"), None, "n", "General"),
    (DATE, D(2026, 6, 1), datetime.datetime(2026, 6, 1), "d", "yyyy-mm-dd"),
    (DATETIME, SHANGHAI_NOON, datetime.datetime(2026, 6, 5, 12, 0), "d", "yyyy-mm-dd hh:mm"),
    (DATETIME, D(2026, 6, 1), datetime.datetime(2026, 6, 1), "d", "yyyy-mm-dd hh:mm"),
    (INT, D(2026, 6, 1), datetime.datetime(2026, 6, 1), "d", "yyyy-mm-dd"),  # still a date
    (TEXT, None, None, "n", "General"),
]


def test_each_kind_of_cell_is_written_by_its_type():
    out = io.BytesIO()
    sheet = XlsxSheet(out, "类型", [14] * len(CELLS))
    with override("zh-hans"):
        cells = [(lambda row, v=value: v, kind) for kind, value, *_ in CELLS]
        assert sheet.write_rows([None], cells) == 1
    sheet.close()
    row = next(load(out.getvalue()).active.iter_rows(max_col=len(CELLS)))
    got = [(c.value, c.data_type, c.number_format) for c in row]
    assert got == [tuple(expected) for _kind, _value, *expected in CELLS]


def test_a_sheet_name_is_what_excel_takes():
    assert sheet_name("组织生活台账") == "组织生活台账"
    assert sheet_name("a/b:c*d?e[f]g\\h") == "a_b_c_d_e_f_g_h"
    assert len(sheet_name("台" * 40)) == 31


def test_widths_are_stored_as_declared_and_progress_is_reported():
    out = io.BytesIO()
    sheet = XlsxSheet(out, "宽度", [6, 12.5, 40])
    seen: list[int] = []
    rows = range(25)
    written = sheet.write_rows(rows, [(lambda i: i, INT)], progress=seen.append, progress_every=10)
    sheet.close()
    assert (written, seen) == (25, [10, 20])
    ws = load(out.getvalue()).active
    assert widths(ws) == {1: 6, 2: 12.5, 3: 40}
    assert [r[0] for r in ws.iter_rows(values_only=True)] == list(rows)


def test_more_rows_than_a_sheet_holds_is_an_error_not_a_file_cut_short(monkeypatch):
    monkeypatch.setattr("reports.xlsx.EXCEL_MAX_ROWS", 3)
    sheet = XlsxSheet(io.BytesIO(), "满", [8])
    sheet.line(["表头"])
    with pytest.raises(ValueError, match="行数超过 Excel 工作表的上限"):
        sheet.write_rows(range(5), [(lambda i: i, INT)])
    sheet.discard()


# -- temporary files ---------------------------------------------------------------------------


class FailingLedger(Ledger):
    """A ledger whose database goes away after its first row."""

    code = "failing"
    title = "失败的台账"
    columns = [Column("名称", "name")]
    fail = True

    def rows(self):
        yield {"name": "第一行"}
        if self.fail:
            raise RuntimeError("the database went away")


def test_no_temporary_file_is_left_behind(staff, tmp_path, monkeypatch):
    """A worker lives long: the rows' temporary file goes with a failed file, not at exit."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RuntimeError):
        write_xlsx(FailingLedger(staff), io.BytesIO())
    assert list(tmp_path.iterdir()) == []

    ledger = FailingLedger(staff)
    ledger.fail = False
    out = io.BytesIO()
    assert write_xlsx(ledger, out) == 1
    assert list(tmp_path.iterdir()) == []
    assert load(out.getvalue()).active["A5"].value == "第一行"
