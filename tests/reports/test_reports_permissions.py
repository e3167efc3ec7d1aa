"""Who may open what in the reports app: every page and endpoint, for every role.

One row per (method, URL, target) with the status each role must get (after pretix's
permission tests). An export job is its owner's alone: to anybody else its page, status, file
and retry are a 404, never a 403, so nothing confirms that it exists. Anonymous visitors are
sent to the login page (portal) or refused with 403 (API, session authentication first).

The jobs: `job_done` belongs to secretary_a and has its file; `job_failed` to inspector_a;
`job_running` to staff (not done: no file for anybody, its owner included).

The cast and the jobs are built once for the module (`module_cast`, tests/conftest.py); every
row runs in its own savepoint, rolled back after it, so what a row writes (a retried job, a new
export) never reaches the next.
"""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from branches.periods import Period
from reports.models import LedgerExport
from reports.services import build_bulletin
from tests.conftest import add_record

pytestmark = pytest.mark.usefixtures("module_cast")

ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city", "anonymous")
D = datetime.date


def statuses(staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous):
    """Expected status per role, positionally in the order of ROLES, so no role is forgotten."""
    return dict(
        zip(
            ROLES,
            (staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous),
            strict=True,
        )
    )


PORTAL = statuses(200, 200, 200, 200, 200, 302)
API = statuses(200, 200, 200, 200, 200, 403)
API_CREATED = statuses(201, 201, 201, 201, 201, 403)
API_NOT_FOUND = statuses(404, 404, 404, 404, 404, 403)
API_NO_METHOD = statuses(405, 405, 405, 405, 405, 403)
#                                   staff sec_a sec_b insp_a city  anonymous
ONLY_SEC_A = statuses(404, 200, 404, 404, 404, 302)
ONLY_SEC_A_API = statuses(404, 200, 404, 404, 404, 403)
NOBODY = statuses(404, 404, 404, 404, 404, 302)

BULLETIN_FORM = {"ledger": "bulletin", "period": "2026-10"}

# (method, url name, target, data, {role: status}); target names a job or a month.
MATRIX: list[tuple[str, str, str | None, dict | None, dict[str, int]]] = [
    # --- portal: downloads and jobs
    ("get", "portal:downloads", None, None, PORTAL),
    ("get", "portal:downloads", None, {"ledger": "bulletin"}, PORTAL),
    ("post", "portal:downloads", None, BULLETIN_FORM, PORTAL),  # small: the file at once
    ("get", "portal:export", "job_done", None, ONLY_SEC_A),
    ("get", "portal:export_status", "job_done", None, ONLY_SEC_A),
    ("get", "portal:export_download", "job_done", None, ONLY_SEC_A),
    ("get", "portal:export", "job_failed", None, statuses(404, 404, 404, 200, 404, 302)),
    ("get", "portal:export_status", "job_failed", None, statuses(404, 404, 404, 200, 404, 302)),
    ("get", "portal:export_download", "job_failed", None, NOBODY),
    ("get", "portal:export_download", "job_running", None, NOBODY),
    ("post", "portal:export_retry", "job_failed", None, statuses(404, 404, 404, 302, 404, 302)),
    ("get", "portal:export_retry", "job_failed", None, statuses(405, 405, 405, 405, 405, 302)),
    ("post", "portal:export_retry", "job_done", None, ONLY_SEC_A.copy() | {"secretary_a": 302}),
    ("get", "portal:export", "job_missing", None, NOBODY),
    # --- portal: bulletins
    ("get", "portal:bulletins", None, None, PORTAL),
    ("get", "portal:bulletin", "2026-10", None, PORTAL),
    ("get", "portal:bulletin", "2026-11", None, NOBODY),
    # --- API: ledgers
    ("get", "ledger-list", None, None, API),
    ("get", "ledger-detail", "bulletin", None, API),
    ("get", "ledger-detail", "nope", None, API_NOT_FOUND),
    # --- API: export jobs
    ("get", "ledger-export-list", None, None, API),
    ("post", "ledger-export-list", None, BULLETIN_FORM, API_CREATED),
    ("get", "ledger-export-detail", "job_done", None, ONLY_SEC_A_API),
    ("get", "ledger-export-download", "job_done", None, ONLY_SEC_A_API),
    ("get", "ledger-export-detail", "job_failed", None, statuses(404, 404, 404, 200, 404, 403)),
    ("get", "ledger-export-download", "job_failed", None, API_NOT_FOUND),
    ("get", "ledger-export-download", "job_running", None, API_NOT_FOUND),
    ("post", "ledger-export-retry", "job_failed", None, statuses(404, 404, 404, 202, 404, 403)),
    ("post", "ledger-export-retry", "job_done", None, statuses(404, 400, 404, 404, 404, 403)),
    ("get", "ledger-export-retry", "job_failed", None, API_NO_METHOD),
    ("delete", "ledger-export-detail", "job_done", None, API_NO_METHOD),
    ("put", "ledger-export-detail", "job_done", BULLETIN_FORM, API_NO_METHOD),
    ("get", "ledger-export-detail", "job_missing", None, API_NOT_FOUND),
    # --- API: bulletins
    ("get", "bulletin-list", None, None, API),
    ("get", "bulletin-detail", "2026-10", None, API),
    ("get", "bulletin-detail", "2026-11", None, API_NOT_FOUND),
    ("post", "bulletin-list", None, {"month": "2026-12"}, API_NO_METHOD),
]
TABLE = [
    (method, name, target, data, role, expected[role])
    for method, name, target, data, expected in MATRIX
    for role in ROLES
]


@pytest.fixture(scope="module")
def module_objects(module_cast, django_db_blocker):
    """October's record and bulletin, and the three jobs: built once, in the module's transaction
    (the file of `job_done` in its temporary MEDIA_ROOT)."""
    tree, users = module_cast.tree, module_cast.users
    with django_db_blocker.unblock():
        add_record(tree.branch_a, module_cast.activity_types["theme_day"], D(2026, 10, 10))
        build_bulletin(Period.month(2026, 10), today=D(2026, 11, 27))
        done = LedgerExport.objects.create(
            owner=users["secretary_a"],
            ledger="bulletin",
            params={"period": "2026-10"},
            status="done",
            rows_total=1,
            rows_written=1,
        )
        done.file.save("bulletin-2026-10.xlsx", ContentFile(b"PK fake xlsx"))
        failed = LedgerExport.objects.create(
            owner=users["inspector_a"], ledger="bulletin", status="failed", error="disk full"
        )
        running = LedgerExport.objects.create(
            owner=users["staff"], ledger="bulletin", status="running"
        )
    return {"job_done": done.pk, "job_failed": failed.pk, "job_running": running.pk}


@pytest.fixture
def objects(module_objects, db):
    return dict(module_objects)


def _url(objects, name, target) -> str:
    if target is None:
        return reverse(name)
    if target == "job_missing":
        return reverse(name, args=[987654])
    return reverse(name, args=[objects.get(target, target)])


def test_the_table_covers_every_role_of_every_row():
    assert len(TABLE) == len(MATRIX) * len(ROLES)
    assert all(set(expected) == set(ROLES) for *_, expected in MATRIX)


@pytest.mark.parametrize(
    ("method", "name", "target", "data", "role", "expected"),
    TABLE,
    ids=[f"{m.upper()} {n}[{t or ''}] as {r} -> {e}" for m, n, t, _d, r, e in TABLE],
)
def test_permission(objects, client_for, method, name, target, data, role, expected):
    client = client_for(role)
    url = _url(objects, name, target)
    if name.startswith("portal:"):
        response = getattr(client, method)(url, data or {})
    else:
        response = getattr(client, method)(url, data or {}, content_type="application/json")
    assert response.status_code == expected, (method, url, role)
    if role == "anonymous" and expected == 302:
        assert response["Location"].startswith(reverse("portal:login") + "?next=")


@pytest.mark.parametrize("role", ["staff", "secretary_a", "secretary_b", "inspector_city"])
def test_a_retry_refused_to_another_user_leaves_the_job_alone(objects, client_for, role):
    client = client_for(role)
    client.post(reverse("portal:export_retry", args=[objects["job_failed"]]))
    client.post(reverse("ledger-export-retry", args=[objects["job_failed"]]))
    job = LedgerExport.objects.get(pk=objects["job_failed"])
    assert (job.status, job.error) == ("failed", "disk full")


# What each role sees of the bulletin of October (only branch_a held its theme day): unit lines
# and organization lines, on the page and in the API alike.
BULLETIN_SEEN = {
    "staff": ({"市统计局", "市水务局"}, {"A-1", "A-2", "B-1"}),
    "inspector_city": ({"市统计局", "市水务局"}, {"A-1", "A-2", "B-1"}),
    "inspector_a": ({"市统计局"}, {"A-1", "A-2"}),
    "secretary_a": (set(), {"A-1"}),
    "secretary_b": (set(), {"B-1"}),
}


@pytest.mark.parametrize("role", list(BULLETIN_SEEN))
def test_bulletin_page_and_api_hold_exactly_the_scope(objects, client_for, role):
    units, organizations = BULLETIN_SEEN[role]
    client = client_for(role)
    data = client.get(reverse("bulletin-detail", args=["2026-10"])).json()
    assert {u["unit_name"] for u in data["unit_rows"]} == units
    assert {r["organization_code"] for r in data["rows"]} == organizations

    context = client.get(reverse("portal:bulletin", args=["2026-10"])).context
    assert {u.unit_name for u in context["unit_rows"]} == units
    on_page = {r.organization_code for r in [*context["missed"], *context["own_rows"]]}
    assert on_page == organizations  # every line of the scope missed something in October


@pytest.mark.parametrize("role", list(BULLETIN_SEEN))
def test_the_bulletin_download_holds_exactly_the_scope(objects, client_for, role):
    response = client_for(role).post(reverse("portal:downloads"), BULLETIN_FORM)
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    codes = {row[2] for row in sheet.iter_rows(min_row=5, values_only=True) if row[2]}
    assert codes == BULLETIN_SEEN[role][1]
