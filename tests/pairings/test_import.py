"""Bulk creation of pairings from an .xlsx file (`pairings.imports`, the admin's 批量导入).

All or nothing; every bad row reported in Chinese with its row number; the scheme's rule
counted over the pairings already made and the other rows of the same file; a bad file refused
in Chinese, never a 500; thousands of rows in a constant number of queries (the INSERTs come in
batches) and well under a few seconds.
"""

from __future__ import annotations

import datetime
import io
import time
import zipfile

import openpyxl
import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from pairings.imports import import_pairings, read_pairing_file
from pairings.models import Pairing, PairingStatus, PartnerKind, PartnerOrganization

D = datetime.date
START = D(2026, 1, 5)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "机关党组织编码",
    "结对对象",
    "乡镇",
    "结对方案",
    "开始日期",
    "状态",
    "对接日期",
    "突破规则理由",
]
ONE_PLUS_ONE = "“1+1”好支部共建"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _zh_hans():
    with translation.override("zh-hans"):
        yield


def build_xlsx(rows, headers=HEADERS, above=()) -> bytes:
    """A workbook as Excel writes one: `above` lines, the header row, then `rows` (lists)."""
    book = openpyxl.Workbook()
    sheet = book.active
    for line in above:
        sheet.append(list(line))
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(
    code="A-1",
    partner="东村党支部",
    town="",
    scheme=ONE_PLUS_ONE,
    started=START,
    status="",
    docked=None,
    reason="",
):
    return [code, partner, town, scheme, started, status, docked, reason]


def problems(report) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.message) for e in report.errors]


def refused(report, words: str, at_row: int | None = None) -> None:
    """Nothing saved, and a problem that says `words` (on that row)."""
    assert not report.ok and not report.saved and report.created == 0
    assert not Pairing.objects.exists()
    found = [e for e in report.errors if words in e.message]
    assert found, problems(report)
    if at_row is not None:
        assert at_row in {e.row for e in found}, problems(report)


# --- the happy path ------------------------------------------------------------------------------


def test_a_file_of_pairings_is_imported_whole(tree, schemes, partners, staff):
    content = build_xlsx(
        [
            row("A-1", "东村党支部", scheme=ONE_PLUS_ONE),
            row(
                "A-2",
                "西村党支部",
                "河口镇",
                "village_support",
                D(2025, 3, 1),
                "对接完成",
                D(2025, 4, 1),
            ),
            row("A", "南街社区党委", scheme="1+2邻里中心共建", docked=D(2026, 2, 1)),
        ],
        above=[["结对共建批量导入"]],  # a title above the header
    )
    report = import_pairings(content, staff, name="结对.xlsx")
    assert report.ok, problems(report)
    assert (report.created, report.flagged, report.saved) == (3, 0, True)
    made = {p.organization.code: p for p in Pairing.objects.select_related("organization")}
    assert made["A-1"].partner == partners["village1"]
    assert made["A-1"].scheme == schemes["one_plus_one"]
    assert (made["A-1"].status, made["A-1"].started_on) == (PairingStatus.PLANNED, D(2026, 1, 5))
    assert made["A-2"].status == PairingStatus.DOCKED and made["A-2"].docked_on == D(2025, 4, 1)
    # A docking date and no status: docked; "1+2" written without its quotes is found.
    assert made["A"].scheme == schemes["one_plus_two"] and made["A"].status == "docked"
    assert all(p.created_by == staff and not p.flagged for p in made.values())


def test_text_dates_english_headers_and_a_scheme_code_are_read(tree, schemes, partners, staff):
    headers = ["Organ organization code", "Partner name", "Town", "Pairing scheme", "Start date"]
    content = build_xlsx([["A-1", "东村党支部", "城关镇", "one_plus_one", "2026年1月5日"]], headers)
    report = import_pairings(content, staff)
    assert report.ok, problems(report)
    assert Pairing.objects.get().started_on == D(2026, 1, 5)


def test_a_breach_with_a_reason_is_made_and_flagged(tree, schemes, partners, staff, pair):
    pair(schemes["one_plus_one"], tree.branch_a, partners["village1"])
    content = build_xlsx([row("A-2", reason="两个支部均派驻第一书记")])
    report = import_pairings(content, staff)
    assert report.ok and report.flagged == 1, problems(report)
    made = Pairing.objects.get(organization=tree.branch_a2)
    assert made.flagged and made.override_reason == "两个支部均派驻第一书记"


def test_a_reason_where_nothing_is_broken_leaves_no_flag(tree, schemes, partners, staff):
    report = import_pairings(build_xlsx([row(reason="以防万一")]), staff)
    assert report.ok and report.flagged == 0
    assert not Pairing.objects.get().flagged


def test_checking_only_saves_nothing(tree, schemes, partners, staff):
    report = import_pairings(build_xlsx([row()]), staff, dry_run=True)
    assert report.ok and report.created == 1 and not report.saved
    assert not Pairing.objects.exists()


def test_only_committee_staff_import(tree, schemes, partners, secretary_a, inspector_city):
    for user in (secretary_a, inspector_city):
        with pytest.raises(PermissionDenied):
            import_pairings(build_xlsx([row()]), user)
    assert not Pairing.objects.exists()


# --- bad rows: every one reported, in Chinese, and nothing saved --------------------------------


def test_every_bad_row_is_reported_with_its_row_number_and_nothing_is_saved(
    tree, schemes, partners, staff
):
    PartnerOrganization.objects.create(name="东村党支部", kind=PartnerKind.VILLAGE, town="河口镇")
    content = build_xlsx(
        [
            row("A-1", "南村党支部", town="河口镇", scheme="village_support"),  # row 2: fine
            row("Z-9", "西村党支部"),  # 3: no such organization
            row("A-2", "北村党支部"),  # 4: no such partner
            row("A-2", "东村党支部", scheme="village_support"),  # 5: two 东村: which?
            row("A-2", "西村党支部", scheme="好邻居"),  # 6: no such scheme
            row("A", "西村党支部"),  # 7: "1+1" takes branches only
            row("A-2", "西村党支部", started="2026-13-45"),  # 8: no such day
            row("A-2", "西村党支部", status="暂停"),  # 9: no such status
            row("A-2", "西村党支部", status="对接完成"),  # 10: docked without the day
            row("", "", scheme=""),  # 11: required cells empty
        ]
    )
    PartnerOrganization.objects.create(name="南村党支部", kind=PartnerKind.VILLAGE, town="河口镇")
    report = import_pairings(content, staff)
    assert not report.ok and not Pairing.objects.exists()
    by_row: dict[int, list[str]] = {}
    for error in report.errors:
        by_row.setdefault(error.row, []).append(f"{error.column}：{error.message}")
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10, 11], by_row
    assert by_row[3] == ["机关党组织编码：不存在编码为“Z-9”的党组织。"]
    assert by_row[4] == ["结对对象：没有名为“北村党支部”的结对对象。"]
    assert "有多个名为“东村党支部”的结对对象（分别在城关镇、河口镇）" in by_row[5][0]
    assert "“乡镇”列" in by_row[5][0]
    assert by_row[6][0].startswith("结对方案：没有名为“好邻居”的结对方案。现有方案：")
    assert ONE_PLUS_ONE in by_row[6][0]
    assert by_row[7][0].startswith("机关党组织编码：") and "党支部" in by_row[7][0]
    assert by_row[8][0].startswith("开始日期：“2026-13-45”")
    assert "无法识别的状态“暂停”" in by_row[9][0] and "计划中、对接完成、已结束" in by_row[9][0]
    assert by_row[10] == ["对接日期：对接完成的结对须填写对接完成日期。"]
    assert by_row[11] == [
        "机关党组织编码：此列必填。",
        "结对对象：此列必填。",
        "结对方案：此列必填。",
    ]
    bad = next(e for e in report.errors if e.row == 3)
    assert bad.value == "Z-9"


def test_two_rows_giving_the_same_one_plus_one_village_are_one_too_many(
    tree, schemes, partners, staff
):
    content = build_xlsx([row("A-1"), row("A-2")])
    report = import_pairings(content, staff)
    refused(report, "东村党支部在“1+1”好支部共建中已有1个机关党组织结对，最多只允许1个", 3)
    messages = [e.message for e in report.errors if e.row == 3]
    assert any("已计入本文件第2行" in m for m in messages), messages
    assert any("请在“突破规则理由”列填写理由" in m for m in messages), messages
    assert {e.row for e in report.errors} == {3}  # the first of the two is fine


def test_a_one_plus_one_branch_takes_one_village_in_the_file_too(tree, schemes, partners, staff):
    content = build_xlsx([row("A-1", "东村党支部"), row("A-1", "西村党支部", "河口镇")])
    refused(
        import_pairings(content, staff), "统计局第一党支部在“1+1”好支部共建中已有1个结对对象", 3
    )


def test_the_rule_counts_the_pairings_already_made(tree, schemes, partners, staff, pair):
    pair(schemes["one_plus_one"], tree.branch_a, partners["village1"])
    made = Pairing.objects.get()
    report = import_pairings(build_xlsx([row("A-2")]), staff)
    assert not report.ok and "最多只允许1个" in report.errors[0].message
    assert "本文件" not in report.errors[0].message  # counted from the database only
    assert list(Pairing.objects.all()) == [made]


def test_a_third_organ_organization_for_a_one_plus_two_community(tree, schemes, partners, staff):
    rows = [row(code, "南街社区党委", scheme="one_plus_two") for code in ("A", "B", "A-2")]
    refused(import_pairings(build_xlsx(rows), staff), "最多只允许2个", 4)


def test_duplicate_rows_are_reported(tree, schemes, partners, staff):
    rows = [row("A-2", scheme="village_support"), row("A-2", scheme="village_support")]
    refused(import_pairings(build_xlsx(rows), staff), "与第2行的结对重复", 3)


def test_a_pairing_already_made_even_ended_is_reported(tree, schemes, partners, staff, pair):
    pair(schemes["village_support"], tree.branch_a2, partners["village1"])
    Pairing.objects.update(status=PairingStatus.ENDED, ended_on=D(2026, 2, 1))
    report = import_pairings(build_xlsx([row("A-2", scheme="village_support")]), staff)
    assert [e.message for e in report.errors] == ["统计局第二党支部已与城关镇东村党支部结对。"]
    assert Pairing.objects.count() == 1


def test_a_partner_of_another_kind_is_refused_even_with_a_reason(tree, schemes, partners, staff):
    rows = [row("A-1", "江城电力公司党委", reason="试点")]
    refused(import_pairings(build_xlsx(rows), staff), "是企业", 2)


def test_a_docking_date_in_the_future_or_before_the_start(tree, schemes, partners, staff):
    future = timezone.localdate() + datetime.timedelta(days=3)
    rows = [
        row("A-1", docked=future),
        row("A-2", "西村党支部", "河口镇", docked=D(2025, 1, 1)),
    ]
    report = import_pairings(build_xlsx(rows), staff)
    assert problems(report) == [
        (2, "对接日期", "日期不能晚于今天，请勿填写未来日期。"),
        (3, "对接日期", "对接完成日期不能早于结对开始日期。"),
    ]
    assert not Pairing.objects.exists()


def test_nul_characters_and_overlong_reasons_are_refused(tree, schemes, partners, staff):
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADERS)
    sheet.write_row(1, 0, ["A-1", "东村\x00党支部", "", ONE_PLUS_ONE, "2026-01-05"])
    sheet.write_row(
        2, 0, ["A-2", "西村党支部", "", "village_support", "2026-01-05", "", "", "长" * 201]
    )
    book.close()
    report = import_pairings(out.getvalue(), staff)
    assert problems(report) == [
        (2, "结对对象", "不允许包含空字符（NUL）。"),
        (3, "突破规则理由", "最多200个字符（当前为201个）。"),
    ]
    assert report.errors[0].value == "东村␀党支部"
    assert not Pairing.objects.exists()


# --- bad files: refused as a whole, in Chinese --------------------------------------------------


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def _bomb(megabytes: int) -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/sharedStrings.xml": b"<sst>" + b"A" * (megabytes * 1024 * 1024) + b"</sst>",
        }
    )


def _broken() -> bytes:
    """A real workbook whose sheet's XML is cut in the middle."""
    source = build_xlsx([row()])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(out, "w") as target:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(item, data)
    return out.getvalue()


def _no_rows() -> bytes:
    book = openpyxl.Workbook()
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BAD_FILES = [
    ("empty", lambda: b"", "文件为空"),
    ("no rows", _no_rows, "文件为空"),
    ("header only", lambda: build_xlsx([]), "表头行下没有结对数据"),
    ("csv", lambda: "机关党组织编码,结对对象\nA-1,东村\n".encode(), "不是Excel工作簿"),
    ("xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "旧版Excel 97-2003格式"),
    ("a zip", lambda: _zip({"readme.txt": b"hello"}), "不是Excel工作簿"),
    ("cut short", lambda: build_xlsx([row()])[:400], "可能已损坏"),
    ("broken xml", _broken, "可能已损坏"),
    ("bomb", lambda: _bomb(3), "文件过大"),
    (
        "wrong columns",
        lambda: build_xlsx([["A-1", "x"]], ["党员编号", "姓名"]),
        "缺少“机关党组织编码”列",
    ),
    (
        "unknown column",
        lambda: build_xlsx([row() + ["x"]], [*HEADERS, "颜色"]),
        "无法识别的列“颜色”",
    ),
    ("twice", lambda: build_xlsx([row() + ["x"]], [*HEADERS, "乡镇"]), "列“乡镇”重复出现"),
]


@pytest.mark.parametrize("name, make, words", BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_a_bad_file_is_refused_in_chinese_and_saves_nothing(
    name, make, words, tree, schemes, partners, staff, settings
):
    settings.PAIRING_IMPORT_MAX_UNCOMPRESSED_MB = 1
    report = import_pairings(make(), staff, name="结对.xlsx")
    refused(report, words)
    assert len({e.row for e in report.errors}) == 1  # the file (or its header row) as a whole


def test_a_bomb_is_refused_from_the_zip_directory_before_any_reading(
    tree, schemes, partners, staff, settings, monkeypatch
):
    settings.PAIRING_IMPORT_MAX_UNCOMPRESSED_MB = 1
    content = _bomb(3)
    assert len(content) < 20_000

    def never(*args, **kwargs):
        raise AssertionError("the sheet was read")

    monkeypatch.setattr("branches.roster.xlsx_rows", never)
    report = import_pairings(content, staff)
    assert "最多允许1 MB" in report.errors[0].message


def test_too_many_rows_are_refused_saying_the_limit(tree, schemes, partners, staff, settings):
    settings.PAIRING_IMPORT_MAX_ROWS = 3
    villages = [row("A-2", f"村{i}", scheme="village_support") for i in range(4)]
    refused(import_pairings(build_xlsx(villages), staff), "超过3个")
    assert len(read_pairing_file(build_xlsx(villages[:3])).rows) == 3


# --- thousands of rows --------------------------------------------------------------------------


def _villages_file(n: int) -> bytes:
    """n "挂钩帮扶" pairings of branch A-2, one village each (made in bulk, not through a file)."""
    PartnerOrganization.objects.bulk_create(
        PartnerOrganization(name=f"村{i:05d}", kind=PartnerKind.VILLAGE, town="河口镇")
        for i in range(n)
    )
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    sheet = book.add_worksheet()
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADERS)
    for i in range(n):
        sheet.write_row(i + 1, 0, ["A-2", f"村{i:05d}", "河口镇", "挂钩帮扶"])
        sheet.write_datetime(i + 1, 4, datetime.datetime(2026, 1, 5), dates)
    book.close()
    return out.getvalue()


def _import_measured(content: bytes, staff) -> tuple[list[str], float]:
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        report = import_pairings(content, staff)
    took = time.perf_counter() - started
    assert report.ok and report.saved, problems(report)[:5]
    return [q["sql"] for q in queries.captured_queries], took


def test_two_thousand_rows_import_fast_in_a_constant_number_of_queries(
    tree, schemes, partners, staff
):
    few, _took = _import_measured(_villages_file(20), staff)
    Pairing.objects.all().delete()
    PartnerOrganization.objects.filter(name__startswith="村").delete()
    many, took = _import_measured(_villages_file(2000), staff)
    assert Pairing.objects.filter(organization=tree.branch_a2).count() == 2000

    def inserts(queries):
        return [q for q in queries if q.lstrip().upper().startswith("INSERT")]

    # Checking is the same handful of queries for 20 rows and for 2,000 (organizations,
    # partners, schemes, the schemes' pairings, and the transaction's own); the rows are then
    # written by bulk INSERTs of many rows each.
    assert len(few) - len(inserts(few)) == len(many) - len(inserts(many))
    assert len(inserts(few)) == 1
    assert len(inserts(many)) <= 2000 // 50
    assert took < 3, f"2,000 rows took {took:.2f} s"


# --- the admin's page -----------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def upload(client, content: bytes, name="结对.xlsx", **extra):
    data = {"import_file": SimpleUploadedFile(name, content, content_type=XLSX_TYPE), **extra}
    return client.post(reverse("admin:pairings_pairing_import"), data, follow=True)


def test_the_pairing_list_offers_the_import(staff_client, tree, schemes):
    page = staff_client.get(reverse("admin:pairings_pairing_changelist")).content.decode()
    assert reverse("admin:pairings_pairing_import") in page
    page = staff_client.get(reverse("admin:pairings_pairing_import")).content.decode()
    assert "机关党组织编码" in page and "突破规则理由" in page and ONE_PLUS_ONE in page


def test_staff_import_a_file_in_the_admin(staff_client, tree, schemes, partners):
    response = upload(
        staff_client, build_xlsx([row(), row("A", "南街社区党委", scheme="1+2邻里中心共建")])
    )
    assert response.redirect_chain[-1][0] == reverse("admin:pairings_pairing_changelist")
    assert "已导入结对2个" in response.content.decode()
    assert Pairing.objects.count() == 2


def test_every_bad_row_is_a_line_of_the_admin_page(staff_client, tree, schemes, partners):
    response = upload(staff_client, build_xlsx([row("Z-9"), row("A-1"), row("A-2")]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "未导入任何数据" in page
    assert "不存在编码为“Z-9”的党组织。" in page
    assert "已计入本文件第3行" in page
    rows = response.context["row_problems"]
    assert [p.row for p in rows] == [2, 4, 4]
    assert not Pairing.objects.exists()


def test_a_broken_file_in_the_admin_is_a_chinese_message_not_a_500(staff_client, tree, schemes):
    response = upload(staff_client, b"PK\x03\x04 not really a zip", name="结对.xlsx")
    assert response.status_code == 200
    assert "可能已损坏" in response.content.decode()


def test_checking_only_in_the_admin_saves_nothing(staff_client, tree, schemes, partners):
    response = upload(staff_client, build_xlsx([row()]), check_only="on")
    assert response.status_code == 200
    assert "所有行均正确：共1个结对" in response.content.decode()
    assert not Pairing.objects.exists()


def test_the_empty_file_to_fill_in_has_the_columns(staff_client, tree, schemes):
    response = staff_client.get(reverse("admin:pairings_pairing_import_template"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet[1]] == [*HEADERS, "备注"]
    report = import_pairings(content, response.wsgi_request.user)
    assert "表头行下没有结对数据" in report.errors[0].message  # it reads back


@pytest.mark.parametrize("role", ["secretary_a", "inspector_city"])
def test_others_get_no_import_page(client, request, role, tree, schemes):
    user = request.getfixturevalue(role)
    user.is_staff = True  # even with Django's staff flag
    user.save()
    client.force_login(user)
    for name in ("admin:pairings_pairing_import", "admin:pairings_pairing_import_template"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    response = upload(client, build_xlsx([row()]))
    assert not Pairing.objects.exists()
