"""The downloads page and export jobs (portal): small ledgers at once, large ones as a job with
progress, a failure that says why and can be retried, and only the owner ever sees a job.

The tests bring their own small ledger ("test_members", over the members of the scope) so they
depend on nothing but the framework; the bulletin ledger is used where a real one is wanted.
Celery is eager here; `start_export` sends its task on commit, so the tests run the commit
callbacks with `django_capture_on_commit_callbacks(execute=True)`.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django import forms
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import Member, Sex
from reports.ledgers import (
    REGISTRY,
    Column,
    Label,
    Ledger,
    LedgerFilter,
    OrganizationFilter,
    UnitFilter,
)
from reports.models import ExportStatus, LedgerExport

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

ENGLISH = {"language": "en"}  # chosen with the language switch
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRST_DATA_ROW = 5  # title, filters, build time, header, then the data (reports.ledgers)


class MembersLedger(Ledger):
    """A small ledger for tests: the members of the organizations in the scope."""

    code = "test_members"
    title = "Test members"
    description = "Members in your scope (tests only)."
    filters = [UnitFilter(), OrganizationFilter()]
    columns = [
        Column("Member no.", "member_no"),
        Column("Name", "name"),
        Column("Branch", "branch__name", 24),
    ]

    def queryset(self) -> QuerySet:
        return Member.objects.filter(branch__in=self.organizations().values("pk")).order_by(
            "member_no"
        )


class SexFilter(LedgerFilter):
    """A filter no framework file knows about (as a scheme, a campaign or a review stage would
    be): the form, the API, the stored job and the sheet's filter line all come from here."""

    name = "sex"
    label = "Sex"
    api_help = "male or female"

    def form_field(self, user):
        return forms.ChoiceField(
            label=self.label, choices=[("", "Both"), *Sex.choices], required=self.required
        )

    def describe(self, value):
        return f"Sex: {value}"


class MembersBySexLedger(MembersLedger):
    """The test members, by sex: a ledger with a filter of its own."""

    code = "test_members_by_sex"
    title = "Test members by sex"
    filters = [UnitFilter(), SexFilter()]
    columns = [*MembersLedger.columns, Column("Sex", Label("sex", Sex), 6)]

    def queryset(self) -> QuerySet:
        members = super().queryset()
        if self.params["sex"] is not None:
            members = members.filter(sex=self.params["sex"])
        return members


@pytest.fixture(autouse=True)
def members_ledger(monkeypatch):
    monkeypatch.setitem(REGISTRY, MembersLedger.code, MembersLedger)
    monkeypatch.setitem(REGISTRY, MembersBySexLedger.code, MembersBySexLedger)
    return MembersLedger


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Export files go to a temporary MEDIA_ROOT, never into the project."""
    settings.MEDIA_ROOT = tmp_path / "media"


def read_xlsx(content: bytes) -> list[tuple]:
    """The data rows of a ledger file (opening it proves it is a valid workbook)."""
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook.worksheets[0]
    return [row for row in sheet.iter_rows(min_row=FIRST_DATA_ROW, values_only=True) if any(row)]


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def post_download(client, ledger="test_members", **filters):
    return client.post(reverse("portal:downloads"), {"ledger": ledger, **filters}, **ENGLISH)


# --- the page ---------------------------------------------------------------------------------


def test_the_page_lists_every_registered_ledger_with_its_description(client_for):
    response = client_for("inspector_a").get(reverse("portal:downloads"), **ENGLISH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Test members" in html and "Members in your scope (tests only)." in html
    assert "Monthly organizational life bulletin" in html
    assert response.context["form"] is None  # nothing chosen: no filter form yet


def test_the_nav_has_a_reports_link(client_for):
    html = client_for("secretary_a").get(reverse("portal:members"), **ENGLISH).content.decode()
    assert f'href="{reverse("portal:downloads")}">Reports</a>' in html


def test_choosing_a_ledger_offers_only_choices_in_the_scope(tree, client_for):
    response = client_for("secretary_a").get(
        reverse("portal:downloads") + "?ledger=test_members", **ENGLISH
    )
    form = response.context["form"]
    assert {o.code for o in form.fields["organization"].queryset} == {"A-1", "A-1-1"}
    assert {u.name for u in form.fields["unit"].queryset} == {"市统计局"}
    html = response.content.decode()
    assert "水务局第一党支部" not in html
    assert 'name="ledger" value="test_members"' in html


def test_a_month_only_ledger_gets_a_month_input_and_a_prefill_from_the_link(client_for):
    url = reverse("portal:downloads") + "?ledger=bulletin&period=2026-10"
    html = client_for("staff").get(url).content.decode()
    assert 'type="month"' in html and 'value="2026-10"' in html


# --- small: at once ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "members"),
    [
        ("secretary_a", ["A0001", "A0002", "A0003"]),
        ("inspector_a", ["A0001", "A0002", "A0003", "A0101"]),
        ("staff", ["A0001", "A0002", "A0003", "A0101", "B0001", "B0002"]),
    ],
)
def test_a_small_ledger_downloads_at_once_with_only_the_rows_in_scope(client_for, role, members):
    response = post_download(client_for(role))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="test_members-')
    assert response["Content-Disposition"].endswith('.xlsx"')
    assert [row[0] for row in read_xlsx(body(response))] == members
    assert not LedgerExport.objects.exists()  # no job for a small one


def test_the_organization_filter_takes_the_subtree(tree, client_for):
    response = post_download(client_for("inspector_a"), organization=tree.branch_a2.pk)
    assert [row[0] for row in read_xlsx(body(response))] == ["A0101"]


def test_the_threshold_itself_still_downloads_at_once(client_for, settings):
    settings.LEDGER_ASYNC_THRESHOLD = 3  # secretary_a's ledger has exactly 3 rows
    response = post_download(client_for("secretary_a"))
    assert response["Content-Type"] == XLSX


# --- bad filters --------------------------------------------------------------------------------


def test_an_organization_outside_the_scope_is_refused_in_english(tree, client_for):
    response = post_download(client_for("secretary_a"), organization=tree.branch_b.pk)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "organization" in response.context["form"].errors
    assert "Select a valid choice" in response.content.decode()
    assert not LedgerExport.objects.exists()


def test_errors_follow_the_users_language(tree, client_for):
    client = client_for("secretary_a")
    response = client.post(
        reverse("portal:downloads"),
        {"ledger": "test_members", "organization": tree.branch_b.pk},
        language="zh-hans",
    )
    html = response.content.decode()
    assert "选择一个有效的选项" in html
    assert '<html lang="zh-hans">' in html


def test_the_bulletin_ledger_needs_a_month(client_for):
    client = client_for("staff")
    response = post_download(client, ledger="bulletin")
    assert response.context["form"].errors["period"] == ["This field is required."]
    response = post_download(client, ledger="bulletin", period="2026-Q1")
    assert response.context["form"].errors["period"] == [
        "This ledger does not take that kind of period."
    ]
    response = post_download(client, ledger="bulletin", period="sometime")
    assert "Not a period" in response.context["form"].errors["period"][0]


def test_a_ledger_with_a_filter_of_its_own_gets_it_on_the_page_and_in_the_file(client_for):
    client = client_for("staff")
    url = reverse("portal:downloads") + "?ledger=test_members_by_sex&sex=female&period=2026"
    form = client.get(url, **ENGLISH).context["form"]
    assert list(form.fields) == ["unit", "sex"]  # the ledger's filters, in its order
    assert form.initial == {"sex": "female"}  # a filter it does not take is not prefilled
    content = body(post_download(client, ledger="test_members_by_sex", sex="female"))
    assert [(row[0], row[3]) for row in read_xlsx(content)] == [
        ("A0002", "Female"),
        ("A0003", "Female"),
        ("B0001", "Female"),
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet["A2"].value == "Sex: female"
    response = post_download(client, ledger="test_members_by_sex", sex="other")
    assert "sex" in response.context["form"].errors


def test_an_unknown_ledger_is_an_error_not_a_crash(client_for):
    response = post_download(client_for("staff"), ledger="nope")
    assert response.status_code == 200
    assert "Choose one of the ledgers below." in response.content.decode()


# --- large: a job -------------------------------------------------------------------------------


@pytest.fixture
def small_threshold(settings):
    settings.LEDGER_ASYNC_THRESHOLD = 2
    settings.LEDGER_PROGRESS_EVERY = 2


def test_a_large_ledger_becomes_a_job_that_ends_done_and_the_owner_downloads_it(
    client_for, staff, small_threshold, django_capture_on_commit_callbacks
):
    client = client_for("staff")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_download(client)
    assert len(callbacks) == 1  # the task is sent once the job row is committed
    export = LedgerExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:export", args=[export.pk])
    assert (export.owner, export.ledger, export.status) == (staff, "test_members", "done")
    assert (export.rows_total, export.rows_written, export.progress) == (6, 6, 100)

    page = client.get(response["Location"], **ENGLISH)
    html = page.content.decode()
    download = reverse("portal:export_download", args=[export.pk])
    assert f'href="{download}"' in html
    assert "<progress" in html and 'value="100"' in html
    assert "http-equiv" not in html and "reports.js" not in html  # finished: no more polling

    file = client.get(download)
    assert file.status_code == 200
    assert file["Content-Type"] == XLSX
    assert file["Content-Disposition"].startswith('attachment; filename="test_members-')
    rows = read_xlsx(body(file))
    assert [row[0] for row in rows] == ["A0001", "A0002", "A0003", "A0101", "B0001", "B0002"]


def test_a_job_of_a_secretary_holds_only_their_scope(
    client_for, small_threshold, django_capture_on_commit_callbacks
):
    client = client_for("secretary_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_download(client)
    assert response.status_code == 302
    export = LedgerExport.objects.get()
    rows = read_xlsx(body(client.get(reverse("portal:export_download", args=[export.pk]))))
    assert [row[0] for row in rows] == ["A0001", "A0002", "A0003"]


def test_a_waiting_job_page_polls_with_a_progress_bar_and_a_no_script_refresh(client_for, staff):
    export = LedgerExport.objects.create(
        owner=staff, ledger="test_members", rows_total=400, rows_written=100, status="running"
    )
    html = client_for("staff").get(reverse("portal:export", args=[export.pk])).content.decode()
    assert '<progress id="job-progress" class="job-progress" max="100" value="25">' in html
    assert f'data-status-url="{reverse("portal:export_status", args=[export.pk])}"' in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert "/static/portal/reports.js" in html
    assert reverse("portal:export_download", args=[export.pk]) not in html


def test_the_status_endpoint_says_how_far_the_job_is(client_for, staff):
    export = LedgerExport.objects.create(
        owner=staff, ledger="test_members", rows_total=400, rows_written=100, status="running"
    )
    response = client_for("staff").get(reverse("portal:export_status", args=[export.pk]), **ENGLISH)
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "id": export.pk,
        "status": "running",
        "status_display": "Building",
        "progress": 25,
        "rows_written": 100,
        "rows_total": 400,
        "finished": False,
        "error": "",
        "download_url": None,
    }


def test_the_file_is_not_offered_before_the_job_is_done(client_for, staff):
    export = LedgerExport.objects.create(owner=staff, ledger="test_members", status="running")
    client = client_for("staff")
    assert client.get(reverse("portal:export_download", args=[export.pk])).status_code == 404


# --- failure and retry --------------------------------------------------------------------------


def test_a_failed_job_shows_its_error_offers_no_file_and_retry_works(
    client_for, small_threshold, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(self):
        raise RuntimeError("the roster table is being rebuilt")
        yield  # pragma: no cover (makes this a generator, like rows())

    repaired = MembersLedger.rows
    monkeypatch.setattr(MembersLedger, "rows", broken)
    client = client_for("inspector_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_download(client)
    export = LedgerExport.objects.get()
    assert export.status == ExportStatus.FAILED
    assert export.error == "the roster table is being rebuilt"
    assert not export.file

    page = client.get(response["Location"], **ENGLISH)
    html = page.content.decode()
    assert "The ledger could not be built." in html
    assert "the roster table is being rebuilt" in html
    download = reverse("portal:export_download", args=[export.pk])
    assert download not in html
    assert f'action="{reverse("portal:export_retry", args=[export.pk])}"' in html
    assert client.get(download).status_code == 404
    state = client.get(reverse("portal:export_status", args=[export.pk])).json()
    assert (state["status"], state["finished"], state["download_url"]) == ("failed", True, None)

    monkeypatch.setattr(MembersLedger, "rows", repaired)  # the same job is built again
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retried = client.post(reverse("portal:export_retry", args=[export.pk]), **ENGLISH)
    assert len(callbacks) == 1
    assert retried["Location"] == reverse("portal:export", args=[export.pk])
    export.refresh_from_db()
    assert (export.status, export.error, export.rows_written) == ("done", "", 4)
    rows = read_xlsx(body(client.get(download)))
    assert [row[0] for row in rows] == ["A0001", "A0002", "A0003", "A0101"]
    assert LedgerExport.objects.count() == 1  # the same job, not a new one


def test_only_a_failed_job_can_be_retried(client_for, staff):
    export = LedgerExport.objects.create(owner=staff, ledger="test_members", status="running")
    client = client_for("staff")
    response = client.post(reverse("portal:export_retry", args=[export.pk]), follow=True, **ENGLISH)
    assert "Only a failed or stopped export can be retried." in response.content.decode()
    export.refresh_from_db()
    assert export.status == "running"


def test_a_job_whose_filters_left_the_scope_fails_with_a_reason(
    tree, secretary_a, client_for, django_capture_on_commit_callbacks
):
    from reports.services import run_export

    export = LedgerExport.objects.create(
        owner=secretary_a, ledger="test_members", params={"organization": tree.branch_b.pk}
    )
    run_export(export.pk)
    html = client_for("secretary_a").get(reverse("portal:export", args=[export.pk]), **ENGLISH)
    export.refresh_from_db()
    assert export.status == "failed"
    assert export.error.startswith("organization:")
    assert export.error in html.content.decode()


@pytest.mark.parametrize(
    ("ledger", "params", "error"),
    [
        ("test_members_by_sex", {"sex": "other"}, "sex: Select a valid choice."),
        ("test_members", {"period": "2026-10"}, "period: This ledger has no such filter."),
    ],
)
def test_a_job_whose_stored_filters_the_ledger_refuses_fails_with_a_reason(
    secretary_a, ledger, params, error
):
    from django.utils import translation

    from reports.services import run_export

    export = LedgerExport.objects.create(owner=secretary_a, ledger=ledger, params=params)
    with translation.override("en"):  # the reason as written in the source
        run_export(export.pk)
    export.refresh_from_db()
    assert export.status == "failed"
    assert export.error.startswith(error)


def test_a_job_of_a_ledger_with_a_filter_of_its_own(
    client_for, small_threshold, django_capture_on_commit_callbacks
):
    client = client_for("staff")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_download(client, ledger="test_members_by_sex", sex="male")
    export = LedgerExport.objects.get()
    assert export.params == {"unit": None, "sex": "male"}
    assert export.status == "done"
    page = client.get(response["Location"], **ENGLISH).content.decode()
    assert "Sex: male" in page  # the job page describes the filters
    rows = read_xlsx(body(client.get(reverse("portal:export_download", args=[export.pk]))))
    assert [row[0] for row in rows] == ["A0001", "A0101", "B0002"]


def test_a_file_gone_from_the_disk_is_a_404_not_a_crash(
    client_for, small_threshold, django_capture_on_commit_callbacks
):
    client = client_for("staff")
    with django_capture_on_commit_callbacks(execute=True):
        post_download(client)
    export = LedgerExport.objects.get()
    export.file.storage.delete(export.file.name)
    assert client.get(reverse("portal:export_download", args=[export.pk])).status_code == 404


# --- my jobs ------------------------------------------------------------------------------------


def test_the_page_lists_my_recent_jobs_and_nobody_elses(client_for, staff, secretary_a):
    mine = LedgerExport.objects.create(owner=secretary_a, ledger="test_members", status="done")
    theirs = LedgerExport.objects.create(owner=staff, ledger="bulletin", status="failed")
    response = client_for("secretary_a").get(reverse("portal:downloads"), **ENGLISH)
    assert [job.pk for job in response.context["jobs"]] == [mine.pk]
    html = response.content.decode()
    assert reverse("portal:export", args=[mine.pk]) in html
    assert reverse("portal:export", args=[theirs.pk]) not in html


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_downloads_page_costs_the_same_queries_for_2_or_12_jobs(
    tree, client_for, secretary_a, django_assert_num_queries
):
    client = client_for("secretary_a")
    url = reverse("portal:downloads") + "?ledger=test_members"
    for _ in range(2):
        LedgerExport.objects.create(owner=secretary_a, ledger="test_members")
    # Session, user, the unit choices, the organization choices, the latest jobs.
    with django_assert_num_queries(5):
        client.get(url)
    for _ in range(10):
        LedgerExport.objects.create(owner=secretary_a, ledger="bulletin", status="done")
    with django_assert_num_queries(5):
        client.get(url)


def test_the_job_page_and_status_cost_a_fixed_number_of_queries(
    client_for, staff, django_assert_num_queries
):
    export = LedgerExport.objects.create(owner=staff, ledger="test_members", status="running")
    client = client_for("staff")
    # Session, user, the job (filters: none to look up).
    with django_assert_num_queries(3):
        client.get(reverse("portal:export", args=[export.pk]))
    with django_assert_num_queries(3):
        client.get(reverse("portal:export_status", args=[export.pk]))
