"""The 月通报 ledger says what it holds: every line with a 达标 column, a month picker that asks
for a month only, and a file that says "no rows" when there are none."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils.translation import override

from branches.models import Term
from branches.periods import Period
from reports.services import build_bulletin
from tests.conftest import add_record

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date


def _sheet(response):
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def test_every_line_says_whether_it_complied(tree, activity_types, client_for):
    t = activity_types
    add_record(tree.branch_a, t["theme_day"], D(2026, 10, 10))
    Term.objects.create(organization=tree.branch_b, started_on=D(2022, 1, 10))
    build_bulletin(Period.month(2026, 10), today=D(2026, 11, 27))
    response = client_for("staff").post(
        reverse("portal:downloads"), {"ledger": "bulletin", "period": "2026-10"}
    )
    sheet = _sheet(response)
    header = [c.value for c in sheet[4]]
    assert "达标" in header
    rows = [r for r in sheet.iter_rows(min_row=5, values_only=True) if any(r)]
    compliant = {r[2]: r[header.index("达标")] for r in rows}
    assert compliant["A-1"] in ("是", "否") and set(compliant.values()) - {None} <= {"是", "否"}
    assert len(rows) >= 2


def test_the_month_picker_asks_for_a_month_only(tree, client_for):
    response = client_for("staff").get(reverse("portal:downloads"), {"ledger": "bulletin"})
    with override("zh-hans"):
        field = response.context["form"].fields["period"]
        assert str(field.help_text) == "一个月份，例如 2026-03。"


def test_an_empty_bulletin_ledger_says_no_rows(tree, client_for):
    build_bulletin(Period.month(2026, 10), today=D(2026, 11, 27))
    # A group is judged inside its branch's line: it has no line of its own.
    response = client_for("secretary_a").post(
        reverse("portal:downloads"),
        {"ledger": "bulletin", "period": "2026-10", "organization": tree.group_a.pk},
    )
    assert _sheet(response)["A5"].value == "没有数据：您的权限范围内没有符合条件的记录。"
