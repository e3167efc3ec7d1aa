"""Roster (党员名册) import/export: all or nothing, every bad row reported, clean round trip."""

from __future__ import annotations

import datetime
import io
from typing import Any

import openpyxl
import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from import_export.formats import base_formats

from branches.models import Education, Member, MemberStatus, Organization, PartyDuty, Sex
from branches.resources import MemberResource, roster_headers
from branches.roster_jobs import RosterImportStatus
from branches.services import RowError, export_roster, import_roster

# Resource field names in file order; `branch_name` is export-only.
COLUMNS = [name for name in MemberResource.Meta.fields if name != "branch_name"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _zh_hans():
    """The interface language; our own catalogue is not written yet, Django's is."""
    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """The admin keeps an upload while it is checked: in a temporary folder, not media/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def header(name: str) -> str:
    return str(MemberResource.fields[name].column_name)


def good_row(i: int) -> dict[str, Any]:
    """A valid member, varying how each value is written (raw value, label, Excel cell...)."""
    branch = ["A-1", "A-2", "B-1"][i % 3]
    full = i % 4 != 0
    birth = datetime.date(1970 + i % 25, 1 + i % 12, 1 + i % 28)
    return {
        "member_no": f"T{i:04d}",
        "name": f"党员{i}",
        "sex": "male" if i % 2 else str(Sex.FEMALE.label),
        # Real Excel date cells for even rows, YYYY-MM-DD text for odd ones.
        "birth_date": birth if i % 2 == 0 else birth.isoformat(),
        "joined_on": datetime.date(2000 + i % 20, 7, 1),
        "status": str(MemberStatus.FULL.label) if full else "probationary",
        "full_member_on": f"{2001 + i % 20}-07-01" if full else None,
        "education": "bachelor" if i % 3 else str(Education.POSTGRADUATE.label),
        "position": f"科员{i}",
        "branch": branch,
        "group": "A-1-1" if branch == "A-1" and i % 2 else None,
        "duty": "" if i % 5 else str(PartyDuty.COMMITTEE_MEMBER.label),
        "is_party_worker": ["是", "否", "yes", 0][i % 4],
        "community": "东街社区" if i % 7 == 0 else "",
        "first_secretary_village": "",
        "is_hardship": "否" if i % 9 else "是",
        "phone": 13800000000 + i,  # typed as a number in Excel
    }


def build_xlsx(rows: list[dict[str, Any] | None], columns: list[str] | None = None) -> bytes:
    """A workbook with the roster headers; None is an empty spreadsheet row."""
    columns = columns or COLUMNS
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([header(c) for c in columns])
    for row in rows:
        sheet.append([None] * len(columns) if row is None else [row.get(c) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_with_three_bad_rows() -> tuple[bytes, dict[str, int]]:
    rows = [good_row(i) for i in range(50)]
    # Spreadsheet row 12; its group is fine, so only the branch may be reported.
    rows[10]["branch"], rows[10]["group"] = "X-99", "A-1-1"
    rows[23]["birth_date"] = "1985-13-45"  # spreadsheet row 25
    rows[38]["branch"], rows[38]["group"] = "A-2", "A-1-1"  # row 40: group of another branch
    return build_xlsx(rows), {"unknown": 12, "date": 25, "group": 40}


def snapshot() -> list[dict[str, Any]]:
    return list(Member.objects.order_by("member_no").values())


# --- the service


def test_bad_rows_save_nothing_and_are_all_reported(tree):
    before, history_before = snapshot(), Member.history.count()
    content, at = file_with_three_bad_rows()

    report = import_roster(content)

    assert not report.ok
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    assert [(e.row, e.column) for e in report.errors] == [
        (at["unknown"], header("branch")),
        (at["date"], header("birth_date")),
        (at["group"], header("group")),
    ]
    unknown, bad_date, wrong_group = report.errors
    assert "X-99" in unknown.message
    # Django's own message, so already Chinese: it names the value.
    assert "1985-13-45" in bad_date.message
    assert "日期" in bad_date.message
    assert wrong_group.message == gettext("The party group must be inside the member's branch.")
    assert snapshot() == before
    assert Member.history.count() == history_before
    assert not Member.objects.filter(member_no__startswith="T").exists()


@pytest.mark.django_db(transaction=True)
def test_bad_file_commits_nothing_outside_a_test_transaction(tree):
    """Same as above with real commits: nothing of the file reaches the database."""
    content, _rows = file_with_three_bad_rows()
    report = import_roster(content)
    assert len(report.errors) == 3
    assert Member.objects.count() == 6


def test_clean_file_saves_every_row(tree, staff):
    report = import_roster(build_xlsx([good_row(i) for i in range(50)]), user=staff)

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (50, 0, 0)
    assert Member.objects.filter(member_no__startswith="T").count() == 50
    m = Member.objects.select_related("branch", "group").get(member_no="T0001")
    assert (m.sex, m.status, m.education) == ("male", "full", "bachelor")
    assert m.birth_date == datetime.date(1971, 2, 2)  # from text
    assert m.full_member_on == datetime.date(2002, 7, 1)
    assert m.branch.code == "A-2" and m.group is None
    assert m.phone == "13800000001"
    assert m.is_party_worker is False  # "否"
    m0 = Member.objects.get(member_no="T0000")
    assert (m0.sex, m0.education, m0.status, m0.duty) == (
        "female",
        "postgraduate",
        "probationary",
        "committee_member",
    )
    assert m0.birth_date == datetime.date(1970, 1, 1)  # from an Excel date cell
    assert m0.is_party_worker is True and m0.is_hardship is True
    m3 = Member.objects.select_related("group").get(member_no="T0003")
    assert m3.group.code == "A-1-1" and m3.community == ""
    assert Member.history.filter(member_no="T0003").get().history_user == staff


def test_export_reimports_unchanged(tree, staff):
    assert import_roster(build_xlsx([good_row(i) for i in range(12)])).ok
    before, history_before = snapshot(), Member.history.count()

    content = export_roster(staff, Member.objects.all())

    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    # The ledgers' layout: title, filters, build time, then the header (row 4).
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert list(rows[0]) == roster_headers()
    by_no = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    zhang = by_no["A0001"]
    assert zhang[header("birth_date")] == datetime.datetime(1985, 6, 1)  # a real date
    assert (zhang[header("branch")], zhang[header("group")]) == ("A-1", "A-1-1")
    assert zhang[header("branch_name")] == "统计局第一党支部"
    assert zhang[header("is_hardship")] == "否"  # Django's "No", in Chinese
    assert zhang[header("sex")] == str(Sex.MALE.label)

    report = import_roster(content)

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 18)
    assert snapshot() == before
    assert Member.history.count() == history_before


def test_update_existing_member_by_number(tree):
    columns = ["member_no", "position", "status", "full_member_on"]
    content = build_xlsx(
        [
            {
                "member_no": "A0003",
                "position": "科长",
                "status": "Full member",
                "full_member_on": "2011-07-01",
            },
            {"member_no": "A0001", "position": "", "status": "full"},  # as it is
        ],
        columns,
    )
    report = import_roster(content)

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    li = Member.objects.get(member_no="A0003")
    assert (li.position, li.status, li.full_member_on) == (
        "科长",
        "full",
        datetime.date(2011, 7, 1),
    )
    assert li.name == "李娜" and li.branch == tree.branch_a  # columns not in the file stay
    assert Member.objects.count() == 6


def test_blank_rows_are_ignored_and_numbering_follows_the_sheet(tree):
    twin = good_row(1)
    content = build_xlsx([good_row(0), None, twin, dict(twin, name="重复")])

    report = import_roster(content)

    assert report.errors == [
        RowError(
            5,
            header("member_no"),
            # The user reads it in Chinese (zh-hans is the default language).
            f"党员编号“{twin['member_no']}”在文件中重复出现（首次出现在第4行）。",
        )
    ]
    assert Member.objects.count() == 6


def test_required_values_use_djangos_translated_messages(tree):
    row = dict(good_row(0), name="  ", sex="", education="博士后")
    report = import_roster(build_xlsx([row]))

    by_column = {e.column: e.message for e in report.errors}
    assert by_column[header("name")] == "此字段不能为空。"
    assert by_column[header("sex")] == "此字段不能为空。"
    assert "博士后" in by_column[header("education")]
    assert all(e.row == 2 for e in report.errors)
    assert Member.objects.count() == 6


def test_bad_header_row_rejects_the_file(tree):
    content = build_xlsx([good_row(0)], ["name", "branch"])
    sheet_bytes = io.BytesIO(content)
    book = openpyxl.load_workbook(sheet_bytes)
    book.active.cell(row=1, column=3, value="Shoe size")
    book.active.cell(row=2, column=3, value=42)
    out = io.BytesIO()
    book.save(out)

    report = import_roster(out.getvalue())

    assert [(e.row, e.column) for e in report.errors] == [
        (1, "Shoe size"),
        (1, header("member_no")),
    ]
    assert "Shoe size" in report.errors[0].message
    assert Member.objects.count() == 6


def test_unreadable_file_is_one_error_not_a_crash(tree):
    report = import_roster(b"this is not a spreadsheet")
    assert len(report.errors) == 1 and report.errors[0].row == 0


def test_secretary_imports_only_inside_own_scope(tree, secretary_a):
    inside = dict(good_row(0), branch="A-1", group=None)
    outside = dict(good_row(1), branch="B-1", group=None)
    report = import_roster(build_xlsx([inside, outside]), user=secretary_a)

    assert [(e.row, e.column) for e in report.errors] == [(3, header("branch"))]
    assert "B-1" in report.errors[0].message
    assert Member.objects.count() == 6


def test_inspector_may_not_import(tree, inspector_city):
    with pytest.raises(PermissionDenied):
        import_roster(build_xlsx([good_row(0)]), user=inspector_city)


def test_resource_alone_rolls_back_a_real_import_with_bad_rows(tree):
    """Not only the service: any caller of MemberResource.import_data gets all or nothing."""
    content, at = file_with_three_bad_rows()
    dataset = base_formats.XLSX().create_dataset(content)

    result = MemberResource().import_data(dataset, dry_run=False)

    assert result.rolled_back
    assert [r.number for r in result.invalid_rows] == sorted(at.values())
    assert result.totals["new"] == 0 and result.totals["skip"] == 47
    assert not [r for r in result.rows if r.instance is not None or r.object_id is not None]
    assert Member.objects.count() == 6


# --- the admin (a file of at most ROSTER_IMPORT_SYNC_ROWS rows is checked while it waits)


def _post_import(client: Client, content: bytes, name: str = "roster.xlsx"):
    """Upload a file; follow to the import's page."""
    upload = SimpleUploadedFile(name, content, content_type=XLSX_TYPE)
    url = reverse("admin:branches_member_import")
    return client.post(url, {"import_file": upload}, follow=True)


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def _confirm(client: Client, job, action: str = "confirm"):
    return client.post(
        reverse("admin:branches_member_process_import"), {"job": job.pk, "action": action}
    )


def test_admin_shows_every_bad_row_and_saves_nothing(tree, staff_client):
    content, at = file_with_three_bad_rows()

    response = _post_import(staff_client, content)

    assert response.status_code == 200
    job = response.context["job"]
    assert job.status == RosterImportStatus.INVALID
    assert [p.row for p in response.context["row_problems"]] == sorted(at.values())
    page = response.content.decode()
    assert "未导入任何数据" in page  # "Nothing was imported."
    assert reverse("admin:branches_member_process_import") not in page  # nothing to confirm
    assert "X-99" in page and "1985-13-45" in page
    assert Member.objects.count() == 6


def test_admin_preview_then_confirm_saves_every_row(tree, staff_client):
    response = _post_import(staff_client, build_xlsx([good_row(i) for i in range(50)]))

    job = response.context["job"]
    assert job.status == RosterImportStatus.CHECKED
    assert (job.created_count, job.updated_count, job.unchanged_count) == (50, 0, 0)
    assert Member.objects.count() == 6  # the check saves nothing
    response = _confirm(staff_client, job)

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:branches_member_changelist")
    assert Member.objects.filter(member_no__startswith="T").count() == 50
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == 50


def test_admin_confirm_saves_nothing_when_data_changed_since_preview(tree, staff_client):
    response = _post_import(staff_client, build_xlsx([good_row(i) for i in range(50)]))
    job = response.context["job"]
    # Between preview and confirm, someone renames branch A-2: a third of the rows go bad.
    Organization.objects.filter(code="A-2").update(code="A-2-OLD")

    response = _confirm(staff_client, job)

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == RosterImportStatus.INVALID
    assert {p.column for p in job.problems()} == {header("branch")}
    assert not Member.objects.filter(member_no__startswith="T").exists()
    assert not LogEntry.objects.exists()  # no log of members that were never saved


def test_export_widgets_render_labels_and_dates(tree):
    """Export side alone: labels, 是/否, ISO dates, empty cells for missing values."""
    resource = MemberResource()
    row = dict(
        zip(
            resource.get_export_headers(),
            resource.export_resource(tree.members["a3"]),
            strict=True,
        )
    )
    assert row[header("status")] == str(MemberStatus.PROBATIONARY.label)
    assert row[header("full_member_on")] == ""
    assert row[header("group")] == ""
    assert row[header("is_party_worker")] == "否"
    assert row[header("birth_date")] == "1985-06-01"
