"""Who may open what in the pairings portal: every page and form, for every role.

One row per (method, URL, target, data) with the status each role must get, in the format of
tests/reports/test_reports_permissions.py (`MATRIX`, read by tests/test_access.py). Outsiders
get 404, never 403, so a page does not confirm that a pairing exists; inspectors read their
units' pairings and get 403 on every form, shown or sent; anonymous visitors are sent to the
login page.

The pairings, one per organization: `branch_a` (secretary_a's), `branch_a2` (unit_a, not in
secretary_a's scope) and `branch_b` (secretary_b's, unit_b); each with a need and a help record
that has a photo. Built once for the module (`module_cast`, tests/conftest.py); every row runs
in its own savepoint, rolled back after it, so what a row writes never reaches the next.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from pairings.defaults import seed_schemes
from pairings.models import (
    HelpKind,
    HelpPhoto,
    HelpRecord,
    Need,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
    Scheme,
)

pytestmark = pytest.mark.usefixtures("module_cast")

ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city", "anonymous")
D = datetime.date
MISSING_PK = 987654
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


# Who sees the pairing of each organization (and its needs, help records and photos):
#                staff sec_a sec_b insp_a city
SEEN_BY = {
    "branch_a": (200, 200, 404, 200, 200),
    "branch_a2": (200, 404, 404, 200, 200),
    "branch_b": (200, 404, 200, 404, 200),
    "missing": (404, 404, 404, 404, 404),
}
OWNERS = list(SEEN_BY)


def reads(owner: str) -> dict[str, int]:
    return statuses(*SEEN_BY[owner], anonymous=302)


def writes(owner: str, ok: int = 200) -> dict[str, int]:
    """Reports: `ok` where the role may read, except inspectors (403); 404 elsewhere."""
    staff, sec_a, sec_b, insp_a, city = SEEN_BY[owner]
    return statuses(
        ok if staff == 200 else 404,
        ok if sec_a == 200 else 404,
        ok if sec_b == 200 else 404,
        403 if insp_a == 200 else 404,
        403 if city == 200 else 404,
        anonymous=302,
    )


PORTAL = statuses(200, 200, 200, 200, 200, 302)
NO_METHOD = statuses(405, 405, 405, 405, 405, 302)
TODAY = timezone.localdate().isoformat()

# Data that each form takes (a redirect to the pairing's page); empty data: the form again.
VISIT = {"kind": HelpKind.VISIT, "date": TODAY, "description": "走访困难户"}
NEED = {"description": "缺少图书", "found_on": TODAY}
MET = {"met_on": TODAY}
MEASURE = {"description": "捐建农家书屋"}
PROJECT = {
    "name": "农家书屋",
    "started_on": "2026-01-01",
    "due_on": "2026-12-31",
    "status": "planned",
}

# (method, url name, target, data, {role: status}); target is "kind:owner" ("pairing:branch_a",
# "need:branch_b", "help:branch_a2", "photo:missing") or None.
MATRIX: list[tuple[str, str, str | None, dict | None, dict[str, int]]] = [
    # --- reads
    ("get", "portal:pairings", None, None, PORTAL),
    ("get", "portal:pairings", None, {"scheme": "x", "status": "nope", "page": "-1"}, PORTAL),
    ("get", "portal:pairing_progress", None, None, PORTAL),
    ("get", "portal:pairing_progress", None, {"year": "abc"}, PORTAL),
    *[("get", "portal:pairing", f"pairing:{o}", None, reads(o)) for o in OWNERS],
    *[("get", "portal:help_record", f"help:{o}", None, reads(o)) for o in OWNERS],
    *[("get", "portal:help_photo", f"photo:{o}", None, reads(o)) for o in OWNERS],
    # --- reads only
    ("post", "portal:pairings", None, None, NO_METHOD),
    ("post", "portal:pairing_progress", None, None, NO_METHOD),
    ("post", "portal:pairing", "pairing:branch_a", None, NO_METHOD),
    ("post", "portal:help_record", "help:branch_a", None, NO_METHOD),
    ("post", "portal:help_photo", "photo:branch_a", None, NO_METHOD),
    # --- help records: the form, an empty POST (the form again), a visit filed
    *[("get", "portal:help_new", f"pairing:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:help_new", f"pairing:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:help_new", f"pairing:{o}", VISIT, writes(o, ok=302)) for o in OWNERS],
    ("put", "portal:help_new", "pairing:branch_a", None, NO_METHOD),
    # --- needs, measures, projects, member pairs
    *[("get", "portal:need_new", f"pairing:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:need_new", f"pairing:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:need_new", f"pairing:{o}", NEED, writes(o, ok=302)) for o in OWNERS],
    *[("get", "portal:need_close", f"need:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:need_close", f"need:{o}", MET, writes(o, ok=302)) for o in OWNERS],
    *[("get", "portal:measure_new", f"need:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:measure_new", f"need:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:measure_new", f"need:{o}", MEASURE, writes(o, ok=302)) for o in OWNERS],
    *[("get", "portal:project_new", f"pairing:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:project_new", f"pairing:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:project_new", f"pairing:{o}", PROJECT, writes(o, ok=302)) for o in OWNERS],
    *[("get", "portal:member_pair_new", f"pairing:{o}", None, writes(o)) for o in OWNERS],
    *[("post", "portal:member_pair_new", f"pairing:{o}", None, writes(o)) for o in OWNERS],
]
TABLE = [
    (method, name, target, data, role, expected[role])
    for method, name, target, data, expected in MATRIX
    for role in ROLES
]


@pytest.fixture(scope="module")
def module_objects(module_cast, django_db_blocker):
    """A pairing per organization, each with a need and a help record with a photo: built once,
    in the module's transaction (the photos in its temporary MEDIA_ROOT)."""
    tree = module_cast.tree
    with django_db_blocker.unblock():
        seed_schemes(Scheme)
        scheme = Scheme.objects.get(code="village_support")
        found = {}
        for owner in ("branch_a", "branch_a2", "branch_b"):
            partner = PartnerOrganization.objects.create(
                name=f"{owner}村", kind=PartnerKind.VILLAGE, town="城关镇"
            )
            pairing = Pairing.objects.create(
                scheme=scheme,
                organization=getattr(tree, owner),
                partner=partner,
                started_on=D(2025, 1, 1),
                status=PairingStatus.DOCKED,
                docked_on=D(2025, 1, 1),
            )
            need = Need.objects.create(
                pairing=pairing, description="缺少图书", found_on=D(2025, 2, 1)
            )
            record = HelpRecord.objects.create(
                pairing=pairing, kind=HelpKind.VISIT, date=D(2025, 3, 1), description="走访"
            )
            photo = HelpPhoto.objects.create(
                help_record=record,
                file=ContentFile(PNG, name="photo.png"),
                original_name="现场.png",
                content_type="image/png",
                size=len(PNG),
            )
            found.update(
                {
                    f"pairing:{owner}": pairing.pk,
                    f"need:{owner}": need.pk,
                    f"help:{owner}": record.pk,
                    f"photo:{owner}": photo.pk,
                }
            )
    return found


@pytest.fixture
def objects(module_objects, db):
    return dict(module_objects)


def _url(objects, name, target) -> str:
    if target is None:
        return reverse(name)
    return reverse(name, args=[objects.get(target, MISSING_PK)])


def test_the_table_covers_every_role_of_every_row():
    assert len(TABLE) == len(MATRIX) * len(ROLES)
    assert all(set(expected) == set(ROLES) for *_, expected in MATRIX)


def test_the_table_covers_every_route_of_the_app():
    from pairings.urls import urlpatterns

    assert {f"portal:{p.name}" for p in urlpatterns} == {row[1] for row in MATRIX}


@pytest.mark.parametrize(
    ("method", "name", "target", "data", "role", "expected"),
    TABLE,
    ids=[
        f"{m.upper()} {n}[{t or ''}]{'+data' if d else ''} as {r} -> {e}"
        for m, n, t, d, r, e in TABLE
    ],
)
def test_permission(objects, client_for, method, name, target, data, role, expected):
    client = client_for(role)
    address = _url(objects, name, target)
    response = getattr(client, method)(address, data or {})
    assert response.status_code == expected, (method, address, role)
    if role == "anonymous" and expected == 302:
        assert response["Location"].startswith(reverse("portal:login") + "?next=")
    elif expected == 302:  # a form taken: back to the pairing's page
        assert response["Location"].startswith("/portal/pairings/")


@pytest.mark.parametrize("role", ["inspector_a", "inspector_city", "secretary_b"])
def test_refused_writes_leave_the_pairing_alone(objects, client_for, role):
    client = client_for(role)
    pairing, need = objects["pairing:branch_a"], objects["need:branch_a"]
    before = (HelpRecord.objects.count(), Need.objects.count())
    client.post(reverse("portal:help_new", args=[pairing]), VISIT)
    client.post(reverse("portal:need_new", args=[pairing]), NEED)
    client.post(reverse("portal:need_close", args=[need]), MET)
    client.post(reverse("portal:measure_new", args=[need]), MEASURE)
    client.post(reverse("portal:project_new", args=[pairing]), PROJECT)
    assert (HelpRecord.objects.count(), Need.objects.count()) == before
    assert Need.objects.get(pk=need).met_on is None
    assert not Need.objects.get(pk=need).measures.exists()
    assert not Pairing.objects.get(pk=pairing).projects.exists()
