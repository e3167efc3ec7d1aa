"""The shared ledger writer: layout, types, and no formula ever reaches Excel from user text."""

import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest

from branches.models import Sex
from reports.ledgers import (
    BOOL,
    DATE,
    DATETIME,
    INT,
    MONEY,
    PERCENT,
    Column,
    Computed,
    Label,
    Ledger,
    LedgerFilterForm,
    OrganizationFilter,
    PeriodFilter,
    UnitFilter,
    write_xlsx,
)

NAMES = ("name", "day", "amount", "count", "share", "moment", "flag")


class SampleLedger(Ledger):
    code = "sample"
    title = "样例台账"
    filters = [UnitFilter(), OrganizationFilter(), PeriodFilter()]
    columns = [
        Column("名称", "name", 20),
        Column("日期", "day", 12, DATE),
        Column("金额", "amount", 12, MONEY),
        Column("数量", "count", 8, INT),
        Column("比例", "share", 8, PERCENT),
        Column("时间", "moment", 16, DATETIME),
        Column("是否", "flag", 6, BOOL),
    ]
    sample_rows: list = []

    def rows(self):
        return (dict(zip(NAMES, row, strict=True)) for row in self.sample_rows)


def build(user, rows, params=None):
    ledger = SampleLedger(user, params)
    ledger.sample_rows = rows
    out = io.BytesIO()
    written = write_xlsx(ledger, out)
    out.seek(0)
    return written, openpyxl.load_workbook(out).active


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+1+2", "-3+cmd|' /C calc'!A0", "@SUM(1,2)"],
)
def test_user_text_that_looks_like_a_formula_is_written_as_text(staff, text):
    _written, ws = build(staff, [(text, None, None, None, None, None, None)])
    cell = ws["A5"]
    assert cell.value == text
    assert cell.data_type == "s"


def test_layout_types_and_formats(staff, tree):
    moment = datetime.datetime(2026, 6, 5, 12, 30, tzinfo=datetime.UTC)
    rows = [("支部", datetime.date(2026, 6, 1), Decimal("400000.50"), 206, 0.875, moment, True)]
    params = {"unit": tree.unit_a}
    written, ws = build(staff, rows, params)
    assert written == 1
    assert ws["A1"].value == "样例台账" and ws["A1"].font.bold
    assert "市统计局" in ws["A2"].value
    assert "staff" in ws["A3"].value  # who built it, and when (local time)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", ws["A3"].value)
    assert [c.value for c in ws[4]] == ["名称", "日期", "金额", "数量", "比例", "时间", "是否"]
    assert ws["A4"].font.bold
    assert ws.freeze_panes == "A5"
    assert ws.auto_filter.ref == "A4:G5"
    row = ws[5]
    assert row[1].value == datetime.datetime(2026, 6, 1) and row[1].number_format == "yyyy-mm-dd"
    assert row[2].value == 400000.5 and row[2].number_format == "#,##0.00"
    assert row[3].value == 206 and row[3].data_type == "n"
    assert row[4].number_format == "0.0%"
    assert row[5].value == datetime.datetime(2026, 6, 5, 20, 30)  # shown in Asia/Shanghai
    assert row[6].value == "是"
    assert ws.column_dimensions["A"].width == 20


def test_progress_is_reported_while_writing(staff):
    ledger = SampleLedger(staff)
    ledger.sample_rows = [("x", None, None, i, None, None, None) for i in range(25)]
    seen = []
    write_xlsx(ledger, io.BytesIO(), progress=seen.append, progress_every=10)
    assert seen == [10, 20, 25]


def test_filter_form_offers_only_what_the_user_may_see(secretary_a, tree):
    form = LedgerFilterForm(SampleLedger, secretary_a, data={"period": "2026-Q1"})
    assert set(form.fields["organization"].queryset) == {tree.branch_a, tree.group_a}
    assert set(form.fields["unit"].queryset) == {tree.unit_a}
    assert form.is_valid()
    assert form.params()["period"].code == "2026-Q1"
    outsider = LedgerFilterForm(SampleLedger, secretary_a, data={"organization": tree.branch_b.pk})
    assert not outsider.is_valid()
    bad = LedgerFilterForm(SampleLedger, secretary_a, data={"period": "2026-13"})
    assert not bad.is_valid() and "period" in bad.errors


class ReadsLedger(Ledger):
    """Each way a column reads its value; rows() adds a key of its own."""

    code = "reads"
    title = "读法"
    extra_fields = ("pk",)
    columns = [
        Column("编号", "member_no"),
        Column("性别", Label("sex", Sex), 6),
        Column("双倍", Computed(lambda row: row["count"] * 2, "count"), 8, INT),
        Column("附加", lambda row: row["added"]),
        Column("电话", "phone", capability="member.view_private"),
    ]
    sample_rows: list = []

    def rows(self):
        for row in self.sample_rows:
            yield {**row, "added": f"#{row['pk']}"}


def test_a_column_says_how_its_value_is_read_and_the_query_selects_just_that(staff, inspector_a):
    assert ReadsLedger(staff).fields() == ["pk", "member_no", "sex", "count", "phone"]
    assert ReadsLedger(inspector_a).fields() == ["pk", "member_no", "sex", "count"]
    ledger = ReadsLedger(staff)
    ledger.sample_rows = [
        {"pk": 7, "member_no": "A1", "sex": "female", "count": 3, "phone": "=1"},
        {"pk": 8, "member_no": "A2", "sex": "", "count": 0, "phone": ""},
    ]
    out = io.BytesIO()
    assert write_xlsx(ledger, out) == 2
    out.seek(0)
    ws = openpyxl.load_workbook(out).active
    rows = [list(r) for r in ws.iter_rows(min_row=5, values_only=True)]
    assert rows == [["A1", "女", 6, "#7", "=1"], ["A2", None, 0, "#8", None]]
    assert ws["E5"].data_type == "s"  # still no formula


def test_a_bad_column_or_filter_name_is_refused(staff):
    with pytest.raises(ValueError):
        Column("x", "x", 8, "colour")
    with pytest.raises(TypeError):
        Column("x", 42)
    with pytest.raises(ValueError):
        SampleLedger(staff, {"scheme": 1})
    assert dict(SampleLedger(staff).params) == {"unit": None, "organization": None, "period": None}
