"""Who may open what in the pairings API: every route, for every role.

One row per (method, URL name, target, data) with the status each role must get (the format of
tests/reports/test_reports_permissions.py). Reads follow the scope: a pairing of branch_a is
seen by staff, secretary_a, inspector_a and the city-wide inspector, one of branch_b by staff,
secretary_b and the city-wide inspector; anything else is a 404, never a 403. Writes: pairings
are made and docked by staff only (a 403 to everybody else, before any lookup); what is
recorded on a pairing by staff and the secretaries of its organization (another branch's
pairing or need is a 404 in the path, "does not exist" (400) in a body); inspectors never
write (403). Anonymous visitors get a 403 from the API.

The cast and the pairings are built once for the module (`module_cast`); every row runs in its
own savepoint, rolled back after it, so what a row writes never reaches the next.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver, reverse

from pairings.defaults import seed_schemes
from pairings.models import HelpKind, PairingStatus, PartnerKind, PartnerOrganization, Scheme
from pairings.services import (
    HelpInput,
    PairingInput,
    ProjectInput,
    add_measure,
    add_member_pair,
    add_need,
    add_project,
    create_pairing,
    file_help_record,
)
from tests import access_coverage

pytestmark = pytest.mark.usefixtures("module_cast")

ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city", "anonymous")
D = datetime.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def statuses(staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous):
    """Expected status per role, positionally in the order of ROLES, so no role is forgotten."""
    return dict(
        zip(
            ROLES,
            (staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous),
            strict=True,
        )
    )


API = statuses(200, 200, 200, 200, 200, 403)
API_BAD = statuses(400, 400, 400, 400, 400, 403)
API_NOT_FOUND = statuses(404, 404, 404, 404, 404, 403)
API_NO_METHOD = statuses(405, 405, 405, 405, 405, 403)
#                          staff sec_a sec_b insp_a city anonymous
SEEN_A = statuses(200, 200, 404, 200, 200, 403)  # an object of branch_a
SEEN_B = statuses(200, 404, 200, 404, 200, 403)  # an object of branch_b


def staff_only(ok: int) -> dict[str, int]:
    """pairing.manage: staff; everybody else is refused before any lookup."""
    return statuses(ok, 403, 403, 403, 403, 403)


def report_on_a(ok: int, other: int = 404) -> dict[str, int]:
    """pairing.report on branch_a's: staff and secretary_a; secretary_b gets `other` (404 in a
    path, 400 "does not exist" in a body); inspectors and anonymous 403 before any lookup."""
    return statuses(ok, ok, other, 403, 403, 403)


def report_on_b(ok: int, other: int = 404) -> dict[str, int]:
    return statuses(ok, other, ok, 403, 403, 403)


# A write method a route does not take: 405 for whoever holds its write capability somewhere.
REPORT_NO_METHOD = statuses(405, 405, 405, 403, 403, 403)
MANAGE_NO_METHOD = staff_only(405)

# Bodies: "@target" is replaced by the id of that object of the module.
NEW_PAIRING = {
    "scheme": "village_support",
    "organization": "@organization:a2",
    "partner": "@partner:a",
    "started_on": "2025-01-01",
}
VISIT_A = {"pairing": "@pairing:a", "kind": "visit", "date": "2025-06-01", "description": "走访"}
VISIT_B = {**VISIT_A, "pairing": "@pairing:b"}
NEED_A = {"pairing": "@pairing:a", "description": "村道亮化", "found_on": "2025-02-01"}
NEED_B = {**NEED_A, "pairing": "@pairing:b"}
MEASURE_A = {"need": "@need:a", "description": "安装路灯", "due_on": "2025-06-30"}
MEASURE_B = {**MEASURE_A, "need": "@need:b"}
PROJECT_A = {
    "pairing": "@pairing:a",
    "name": "村史馆",
    "budget": "100.00",
    "started_on": "2025-02-01",
    "due_on": "2025-06-30",
}
PROJECT_B = {**PROJECT_A, "pairing": "@pairing:b"}
MEMBER_PAIR_A = {
    "pairing": "@pairing:a",
    "member": "@member:a2",
    "counterpart_kind": "village_member",
    "counterpart_name": "赵六",
    "started_on": "2025-02-01",
}
MEMBER_PAIR_B = {**MEMBER_PAIR_A, "pairing": "@pairing:b", "member": "@member:b2"}

# (method, url name, target, data, {role: status}); target names an object of the module.
MATRIX: list[tuple[str, str, str | None, dict | None, dict[str, int]]] = [
    # --- schemes: shared data, read by everybody who may log in
    ("get", "pairing-scheme-list", None, None, API),
    ("get", "pairing-scheme-detail", "scheme:one_plus_one", None, API),
    ("get", "pairing-scheme-detail", "missing", None, API_NOT_FOUND),
    ("post", "pairing-scheme-list", None, {"code": "x"}, API_NO_METHOD),
    ("delete", "pairing-scheme-detail", "scheme:one_plus_one", None, API_NO_METHOD),
    # --- partners: those paired in the scope (all for staff and the city)
    ("get", "pairing-partner-list", None, None, API),
    ("get", "pairing-partner-detail", "partner:a", None, SEEN_A),
    ("get", "pairing-partner-detail", "partner:b", None, SEEN_B),
    (
        "get",
        "pairing-partner-detail",
        "partner:unpaired",
        None,
        statuses(200, 404, 404, 404, 200, 403),
    ),
    ("get", "pairing-partner-detail", "missing", None, API_NOT_FOUND),
    ("post", "pairing-partner-list", None, {"name": "x"}, API_NO_METHOD),
    # --- pairings: read in scope; made and docked by staff
    ("get", "pairing-list", None, None, API),
    ("get", "pairing-list", None, {"scheme": "one_plus_one", "status": "docked"}, API),
    ("get", "pairing-list", None, {"unit": "abc"}, API_BAD),
    ("get", "pairing-detail", "pairing:a", None, SEEN_A),
    ("get", "pairing-detail", "pairing:b", None, SEEN_B),
    ("get", "pairing-detail", "missing", None, API_NOT_FOUND),
    ("post", "pairing-list", None, NEW_PAIRING, staff_only(201)),
    ("post", "pairing-list", None, {}, staff_only(400)),
    ("put", "pairing-detail", "pairing:a", NEW_PAIRING, MANAGE_NO_METHOD),
    ("delete", "pairing-detail", "pairing:a", None, MANAGE_NO_METHOD),
    ("post", "pairing-status", "pairing:a", {"status": "ended"}, staff_only(200)),
    (
        "post",
        "pairing-status",
        "pairing:b",
        {"status": "docked", "date": "2025-03-01"},
        staff_only(200),
    ),
    ("post", "pairing-status", "pairing:b", {"status": "lost"}, staff_only(400)),
    ("post", "pairing-status", "missing", {"status": "ended"}, staff_only(404)),
    ("get", "pairing-status", "pairing:a", None, API_NO_METHOD),
    # --- help records and their photos
    ("get", "help-record-list", None, None, API),
    ("get", "help-record-list", None, {"period": "2025", "kind": "visit"}, API),
    ("get", "help-record-list", None, {"period": "2025-13"}, API_BAD),
    ("get", "help-record-detail", "help:a", None, SEEN_A),
    ("get", "help-record-detail", "help:b", None, SEEN_B),
    ("get", "help-record-detail", "missing", None, API_NOT_FOUND),
    ("post", "help-record-list", None, VISIT_A, report_on_a(201, other=400)),
    ("post", "help-record-list", None, VISIT_B, report_on_b(201, other=400)),
    ("post", "help-record-list", None, {}, statuses(400, 400, 400, 403, 403, 403)),
    ("delete", "help-record-detail", "help:a", None, report_on_a(204)),
    ("delete", "help-record-detail", "help:b", None, report_on_b(204)),
    ("delete", "help-record-detail", "missing", None, statuses(404, 404, 404, 403, 403, 403)),
    ("patch", "help-record-detail", "help:a", {"description": "x"}, REPORT_NO_METHOD),
    ("put", "help-record-detail", "help:a", VISIT_A, REPORT_NO_METHOD),
    ("get", "help-record-photo", "photo:a", None, SEEN_A),
    ("get", "help-record-photo", "photo:b", None, SEEN_B),
    ("get", "help-record-photo", "photo:a_under_b", None, API_NOT_FOUND),
    ("get", "help-record-photo", "photo:missing", None, API_NOT_FOUND),
    ("post", "help-record-photo", "photo:a", None, REPORT_NO_METHOD),
    # --- needs and their closing
    ("get", "pairing-need-list", None, None, API),
    ("get", "pairing-need-list", None, {"open": "true"}, API),
    ("get", "pairing-need-list", None, {"open": ""}, API_BAD),
    ("get", "pairing-need-detail", "need:a", None, SEEN_A),
    ("get", "pairing-need-detail", "need:b", None, SEEN_B),
    ("get", "pairing-need-detail", "missing", None, API_NOT_FOUND),
    ("post", "pairing-need-list", None, NEED_A, report_on_a(201, other=400)),
    ("post", "pairing-need-list", None, NEED_B, report_on_b(201, other=400)),
    ("post", "pairing-need-close", "need:a", {}, report_on_a(200)),
    ("post", "pairing-need-close", "need:b", {"met_on": "2025-03-01"}, report_on_b(200)),
    ("post", "pairing-need-close", "missing", {}, statuses(404, 404, 404, 403, 403, 403)),
    ("get", "pairing-need-close", "need:a", None, API_NO_METHOD),
    ("delete", "pairing-need-detail", "need:a", None, REPORT_NO_METHOD),
    # --- measures
    ("get", "pairing-measure-list", None, None, API),
    ("get", "pairing-measure-detail", "measure:a", None, SEEN_A),
    ("get", "pairing-measure-detail", "measure:b", None, SEEN_B),
    ("get", "pairing-measure-detail", "missing", None, API_NOT_FOUND),
    ("post", "pairing-measure-list", None, MEASURE_A, report_on_a(201, other=400)),
    ("post", "pairing-measure-list", None, MEASURE_B, report_on_b(201, other=400)),
    ("patch", "pairing-measure-detail", "measure:a", {"description": "x"}, REPORT_NO_METHOD),
    # --- co-building projects
    ("get", "pairing-project-list", None, None, API),
    ("get", "pairing-project-detail", "project:a", None, SEEN_A),
    ("get", "pairing-project-detail", "project:b", None, SEEN_B),
    ("get", "pairing-project-detail", "missing", None, API_NOT_FOUND),
    ("post", "pairing-project-list", None, PROJECT_A, report_on_a(201, other=400)),
    ("post", "pairing-project-list", None, PROJECT_B, report_on_b(201, other=400)),
    ("delete", "pairing-project-detail", "project:a", None, REPORT_NO_METHOD),
    # --- member pairs
    ("get", "member-pair-list", None, None, API),
    ("get", "member-pair-detail", "member_pair:a", None, SEEN_A),
    ("get", "member-pair-detail", "member_pair:b", None, SEEN_B),
    ("get", "member-pair-detail", "missing", None, API_NOT_FOUND),
    ("post", "member-pair-list", None, MEMBER_PAIR_A, report_on_a(201, other=400)),
    ("post", "member-pair-list", None, MEMBER_PAIR_B, report_on_b(201, other=400)),
    ("delete", "member-pair-detail", "member_pair:a", None, REPORT_NO_METHOD),
    # --- progress: over each user's own scope
    ("get", "pairing-progress-list", None, None, API),
    ("get", "pairing-progress-list", None, {"year": "2025"}, API),
    (
        "get",
        "pairing-progress-list",
        None,
        {"date_from": "2025-01-01", "date_to": "2025-12-31"},
        API,
    ),
    ("get", "pairing-progress-list", None, {"year": "1800"}, API_BAD),
    ("post", "pairing-progress-list", None, {}, API_NO_METHOD),
]
TABLE = [
    (method, name, target, data, role, expected[role])
    for method, name, target, data, expected in MATRIX
    for role in ROLES
]

# The routes of this app (tests/test_access.py wants a row for every named route).
BASENAMES = (
    "pairing-scheme",
    "pairing-partner",
    "pairing",
    "help-record",
    "pairing-need",
    "pairing-measure",
    "pairing-project",
    "member-pair",
    "pairing-progress",
)


@pytest.fixture(scope="module")
def module_objects(module_cast, django_db_blocker):
    """Two "1+1" pairings (branch_a with 东村, branch_b with 西村), each with a visit and its
    photo, a need and its measure, a project and a member pair; and a partner nobody is paired
    with. Built once, in the module's transaction (photos in its temporary MEDIA_ROOT)."""
    tree, users = module_cast.tree, module_cast.users
    staff = users["staff"]
    found: dict[str, int] = {}
    with django_db_blocker.unblock():
        seed_schemes(Scheme)
        scheme = Scheme.objects.get(code="one_plus_one")
        found["scheme:one_plus_one"] = scheme.pk
        for side, branch, name, town, member in [
            ("a", tree.branch_a, "东村党支部", "城关镇", tree.members["a1"]),
            ("b", tree.branch_b, "西村党支部", "河口镇", tree.members["b1"]),
        ]:
            partner = PartnerOrganization.objects.create(
                name=name, kind=PartnerKind.VILLAGE, town=town
            )
            pairing = create_pairing(
                staff,
                PairingInput(
                    scheme,
                    branch,
                    partner,
                    D(2025, 1, 1),
                    status=PairingStatus.DOCKED if side == "a" else PairingStatus.PLANNED,
                    docked_on=D(2025, 2, 1) if side == "a" else None,
                ),
            )
            record = file_help_record(
                staff,
                HelpInput(
                    pairing,
                    HelpKind.VISIT,
                    D(2025, 3, 1),
                    "走访",
                    participant_ids={member.pk},
                    photos=[SimpleUploadedFile("现场.png", PNG, content_type="image/png")],
                ),
            )
            need = add_need(staff, pairing, "活动场所老旧", D(2025, 2, 1))
            measure = add_measure(staff, need, "修缮党群服务中心")
            project = add_project(
                staff,
                ProjectInput(pairing, "书屋", Decimal("100.00"), D(2025, 2, 1), D(2025, 9, 1)),
            )
            member_pair = add_member_pair(
                staff, pairing, member, "key_household", "王大爷", D(2025, 2, 1)
            )
            found.update(
                {
                    f"partner:{side}": partner.pk,
                    f"pairing:{side}": pairing.pk,
                    f"help:{side}": record.pk,
                    f"photo:{side}": record.photos.get().pk,
                    f"need:{side}": need.pk,
                    f"measure:{side}": measure.pk,
                    f"project:{side}": project.pk,
                    f"member_pair:{side}": member_pair.pk,
                }
            )
        found["partner:unpaired"] = PartnerOrganization.objects.create(
            name="南街社区党委", kind=PartnerKind.COMMUNITY, town="城关镇"
        ).pk
        found["organization:a2"] = tree.branch_a2.pk
        found["member:a2"] = tree.members["a2"].pk
        found["member:b2"] = tree.members["b2"].pk
    return found


@pytest.fixture
def objects(module_objects, db):
    return dict(module_objects)


def _url(objects, name, target) -> str:
    if target is None:
        return reverse(name)
    if target == "missing":
        return reverse(name, args=[987654])
    if target.startswith("photo:"):
        records = {
            "photo:a": ("help:a", objects["photo:a"]),
            "photo:b": ("help:b", objects["photo:b"]),
            "photo:a_under_b": ("help:b", objects["photo:a"]),  # another record's photo
            "photo:missing": ("help:a", 987654),
        }
        record, photo = records[target]
        return reverse(name, args=[objects[record], photo])
    return reverse(name, args=[objects[target]])


def _body(objects, data: dict | None) -> dict:
    return {
        key: objects[value[1:]] if isinstance(value, str) and value.startswith("@") else value
        for key, value in (data or {}).items()
    }


def test_the_table_covers_every_role_of_every_row():
    assert len(TABLE) == len(MATRIX) * len(ROLES)
    assert all(set(expected) == set(ROLES) for *_, expected in MATRIX)


def test_the_table_has_rows_for_every_route_of_the_app():
    names = {
        route.name
        for route in access_coverage.walk(get_resolver().url_patterns)
        if route.name.startswith(tuple(f"{b}-" for b in BASENAMES))
    }
    assert names == {row[1] for row in MATRIX}


@pytest.mark.parametrize(
    ("method", "name", "target", "data", "role", "expected"),
    TABLE,
    ids=[f"{m.upper()} {n}[{t or ''}] as {r} -> {e}" for m, n, t, _d, r, e in TABLE],
)
def test_permission(objects, client_for, method, name, target, data, role, expected):
    client = client_for(role)
    url = _url(objects, name, target)
    response = getattr(client, method)(url, _body(objects, data), content_type="application/json")
    assert response.status_code == expected, (method, url, role, response.content[:300])
