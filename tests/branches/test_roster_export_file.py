"""The admin's roster file (党员名册), as the ledgers' writer writes it (`reports.xlsx`), opened
with openpyxl: a valid workbook, typed as every ledger (dates as dates, yes/no in words, codes
and member numbers as text), its header frozen, and what a user typed never a formula."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils.translation import override

from branches.models import Member
from branches.roster import RosterFileLedger
from branches.services import export_roster
from tests.reports.test_ledger_files import EVIL, assert_ledger_file, load

pytestmark = pytest.mark.usefixtures("module_cast")


@pytest.fixture
def evil_member(tree):
    Member.objects.filter(member_no="A0002").update(
        name=EVIL, position="+86 科员", is_party_worker=True, phone="@13800000000"
    )


def test_the_admins_roster_file_is_valid_frozen_and_typed(evil_member, client_for, staff):
    with override("zh-hans"):
        response = client_for("staff").get(reverse("admin:branches_member_export"))
        content = b"".join(response.streaming_content)
        seen = assert_ledger_file(RosterFileLedger(staff), content)
        ledger = RosterFileLedger(staff)
    assert seen == {column.type for column in ledger.columns}
    ws = load(content).active
    assert ws.title == "党员名册"
    rows = {row[0].value: row for row in ws.iter_rows(min_row=5)}
    assert set(rows) == {"A0001", "A0002", "A0003", "A0101", "B0001", "B0002"}
    with override("zh-hans"):
        a2 = {str(c.header): cell for c, cell in zip(ledger.columns, rows["A0002"], strict=True)}
    assert (a2["姓名"].value, a2["姓名"].data_type) == (EVIL, "s")
    assert (a2["职务"].value, a2["职务"].data_type) == ("+86 科员", "s")
    assert (a2["联系电话"].value, a2["联系电话"].data_type) == ("@13800000000", "s")
    assert a2["出生日期"].value == datetime.datetime(1985, 6, 1)
    assert a2["出生日期"].number_format == "yyyy-mm-dd"
    assert a2["党务干部"].value == "是" and a2["困难党员"].value == "否"
    assert (a2["党员编号"].value, a2["党支部编码"].value) == ("A0002", "A-1")


def test_the_roster_file_of_the_service_is_the_same_file(evil_member, staff):
    with override("zh-hans"):
        content = export_roster(staff)
        seen = assert_ledger_file(RosterFileLedger(staff), content)
    assert {"date", "bool", "text"} <= seen
