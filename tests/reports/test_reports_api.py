"""The reports API: ledgers on offer, export jobs (always in the background), bulletins cut to
the scope; lists at a fixed number of queries; the OpenAPI schema stays clean."""

from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import Organization, OrganizationKind, Term
from branches.periods import Period
from reports.ledgers import REGISTRY, all_filter_names
from reports.models import LedgerExport
from reports.services import build_bulletin
from tests.conftest import add_record
from tests.reports.test_downloads import MembersBySexLedger, MembersLedger

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
ENGLISH = {"language": "en"}  # chosen with the language switch
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def members_ledger(monkeypatch):
    monkeypatch.setitem(REGISTRY, MembersLedger.code, MembersLedger)
    monkeypatch.setitem(REGISTRY, MembersBySexLedger.code, MembersBySexLedger)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def create(client, **data):
    return client.post(
        reverse("ledger-export-list"), data, content_type="application/json", **ENGLISH
    )


def data_rows(content: bytes) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [row for row in sheet.iter_rows(min_row=5, values_only=True) if any(row)]


# --- /api/ledgers/ ----------------------------------------------------------------------------


def test_ledgers_are_listed_with_their_filters(client_for):
    data = client_for("inspector_a").get(reverse("ledger-list"), **ENGLISH).json()
    by_code = {ledger["code"]: ledger for ledger in data}
    assert by_code["bulletin"] == {
        "code": "bulletin",
        "title": "Monthly organizational life bulletin",
        "description": "Every organization that owed organizational life in a month, as "
        "published: what it owed and held, whether it complied, and what it missed.",
        "filters": ["unit", "organization", "period"],
        "filter_fields": by_code["bulletin"]["filter_fields"],
        "period_required": True,
        "period_kinds": ["month"],
        "columns": by_code["bulletin"]["columns"],
    }
    assert by_code["bulletin"]["columns"][0] == {"header": "Unit", "type": "text"}
    assert by_code["test_members"]["filters"] == ["unit", "organization"]
    # Each filter as the ledger declares it: what to send, and whether it is needed.
    unit, organization, period = by_code["bulletin"]["filter_fields"]
    assert (unit["name"], unit["label"], unit["required"]) == ("unit", "Unit", False)
    assert unit["schema"]["type"] == organization["schema"]["type"] == "integer"
    assert (period["name"], period["required"], period["kinds"]) == ("period", True, ["month"])
    assert period["schema"]["type"] == "string"
    assert re.fullmatch(period["schema"]["pattern"], "2026-10")
    assert not re.fullmatch(period["schema"]["pattern"], "2026-Q1")
    assert by_code["test_members"]["period_required"] is False
    assert by_code["test_members"]["period_kinds"] == []


@pytest.mark.parametrize(
    ("role", "private"),
    [("staff", True), ("secretary_a", True), ("inspector_a", False), ("inspector_city", False)],
)
def test_the_columns_listed_are_those_of_the_requesting_user(client_for, role, private):
    roster = client_for(role).get(reverse("ledger-detail", args=["roster"]), **ENGLISH).json()
    headers = [column["header"] for column in roster["columns"]]
    assert "Age" in headers and "Member number" in headers
    assert ("Phone" in headers, "Birth date" in headers) == (private, private)


def test_one_ledger_and_an_unknown_one(client_for):
    client = client_for("secretary_b")
    assert client.get(reverse("ledger-detail", args=["bulletin"])).json()["code"] == "bulletin"
    assert client.get(reverse("ledger-detail", args=["nope"])).status_code == 404


# --- /api/ledger-exports/ ---------------------------------------------------------------------


def test_post_starts_a_job_even_for_a_small_ledger_and_the_owner_downloads_it(
    client_for, secretary_a, django_capture_on_commit_callbacks
):
    client = client_for("secretary_a")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = create(client, ledger="test_members")
    assert response.status_code == 201
    job = response.json()
    assert response["Location"] == reverse("ledger-export-detail", args=[job["id"]])
    assert (job["ledger"], job["status"], job["rows_total"], job["download_url"]) == (
        "test_members",
        "pending",
        3,
        None,
    )
    # Every filter of the ledger (test_members takes no period), null when not chosen.
    assert job["params"] == {"unit": None, "organization": None}
    assert len(callbacks) == 1  # the task waits for the commit

    callbacks[0]()  # the commit: the (eager) task builds the file
    polled = client.get(response["Location"]).json()
    assert (polled["status"], polled["progress"], polled["rows_written"]) == ("done", 100, 3)
    assert polled["download_url"] == "http://testserver" + reverse(
        "ledger-export-download", args=[job["id"]]
    )
    file = client.get(polled["download_url"], HTTP_ACCEPT="application/json")
    assert file.status_code == 200
    assert file["Content-Type"] == XLSX
    content = b"".join(file.streaming_content)
    assert [row[0] for row in data_rows(content)] == ["A0001", "A0002", "A0003"]
    assert LedgerExport.objects.get().owner == secretary_a


def test_post_with_filters_in_scope_stores_them(tree, client_for):
    response = create(client_for("inspector_a"), ledger="test_members", unit=tree.unit_a.pk)
    assert response.status_code == 201
    assert response.json()["params"]["unit"] == tree.unit_a.pk


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"ledger": "nope"}, {"ledger": ["Unknown ledger: nope"]}),
        (
            {"ledger": "test_members", "organization": "branch_b"},
            {
                "organization": [
                    "Select a valid choice. That choice is not one of the available choices."
                ]
            },
        ),
        (
            {"ledger": "test_members", "unit": "unit_b"},
            {"unit": ["Select a valid choice. That choice is not one of the available choices."]},
        ),
        (
            {"ledger": "test_members", "period": "2026-10"},
            {"period": ["This ledger has no such filter."]},
        ),
        ({"ledger": "bulletin"}, {"period": ["This field is required."]}),
        (
            {"ledger": "bulletin", "period": "2026"},
            {"period": ["This ledger does not take that kind of period."]},
        ),
        ({}, {"ledger": ["This field is required."]}),
        (
            {"ledger": "test_members", "sex": "female"},
            {"sex": ["This ledger has no such filter."]},
        ),
        (
            {"ledger": "test_members_by_sex", "organization": "branch_b"},
            {"organization": ["This ledger has no such filter."]},
        ),
        (
            {"ledger": "test_members_by_sex", "sex": "other"},
            {"sex": ["Select a valid choice. other is not one of the available choices."]},
        ),
    ],
)
def test_bad_filters_are_400s_keyed_by_field_and_start_nothing(tree, client_for, data, errors):
    objects = {"branch_b": tree.branch_b.pk, "unit_b": tree.unit_b.pk}
    data = {k: objects.get(v, v) for k, v in data.items()}
    response = create(client_for("secretary_a"), **data)
    assert response.status_code == 400
    assert response.json() == errors
    assert not LedgerExport.objects.exists()


def test_a_ledger_with_a_filter_of_its_own_takes_it_by_its_name(client_for):
    client = client_for("inspector_a")
    listed = client.get(reverse("ledger-detail", args=["test_members_by_sex"])).json()
    assert listed["filters"] == ["unit", "sex"]
    assert listed["filter_fields"][1] == {
        "name": "sex",
        "label": "Sex",
        "required": False,
        "schema": {"type": "string", "nullable": True, "description": "male or female"},
    }
    response = create(client, ledger="test_members_by_sex", sex="female", unit=None)
    assert response.status_code == 201, response.json()
    assert response.json()["params"] == {"unit": None, "sex": "female"}


def test_a_key_no_ledger_takes_is_ignored_as_unknown_fields_are(client_for):
    """E.g. the CSRF token of a form post: only names of filters are filters."""
    response = client_for("secretary_a").post(
        reverse("ledger-export-list"),
        {"ledger": "test_members", "csrfmiddlewaretoken": "x", "colour": "red"},
        **ENGLISH,
    )
    assert response.status_code == 201, response.content
    assert response.json()["params"] == {"unit": None, "organization": None}


def test_errors_follow_the_users_language(tree, client_for):
    response = client_for("secretary_a").post(
        reverse("ledger-export-list"),
        {"ledger": "test_members", "organization": tree.branch_b.pk},
        content_type="application/json",
        language="zh-hans",
    )
    assert "选择一个有效的选项" in response.json()["organization"][0]


def test_the_list_holds_only_my_jobs_and_filters_by_status(client_for, staff, secretary_a):
    mine = LedgerExport.objects.create(owner=secretary_a, ledger="bulletin", status="failed")
    LedgerExport.objects.create(owner=secretary_a, ledger="bulletin", status="done")
    LedgerExport.objects.create(owner=staff, ledger="bulletin", status="failed")
    client = client_for("secretary_a")
    assert client.get(reverse("ledger-export-list")).json()["count"] == 2
    failed = client.get(reverse("ledger-export-list") + "?status=failed").json()
    assert [job["id"] for job in failed["results"]] == [mine.pk]


def test_someone_elses_job_is_a_404_for_every_action(client_for, staff):
    job = LedgerExport.objects.create(owner=staff, ledger="bulletin", status="failed")
    client = client_for("inspector_city")
    assert client.get(reverse("ledger-export-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("ledger-export-download", args=[job.pk])).status_code == 404
    assert client.post(reverse("ledger-export-retry", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == "failed"


def test_download_is_a_404_until_the_job_is_done(client_for, staff):
    job = LedgerExport.objects.create(owner=staff, ledger="bulletin", status="running")
    assert (
        client_for("staff").get(reverse("ledger-export-download", args=[job.pk])).status_code == 404
    )


def test_a_failed_job_says_why_and_retry_builds_it(
    client_for, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(self):
        raise RuntimeError("disk full")
        yield  # pragma: no cover

    repaired = MembersLedger.rows
    monkeypatch.setattr(MembersLedger, "rows", broken)
    client = client_for("inspector_a")
    with django_capture_on_commit_callbacks(execute=True):
        job = create(client, ledger="test_members").json()
    polled = client.get(reverse("ledger-export-detail", args=[job["id"]])).json()
    assert (polled["status"], polled["error"], polled["download_url"]) == (
        "failed",
        "disk full",
        None,
    )
    assert client.get(reverse("ledger-export-download", args=[job["id"]])).status_code == 404

    monkeypatch.setattr(MembersLedger, "rows", repaired)
    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(reverse("ledger-export-retry", args=[job["id"]]), **ENGLISH)
    assert retried.status_code == 202
    assert retried.json()["status"] == "pending"  # as answered; built on commit
    polled = client.get(reverse("ledger-export-detail", args=[job["id"]])).json()
    assert (polled["status"], polled["error"], polled["rows_written"]) == ("done", "", 4)
    again = client.post(reverse("ledger-export-retry", args=[job["id"]]), **ENGLISH)
    assert again.status_code == 400
    assert again.json() == {"non_field_errors": ["Only a failed or stopped export can be retried."]}


def test_jobs_cannot_be_changed_or_deleted(client_for, staff):
    job = LedgerExport.objects.create(owner=staff, ledger="bulletin")
    client = client_for("staff")
    url = reverse("ledger-export-detail", args=[job.pk])
    assert client.delete(url).status_code == 405
    assert client.patch(url, {"status": "done"}, content_type="application/json").status_code == 405


def test_the_job_list_costs_the_same_queries_for_2_or_12_jobs(
    client_for, secretary_a, django_assert_num_queries
):
    client = client_for("secretary_a")
    for _ in range(2):
        LedgerExport.objects.create(owner=secretary_a, ledger="bulletin")
    # Session, user, the count, the page of jobs.
    with django_assert_num_queries(4):
        client.get(reverse("ledger-export-list"))
    for _ in range(10):
        LedgerExport.objects.create(owner=secretary_a, ledger="test_members", status="done")
    with django_assert_num_queries(4):
        assert client.get(reverse("ledger-export-list")).json()["count"] == 12


# --- /api/bulletins/ --------------------------------------------------------------------------


@pytest.fixture
def october(tree, activity_types):
    """As in test_bulletin_pages: unit_b ranked 1st (1/1), unit_a 2nd (1/2); branch_a missed
    党小组会, branch_b's election is overdue."""
    t = activity_types
    add_record(tree.branch_a, t["theme_day"], D(2026, 10, 10))
    add_record(tree.branch_a2, t["theme_day"], D(2026, 10, 12))
    add_record(tree.branch_b, t["theme_day"], D(2026, 10, 15))
    Term.objects.create(organization=tree.branch_b, started_on=D(2022, 1, 10))
    return build_bulletin(Period.month(2026, 10), today=D(2026, 11, 27))


def test_bulletins_are_listed_by_month_with_their_totals(october, client_for):
    data = client_for("secretary_a").get(reverse("bulletin-list")).json()
    (bulletin,) = data["results"]
    assert bulletin["month"] == "2026-10"
    assert bulletin["url"] == "http://testserver" + reverse("bulletin-detail", args=["2026-10"])
    assert (
        bulletin["organization_count"],
        bulletin["compliant_count"],
        bulletin["owed"],
        bulletin["held"],
        bulletin["overdue_election_count"],
    ) == (3, 2, 4, 3, 1)
    assert bulletin["compliance_rate"] == pytest.approx(0.6667)
    assert bulletin["completion_rate"] == 0.75


@pytest.mark.parametrize(
    ("role", "units", "rows"),
    [
        ("staff", [(1, "市水务局"), (2, "市统计局")], ["A-1", "A-2", "B-1"]),
        ("inspector_city", [(1, "市水务局"), (2, "市统计局")], ["A-1", "A-2", "B-1"]),
        ("inspector_a", [(2, "市统计局")], ["A-1", "A-2"]),
        ("secretary_a", [], ["A-1"]),
        ("secretary_b", [], ["B-1"]),
    ],
)
def test_one_month_holds_the_lines_of_the_scope(october, client_for, role, units, rows):
    data = client_for(role).get(reverse("bulletin-detail", args=["2026-10"])).json()
    assert [(u["rank"], u["unit_name"]) for u in data["unit_rows"]] == units
    # As a set: the lines are ordered by unit name, and collations order Chinese differently.
    assert sorted(r["organization_code"] for r in data["rows"]) == rows
    assert data["organization_count"] == 3  # the published city figure


def test_a_line_says_what_was_missed(october, client_for, tree):
    data = client_for("secretary_a").get(reverse("bulletin-detail", args=["2026-10"])).json()
    (line,) = data["rows"]
    assert line == {
        "organization": tree.branch_a.pk,
        "organization_name": "统计局第一党支部",
        "organization_code": "A-1",
        "organization_kind": "branch",
        "unit": tree.unit_a.pk,
        "unit_name": "市统计局",
        "owed": 2,
        "held": 1,
        "missing": 1,
        "compliant": False,
        "missing_detail": "党小组会×1",
        "election_due_on": None,
        "election_overdue": False,
    }


def test_a_missing_or_impossible_month_is_a_404(october, client_for):
    client = client_for("staff")
    assert client.get(reverse("bulletin-detail", args=["2026-11"])).status_code == 404
    assert client.get(reverse("bulletin-detail", args=["2026-13"])).status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_bulletin_reads_cost_the_same_queries_for_few_or_many(tree, activity_types, client_for):
    client = client_for("inspector_a")
    build_bulletin(Period.month(2026, 10), today=D(2026, 11, 27))
    detail = reverse("bulletin-detail", args=["2026-10"])
    # List: session, user, count, page. Detail: session, user, bulletin, unit lines, lines.
    assert (_queries(client, reverse("bulletin-list")), _queries(client, detail)) == (4, 5)
    for i in range(30):
        Organization.objects.create(
            code=f"A-9{i:02d}",
            name=f"支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
    for month in range(1, 11):
        build_bulletin(Period.month(2026, month), today=D(2026, 11, 27))
    assert len(client.get(detail).json()["rows"]) > 30
    assert (_queries(client, reverse("bulletin-list")), _queries(client, detail)) == (4, 5)


# --- the schema -------------------------------------------------------------------------------


def test_the_schema_is_valid_without_warnings(db, tmp_path):
    # --fail-on-warn turns any drf-spectacular warning (e.g. an untyped field) into an error.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    schema = (tmp_path / "schema.yaml").read_text()
    for path in (
        "/api/ledgers/:",
        "/api/ledgers/{code}/:",
        "/api/ledger-exports/:",
        "/api/ledger-exports/{id}/:",
        "/api/ledger-exports/{id}/download/:",
        "/api/ledger-exports/{id}/retry/:",
        "/api/bulletins/:",
        "/api/bulletins/{month}/:",
    ):
        assert path in schema
    # The POST body of an export: the ledger and every filter name some ledger takes.
    body = yaml.safe_load(schema)["components"]["schemas"]["LedgerExportCreate"]
    assert set(body["properties"]) == {"ledger"} | all_filter_names()
    assert {"unit", "organization", "period", "sex"} <= set(body["properties"])
    assert body["required"] == ["ledger"]
    assert body["properties"]["unit"]["type"] == "integer"
    assert "bulletin" in body["properties"]["period"]["description"]
