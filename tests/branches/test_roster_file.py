"""What users found in the admin's roster import and export, one regression test each.

1. The export: a Chinese spreadsheet written by the ledgers' writer, straight from the list's
   button, of the list as filtered, formula-safe, that imports again as it is.
2. Import errors in Chinese, every reason a line of the page; foreign files, wrong headers, bad
   organization codes said plainly; a GBK CSV accepted.
3. A whole-city roster: checked with a fixed number of queries, saved in bulk with history, a
   large file as a background job with progress (the 20,000-row timing is bench/roster_import.py).
4. Decompression bombs and row counts refused, before openpyxl opens the file.
5. Nothing left behind by a refused upload.
"""

from __future__ import annotations

import datetime
import io
import os
import tempfile
import zipfile
from urllib.parse import unquote

import openpyxl
import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from branches import roster
from branches.models import Member
from branches.resources import roster_headers
from branches.roster import RosterFileError, check_roster, read_roster
from branches.roster_jobs import RosterImport, RosterImportStatus, run_roster_import
from branches.services import export_roster, import_roster
from tests.branches.test_roster_import import COLUMNS, build_xlsx, good_row, header

pytestmark = pytest.mark.usefixtures("module_cast")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA = '=HYPERLINK("http://evil.example/y","点我")'


@pytest.fixture(autouse=True)
def _zh_hans_and_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def staff_client(client_for):
    return client_for("staff")


def upload(client, content: bytes, name: str = "名册.xlsx"):
    """Post a file to the admin's import page; follow to the page it leads to."""
    url = reverse("admin:branches_member_import")
    data = {"import_file": SimpleUploadedFile(name, content, content_type=XLSX_TYPE)}
    return client.post(url, data, follow=True)


def confirm(client, job, action="confirm"):
    url = reverse("admin:branches_member_process_import")
    return client.post(url, {"job": job.pk, "action": action}, follow=True)


def sheet_of(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


def make_csv(rows: list[dict], encoding: str) -> bytes:
    lines = [",".join(header(c) for c in COLUMNS)]
    for row in rows:
        cells = []
        for c in COLUMNS:
            value = row.get(c)
            cells.append("" if value is None else str(value))
        lines.append(",".join(cells))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


# --- 1. the export ---------------------------------------------------------------------------


def test_the_export_button_gives_a_chinese_formula_safe_spreadsheet(tree, staff_client):
    Member.objects.filter(member_no="A0002").update(name=FORMULA, position="+86 科员", phone="")

    page = staff_client.get(reverse("admin:branches_member_changelist"))
    export_url = reverse("admin:branches_member_export")
    assert export_url in page.content.decode()  # the button leads to the file, no chooser
    response = staff_client.get(export_url)

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    disposition = unquote(response["Content-Disposition"])
    assert f"党员名册-{timezone.localdate():%Y-%m-%d}.xlsx" in disposition
    content = b"".join(response.streaming_content)
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["党员名册"]
    sheet = book.active
    headers = [c.value for c in sheet[4]]
    assert headers == roster_headers()
    assert all(not any("a" <= ch.casefold() <= "z" for ch in h) for h in headers), headers
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=5)}
    assert set(rows) == {"A0001", "A0002", "A0003", "A0101", "B0001", "B0002"}
    by_header = dict(zip(headers, rows["A0002"], strict=True))
    name, position = by_header[header("name")], by_header[header("position")]
    # Text Excel would take for a formula is written as text (type "s", never "f").
    assert (name.value, name.data_type) == (FORMULA, "s")
    assert (position.value, position.data_type) == ("+86 科员", "s")
    assert by_header[header("phone")].value is None  # an empty cell, not "None"
    birth = by_header[header("birth_date")]
    assert birth.value == datetime.datetime(1985, 6, 1) and birth.number_format == "yyyy-mm-dd"
    assert by_header[header("sex")].value == "女"
    assert by_header[header("branch")].value == "A-1"


def test_the_export_keeps_the_lists_filters(tree, staff_client):
    query = f"?unit={tree.unit_b.pk}&sex__exact=female"
    response = staff_client.get(reverse("admin:branches_member_export") + query)

    sheet = sheet_of(b"".join(response.streaming_content))
    numbers = [row[0] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert numbers == ["B0001"]
    note = sheet["A2"].value
    assert "市水务局" in note and "女" in note  # the filters, said on the sheet

    # The list's button carries the list's query (sorted, as the list writes it).
    page = staff_client.get(reverse("admin:branches_member_changelist") + query)
    link = f"{reverse('admin:branches_member_export')}?sex__exact=female&amp;unit={tree.unit_b.pk}"
    assert link in page.content.decode()


def test_an_exported_file_imports_again_as_it_is(tree, staff):
    Member.objects.filter(member_no="A0002").update(name=FORMULA)
    content = export_roster(staff)

    report = import_roster(content, user=staff)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 6)

    sheet = openpyxl.load_workbook(io.BytesIO(content))
    ws = sheet.active
    for row in ws.iter_rows(min_row=5):
        if row[0].value == "A0003":
            row[8].value = "副科长"  # position
    edited = io.BytesIO()
    sheet.save(edited)
    report = import_roster(edited.getvalue(), user=staff)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 5)
    assert Member.objects.get(member_no="A0003").position == "副科长"
    assert Member.objects.get(member_no="A0002").name == FORMULA


# --- 2. errors in Chinese, in the page ---------------------------------------------------------


def test_every_reason_is_a_line_of_the_page_and_empty_cells_are_empty(tree, staff_client):
    rows = [good_row(i) for i in range(4)]
    rows[1]["name"] = None  # empty: "此字段不能为空。", shown with an empty cell
    rows[2]["birth_date"] = "1985-13-45"
    rows[3]["sex"] = "未知"

    response = upload(staff_client, build_xlsx(rows))

    page = response.content.decode()
    table = page[page.index('id="roster-problems"') :]
    assert "此字段不能为空。" in table
    assert "1985-13-45" in table and "未知" in table
    assert "不是有效选项" in table  # the reason itself, not a badge to hover
    assert "None" not in page
    assert response.context["job"].status == RosterImportStatus.INVALID
    assert Member.objects.count() == 6


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "says"),
    [
        (b"name,phone\nsomething", "名册.xlsx", "不是Excel工作簿"),  # a renamed file
        (_zip({"readme.txt": b"hello"}), "名册.xlsx", "不是Excel工作簿"),  # a zip, no workbook
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "名册.xls", "97-2003"),
        (b"%PDF-1.4 ...", "名册.pdf", "请上传Excel工作簿"),
    ],
    ids=["renamed", "foreign-zip", "xls", "pdf"],
)
def test_a_file_that_is_not_a_workbook_is_said_so_in_chinese(
    tree, staff_client, content, name, says
):
    response = upload(staff_client, content, name)

    assert response.status_code == 200
    page = response.content.decode()
    assert says in page
    assert "BadZipFile" not in page and "encountered" not in page
    assert not RosterImport.objects.exists()


def test_wrong_headers_show_no_traceback_or_server_paths(tree, staff_client, settings):
    content = build_xlsx([good_row(0)], ["name", "branch"])
    book = openpyxl.load_workbook(io.BytesIO(content))
    book.active.cell(row=1, column=3, value="Shoe size")
    out = io.BytesIO()
    book.save(out)

    response = upload(staff_client, out.getvalue())

    page = response.content.decode()
    assert "无法识别的列“Shoe size”。" in page
    assert "缺少列“党员编号”。" in page
    assert "Traceback" not in page and "site-packages" not in page
    assert str(settings.BASE_DIR) not in page
    assert not RosterImport.objects.exists()


def test_a_bad_organization_code_is_said_in_chinese(tree):
    rows = [good_row(i) for i in range(3)]
    rows[0]["branch"], rows[0]["group"] = "A", None  # a committee, not a branch
    rows[1]["branch"], rows[1]["group"] = "A-1", "A-2"  # a branch, not a group
    rows[2]["branch"], rows[2]["group"] = "Z-9", None  # nobody

    report = import_roster(build_xlsx(rows))

    # Before: "党组织 instance with id 1 is not a valid choice." beside the model's message.
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, header("branch"), "“A”是市统计局机关党委（党委），不是党支部。"),
        (3, header("group"), "“A-2”是统计局第二党支部（党支部），不是党小组。"),
        (4, header("branch"), "不存在编码为“Z-9”的党组织。"),
    ]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_a_csv_from_chinese_excel_is_read(tree, staff, encoding):
    rows = [dict(good_row(i), birth_date="1980/3/5", joined_on="2000年7月1日") for i in range(3)]

    report = import_roster(make_csv(rows, encoding), file_format="csv", user=staff)

    assert report.ok, report.errors
    assert report.created == 3
    member = Member.objects.get(member_no="T0001")
    assert (member.name, member.position) == ("党员1", "科员1")
    assert member.birth_date == datetime.date(1980, 3, 5)


def test_a_gbk_csv_goes_through_the_admin(tree, staff_client):
    response = upload(staff_client, make_csv([good_row(0)], "gbk"), "名册.csv")

    job = response.context["job"]
    assert job.status == RosterImportStatus.CHECKED, job.errors
    confirm(staff_client, job)
    assert Member.objects.get(member_no="T0000").name == "党员0"


def test_a_blank_required_date_says_it_is_required(tree):
    report = import_roster(build_xlsx([dict(good_row(0), birth_date=None)]))
    assert [(e.column, e.message) for e in report.errors] == [
        (header("birth_date"), "此字段不能为空。")  # not Django's "这个值不能为 null。"
    ]


def test_a_workbook_the_fast_reader_cannot_place_is_read_by_openpyxl(tree, monkeypatch):
    from branches import spreadsheet

    def unsupported(archive, max_columns):
        raise spreadsheet.UnsupportedWorkbook("test")

    monkeypatch.setattr(spreadsheet, "iter_rows", unsupported)
    table = read_roster(build_xlsx([good_row(0), None, good_row(1)]))
    assert [number for number, _values in table.rows] == [2, 4]
    assert table.rows[0][1][:2] == ("T0000", "党员0")


# --- 3. a whole city ---------------------------------------------------------------------------


def _queries_to_check(rows: int, user) -> int:
    members = [good_row(i) for i in range(rows)]
    for row in members:  # all in unit A, so that its secretary may import them
        if row["branch"] == "B-1":
            row["branch"] = "A-2"
    table = read_roster(build_xlsx(members))
    with CaptureQueriesContext(connection) as queries:
        check = check_roster(table, user)
    assert not check.errors and len(check.new) == rows
    return len(queries)


@pytest.mark.parametrize("role", ["staff", "secretary_a"])
def test_checking_costs_the_same_queries_for_10_or_300_rows(tree, users, role):
    user = users[role]
    if role == "secretary_a":
        user.organization = tree.committee_a  # sees A-1, A-1-1 and A-2: every row's branch
        user.save()
    assert _queries_to_check(300, user) == _queries_to_check(10, user) <= 6


def test_saving_writes_in_bulk_with_history_and_keeps_other_columns(tree, staff):
    rows = [good_row(i) for i in range(40)]
    assert import_roster(build_xlsx(rows), user=staff).ok
    changed = [{"member_no": f"T{i:04d}", "position": "调研员"} for i in range(0, 40, 2)]
    content = build_xlsx(changed, ["member_no", "position"])

    with CaptureQueriesContext(connection) as queries:
        report = import_roster(content, user=staff)

    assert (report.created, report.updated, report.unchanged) == (0, 20, 0)
    # a handful of reads, one UPDATE, one history INSERT, and the stored counts' refresh
    # (seven reads, an upsert per table that changed, the lock on PostgreSQL)
    assert len(queries) <= 12 + 10
    member = Member.objects.get(member_no="T0002")
    assert (member.position, member.name) == ("调研员", "党员2")
    last = member.history.latest()
    assert (last.history_type, last.history_user, last.position) == ("~", staff, "调研员")


def test_a_large_file_is_a_background_job_with_progress(
    tree, staff, staff_client, settings, django_capture_on_commit_callbacks
):
    settings.ROSTER_IMPORT_SYNC_ROWS = 5
    content = build_xlsx([good_row(i) for i in range(12)])

    with django_capture_on_commit_callbacks() as queued:
        response = upload(staff_client, content)
    job = response.context["job"]
    assert job.status == RosterImportStatus.CHECKING and len(queued) == 1
    page = response.content.decode()
    assert 'http-equiv="refresh"' in page and "<progress" in page

    queued[0]()  # the worker runs the task
    job.refresh_from_db()
    assert job.status == RosterImportStatus.CHECKED
    assert (job.rows_read, job.rows_total, job.created_count) == (12, 12, 12)
    assert Member.objects.count() == 6

    with django_capture_on_commit_callbacks() as queued:
        confirm(staff_client, job)
    job.refresh_from_db()
    assert job.status == RosterImportStatus.SAVING and len(queued) == 1
    queued[0]()
    queued[0]()  # delivered twice: saved once
    job.refresh_from_db()
    assert job.status == RosterImportStatus.DONE and job.created_count == 12
    assert Member.objects.filter(member_no__startswith="T").count() == 12
    assert Member.history.filter(member_no__startswith="T", history_user=staff).count() == 12
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == 12
    assert not job.file  # the upload is gone once imported
    page = staff_client.get(reverse("admin:branches_member_import") + f"?job={job.pk}")
    assert "已导入" in page.content.decode()


def test_an_update_through_the_admin_is_logged_as_a_change(tree, staff_client):
    content = build_xlsx([{"member_no": "A0003", "position": "科长"}], ["member_no", "position"])
    job = upload(staff_client, content).context["job"]
    confirm(staff_client, job)
    entry = LogEntry.objects.get(action_flag=CHANGE)
    assert entry.object_id == str(tree.members["a3"].pk)
    assert "职务" in entry.get_change_message()


def test_another_users_import_is_not_found(tree, secretary_a, staff_client):
    job = upload(staff_client, build_xlsx([good_row(0)])).context["job"]
    # Only its owner sees a job; anybody else, staff included, gets a 404.
    RosterImport.objects.filter(pk=job.pk).update(owner=secretary_a)
    response = staff_client.get(reverse("admin:branches_member_import") + f"?job={job.pk}")
    assert response.status_code == 404
    response = staff_client.post(
        reverse("admin:branches_member_process_import"), {"job": job.pk, "action": "confirm"}
    )
    assert response.status_code == 404


def test_a_late_second_delivery_never_undoes_a_finished_import(tree, staff_client):
    from branches import roster_jobs

    job = upload(staff_client, build_xlsx([good_row(0)])).context["job"]
    RosterImport.objects.filter(pk=job.pk).update(status=RosterImportStatus.SAVING)
    stale = RosterImport.objects.get(pk=job.pk)  # what a second delivery read at its start
    assert run_roster_import(job.pk).status == RosterImportStatus.DONE
    # ...then found the file gone, or the data changed: it may not say so over DONE.
    roster_jobs._fail(stale, "boom")
    roster_jobs._refuse(stale, [])
    job.refresh_from_db()
    assert (job.status, job.failure) == (RosterImportStatus.DONE, "")


def test_the_job_page_is_idempotent_for_finished_jobs(tree, staff):
    job = RosterImport.objects.create(
        owner=staff, original_name="x.xlsx", file_format="xlsx", status="done"
    )
    assert run_roster_import(job.pk).status == RosterImportStatus.DONE


# --- 4. limits, before openpyxl ------------------------------------------------------------------


def bomb(megabytes: int) -> bytes:
    """A small zip whose shared strings inflate to `megabytes` MB (the workbook's names are
    there, so only the size can refuse it)."""
    return _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/sharedStrings.xml": b"<sst>" + b"A" * (megabytes * 1024 * 1024) + b"</sst>",
        }
    )


def test_a_decompression_bomb_is_refused_from_the_zip_directory(
    tree, staff_client, settings, monkeypatch
):
    settings.ROSTER_IMPORT_MAX_UNCOMPRESSED_MB = 1
    content = bomb(3)
    assert len(content) < 20_000

    def never(*args, **kwargs):
        raise AssertionError("openpyxl opened a file past the limit")

    monkeypatch.setattr(roster, "load_workbook", never)
    response = upload(staff_client, content)

    page = response.content.decode()
    assert "文件过大" in page and "最多允许1 MB" in page
    assert not RosterImport.objects.exists()
    with pytest.raises(RosterFileError) as refused:
        read_roster(content)
    assert "1 MB" in refused.value.errors[0].message


def test_a_file_with_too_many_rows_is_refused_saying_the_limit(tree, staff, settings):
    settings.ROSTER_IMPORT_MAX_ROWS = 3
    report = import_roster(build_xlsx([good_row(i) for i in range(4)]), user=staff)

    assert [e.row for e in report.errors] == [0]
    assert "超过3名" in report.errors[0].message
    assert import_roster(build_xlsx([good_row(i) for i in range(3)]), user=staff).ok


def test_declared_dimensions_do_not_pad_rows(tree):
    """A sheet claiming A1:XFD1048576 is read as the cells it has."""
    content = build_xlsx([good_row(0)])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'ref="A1:Q2"', b'ref="A1:XFD1048576"')
                assert b"XFD1048576" in data
            target.writestr(item, data)
    table = read_roster(out.getvalue())
    assert len(table.rows) == 1 and len(table.columns) == len(COLUMNS)


# --- 5. nothing left behind ---------------------------------------------------------------------


def test_refused_uploads_leave_no_files_behind(tree, staff_client, settings, tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes through a temporary file
    settings.FILE_UPLOAD_TEMP_DIR = str(scratch)
    bad_rows = [good_row(0), dict(good_row(1), branch="X-99")]

    upload(staff_client, b"not a workbook", "a.xlsx")  # refused at once
    upload(staff_client, build_xlsx([good_row(0)], ["name"]), "b.xlsx")  # wrong headers
    upload(staff_client, build_xlsx(bad_rows), "c.xlsx")  # bad rows, found by the check
    job = upload(staff_client, build_xlsx([good_row(2)]), "d.xlsx").context["job"]
    confirm(staff_client, job, "cancel")

    assert sorted(p.name for p in scratch.rglob("*") if p.is_file()) == []
    media = tmp_path / "media"
    assert sorted(p.name for p in media.rglob("*") if p.is_file()) == []
    assert list(RosterImport.objects.values_list("status", flat=True)) == ["cancelled", "invalid"]


def test_checked_files_nobody_confirms_are_removed(tree, staff_client, staff):
    job = upload(staff_client, build_xlsx([good_row(0)])).context["job"]
    assert job.status == RosterImportStatus.CHECKED and job.file
    path = job.file.path
    RosterImport.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )

    from branches.tasks import remove_stale_roster_imports

    assert remove_stale_roster_imports.delay().get() == 1
    job.refresh_from_db()
    assert job.status == RosterImportStatus.CANCELLED and not job.file
    assert not os.path.exists(path)


def test_the_job_model_and_its_migration_are_in_step():
    call_command("makemigrations", "branches", "--check", "--dry-run", verbosity=0)
