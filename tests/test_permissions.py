"""Who may open what: every portal page and API endpoint of the organ tree and of organizational
life (activity records, attachments, types, compliance), for every role, reads and writes.

The table is the cheapest proof of scoping (after pretix's src/tests/api/test_permissions.py):
one row per (method, URL, role) with the status the role must get. Outsiders get 404, never 403,
so a page does not confirm that an object exists; anonymous visitors are sent to the login page
(portal) or refused with 403 (API: session authentication comes first, and it sends no
WWW-Authenticate challenge, so DRF answers 403 rather than 401).

The standing cast (tests/conftest.py):
unit_a: committee_a > branch_a (> group_a), branch_a2     unit_b: committee_b > general_b > branch_b
secretary_a runs branch_a, secretary_b runs branch_b, inspector_a inspects unit_a.
Activity records (fixture `records`): one each for branch_a, group_a, branch_a2 and branch_b,
the first and the last with an attachment.

The cast and the records are built once for the module (`module_cast`, tests/conftest.py);
every row runs in its own savepoint, rolled back after it, so what a row writes (a deleted
record, a logout) never reaches the next.

Writes: a secretary may write wherever they may read; inspectors read and never write (portal:
403 where they may read, 404 elsewhere; API: 403 on every write, checked before the lookup).
"""

from __future__ import annotations

import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from branches.models import ActivityType, Attachment
from tests.conftest import add_record

pytestmark = pytest.mark.usefixtures("module_cast")

ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city", "anonymous")
MISSING_PK = 987654


def statuses(staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous):
    """Expected status per role, positionally in the order of ROLES, so no role is forgotten."""
    return dict(
        zip(
            ROLES,
            (staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous),
            strict=True,
        )
    )


# Visibility of each object of the tree, for the roles that are logged in:
#                       staff sec_a sec_b insp_a city
SEEN_BY = {
    "committee_a": (200, 404, 404, 200, 200),
    "branch_a": (200, 200, 404, 200, 200),
    "group_a": (200, 200, 404, 200, 200),
    "branch_a2": (200, 404, 404, 200, 200),
    "committee_b": (200, 404, 404, 404, 200),
    "general_b": (200, 404, 404, 404, 200),
    "branch_b": (200, 404, 200, 404, 200),
    "missing": (404, 404, 404, 404, 404),
    "unit_a": (200, 200, 404, 200, 200),
    "unit_b": (200, 404, 200, 404, 200),
    "member:a1": (200, 200, 404, 200, 200),  # branch_a and group_a
    "member:a3": (200, 200, 404, 200, 200),  # branch_a, no group
    "member:a2_1": (200, 404, 404, 200, 200),  # branch_a2
    "member:b1": (200, 404, 200, 404, 200),  # branch_b
    "member:missing": (404, 404, 404, 404, 404),
    # Activity records and attachments: seen with their organization.
    "record:branch_a": (200, 200, 404, 200, 200),
    "record:group_a": (200, 200, 404, 200, 200),
    "record:branch_a2": (200, 404, 404, 200, 200),
    "record:branch_b": (200, 404, 200, 404, 200),
    "record:missing": (404, 404, 404, 404, 404),
    "attachment:branch_a": (200, 200, 404, 200, 200),
    "attachment:branch_b": (200, 404, 200, 404, 200),
    "attachment:missing": (404, 404, 404, 404, 404),
}
ORGANIZATIONS = [
    "committee_a",
    "branch_a",
    "group_a",
    "branch_a2",
    "committee_b",
    "general_b",
    "branch_b",
    "missing",
]
MEMBERS = ["member:a1", "member:a3", "member:a2_1", "member:b1", "member:missing"]
UNITS = ["unit_a", "unit_b"]
RECORDS = [
    "record:branch_a",
    "record:group_a",
    "record:branch_a2",
    "record:branch_b",
    "record:missing",
]
ATTACHMENTS = ["attachment:branch_a", "attachment:branch_b", "attachment:missing"]


def portal_writes(target: str, ok: int = 200) -> dict[str, int]:
    """Portal writes: `ok` where the role may read, except inspectors (403); 404 elsewhere."""
    staff, sec_a, sec_b, insp_a, city = SEEN_BY[target]
    if staff == 404:
        return statuses(404, 404, 404, 404, 404, anonymous=302)
    return statuses(
        ok,
        ok if sec_a == 200 else 404,
        ok if sec_b == 200 else 404,
        403 if insp_a == 200 else 404,
        403 if city == 200 else 404,
        anonymous=302,
    )


def api_writes(target: str, ok: int) -> dict[str, int]:
    """API writes: inspectors and anonymous 403 before any lookup; the others as they read."""
    staff, sec_a, sec_b, *_ = SEEN_BY[target]
    return statuses(
        ok if staff == 200 else 404,
        ok if sec_a == 200 else 404,
        ok if sec_b == 200 else 404,
        403,
        403,
        403,
    )


EVERYONE = statuses(200, 200, 200, 200, 200, 200)
LOGGED_IN = statuses(200, 200, 200, 200, 200, 403)
API_READ_ONLY = statuses(405, 405, 405, 405, 405, 403)  # no write handler; anonymous fails auth

# (method, url name, target, {role: status}); target names an object of the tree, or None.
MATRIX: list[tuple[str, str, str | None, dict[str, int]]] = [
    # --- portal: login / logout
    ("get", "portal:login", None, statuses(302, 302, 302, 302, 302, 200)),
    ("get", "portal:logout", None, statuses(405, 405, 405, 405, 405, 405)),
    ("post", "portal:logout", None, statuses(302, 302, 302, 302, 302, 302)),
    # --- a user's own password (an empty POST: the form again, with its errors)
    ("get", "portal:password_change", None, statuses(200, 200, 200, 200, 200, 302)),
    ("post", "portal:password_change", None, statuses(200, 200, 200, 200, 200, 302)),
    # --- the language switch, for anybody (no language given: back where they were)
    ("post", "set_language", None, statuses(302, 302, 302, 302, 302, 302)),
    ("get", "set_language", None, statuses(302, 302, 302, 302, 302, 302)),
    # --- portal pages: staff go to the admin, a secretary to their own organization
    ("get", "portal:home", None, statuses(302, 302, 302, 200, 200, 302)),
    ("get", "portal:members", None, statuses(200, 200, 200, 200, 200, 302)),
    *[
        ("get", "portal:organization", org, statuses(*SEEN_BY[org], anonymous=302))
        for org in ORGANIZATIONS
    ],
    # --- portal: organizational life. Empty POSTs: the form comes back with errors (200).
    *[
        ("get", "portal:activity_list", org, statuses(*SEEN_BY[org], anonymous=302))
        for org in ORGANIZATIONS
    ],
    *[("get", "portal:activity_new", org, portal_writes(org)) for org in ORGANIZATIONS],
    *[
        ("post", "portal:activity_new", org, portal_writes(org))
        for org in ("branch_a", "group_a", "branch_a2", "branch_b", "missing")
    ],
    *[("get", "portal:activity_detail", r, statuses(*SEEN_BY[r], anonymous=302)) for r in RECORDS],
    *[
        (method, "portal:activity_edit", r, portal_writes(r))
        for method in ("get", "post")
        for r in RECORDS
    ],
    *[("get", "portal:activity_delete", r, portal_writes(r)) for r in RECORDS],
    *[("post", "portal:activity_delete", r, portal_writes(r, ok=302)) for r in RECORDS],
    *[("get", "portal:attachment", a, statuses(*SEEN_BY[a], anonymous=302)) for a in ATTACHMENTS],
    ("post", "portal:attachment", "attachment:branch_a", statuses(405, 405, 405, 405, 405, 302)),
    ("post", "portal:activity_list", "branch_a", statuses(405, 405, 405, 405, 405, 302)),
    ("post", "portal:activity_detail", "record:branch_a", statuses(405, 405, 405, 405, 405, 302)),
    # --- API: read
    ("get", "api-root", None, LOGGED_IN),
    ("get", "unit-list", None, LOGGED_IN),
    ("get", "organization-list", None, LOGGED_IN),
    ("get", "member-list", None, LOGGED_IN),
    *[("get", "unit-detail", u, statuses(*SEEN_BY[u], anonymous=403)) for u in UNITS],
    *[
        ("get", "organization-detail", org, statuses(*SEEN_BY[org], anonymous=403))
        for org in ORGANIZATIONS
    ],
    *[("get", "member-detail", m, statuses(*SEEN_BY[m], anonymous=403)) for m in MEMBERS],
    ("get", "activity-record-list", None, LOGGED_IN),
    ("get", "activity-type-list", None, LOGGED_IN),
    ("get", "activity-type-detail", "type:theme_day", LOGGED_IN),
    ("get", "activity-type-detail", "type:missing", statuses(404, 404, 404, 404, 404, 403)),
    ("get", "compliance-list", "query:period=2026-03", LOGGED_IN),
    ("get", "compliance-list", None, statuses(400, 400, 400, 400, 400, 403)),  # no period
    *[("get", "activity-record-detail", r, statuses(*SEEN_BY[r], anonymous=403)) for r in RECORDS],
    *[
        ("get", "activity-record-attachment", a, statuses(*SEEN_BY[a], anonymous=403))
        for a in ATTACHMENTS
    ],
    # --- API: activity records are written through the services; inspectors never write.
    ("post", "activity-record-list", None, statuses(400, 400, 400, 403, 403, 403)),  # empty
    *[("patch", "activity-record-detail", r, api_writes(r, ok=200)) for r in RECORDS],
    *[("put", "activity-record-detail", r, api_writes(r, ok=400)) for r in RECORDS],  # empty
    *[("delete", "activity-record-detail", r, api_writes(r, ok=204)) for r in RECORDS],
    (
        "post",
        "activity-record-attachment",
        "attachment:branch_a",
        statuses(405, 405, 405, 403, 403, 403),
    ),
    # --- API: every write is refused, in scope or not
    *[
        ("post", name, None, API_READ_ONLY)
        for name in ("unit-list", "organization-list", "member-list")
    ],
    *[
        (method, "organization-detail", org, API_READ_ONLY)
        for method in ("put", "patch", "delete")
        for org in ("branch_a", "branch_b")
    ],
    *[
        (method, "member-detail", m, API_READ_ONLY)
        for method in ("put", "patch", "delete")
        for m in ("member:a1", "member:b1")
    ],
    *[(method, "unit-detail", "unit_a", API_READ_ONLY) for method in ("put", "delete")],
    ("post", "activity-type-list", None, API_READ_ONLY),
    *[
        (method, "activity-type-detail", "type:theme_day", API_READ_ONLY)
        for method in ("put", "patch", "delete")
    ],
    ("post", "compliance-list", None, API_READ_ONLY),
    # --- API: schema, docs and token (public by design: the schema holds no data)
    ("get", "schema", None, EVERYONE),
    ("get", "api-docs", None, EVERYONE),
    ("get", "api-token", None, statuses(405, 405, 405, 405, 405, 405)),
    ("post", "api-token", None, statuses(400, 400, 400, 400, 400, 400)),  # no credentials
]

TABLE = [
    (method, name, target, role, expected)
    for method, name, target, expected in MATRIX
    for role, expected in expected.items()
]


@pytest.fixture(scope="module")
def module_records(module_cast, django_db_blocker):
    """One record per organization that holds meetings; attachments on branch_a's and branch_b's.

    Built once, in the module's transaction (files in its temporary MEDIA_ROOT).
    """
    tree, types = module_cast.tree, module_cast.activity_types
    day = timezone.localdate() - datetime.timedelta(days=1)
    with django_db_blocker.unblock():
        found = {
            "branch_a": add_record(tree.branch_a, types["theme_day"], day),
            "group_a": add_record(tree.group_a, types["group_meeting"], day),
            "branch_a2": add_record(tree.branch_a2, types["theme_day"], day),
            "branch_b": add_record(tree.branch_b, types["theme_day"], day),
        }
        attachments = {
            key: Attachment.objects.create(
                record=found[key],
                file=ContentFile(b"%PDF-1.7\n", name="minutes.pdf"),
                original_name="minutes.pdf",
                content_type="application/pdf",
                size=9,
            )
            for key in ("branch_a", "branch_b")
        }
    return found, attachments


@pytest.fixture
def records(fresh, module_records):
    """This row's copies of the module's records and attachments."""
    return fresh(module_records)


def _url(tree, records, name: str, target: str | None) -> str:
    if target is None:
        return reverse(name)
    kind, _, key = target.rpartition(":")
    if kind == "query":
        return f"{reverse(name)}?{key}"
    found, attachments = records
    if kind == "member":
        pk = MISSING_PK if key == "missing" else tree.members[key].pk
    elif kind == "type":
        pk = MISSING_PK if key == "missing" else ActivityType.objects.get(code=key).pk
    elif kind == "record":
        pk = MISSING_PK if key == "missing" else found[key].pk
    elif kind == "attachment":
        if key == "missing":
            return (
                reverse(name, args=[MISSING_PK])
                if name.startswith("portal:")
                else reverse(name, args=[found["branch_a"].pk, MISSING_PK])
            )
        attachment = attachments[key]
        if name.startswith("portal:"):
            return reverse(name, args=[attachment.pk])
        return reverse(name, args=[attachment.record_id, attachment.pk])
    else:
        pk = MISSING_PK if key == "missing" else getattr(tree, key).pk
    return reverse(name, args=[pk])


def test_the_table_covers_every_role_of_every_row():
    assert len(TABLE) == len(MATRIX) * len(ROLES)
    assert all(set(expected) == set(ROLES) for *_, expected in MATRIX)


@pytest.mark.parametrize(
    ("method", "name", "target", "role", "expected"),
    TABLE,
    ids=[f"{m.upper()} {n}[{t or ''}] as {r} -> {e}" for m, n, t, r, e in TABLE],
)
def test_permission(tree, records, client_for, method, name, target, role, expected):
    client = client_for(role)
    url = _url(tree, records, name, target)
    response = getattr(client, method)(url, content_type="application/json")
    assert response.status_code == expected, (method, url, role)
    if role == "anonymous" and expected == 302 and name not in ("portal:logout", "set_language"):
        assert response["Location"].startswith(reverse("portal:login") + "?next=")


# --- What the lists contain, per role -----------------------------------------------------------

MEMBERS_SEEN = {
    "staff": {"A0001", "A0002", "A0003", "A0101", "B0001", "B0002"},
    "secretary_a": {"A0001", "A0002", "A0003"},  # branch_a's members (group_a's are among them)
    "secretary_b": {"B0001", "B0002"},
    "inspector_a": {"A0001", "A0002", "A0003", "A0101"},
    "inspector_city": {"A0001", "A0002", "A0003", "A0101", "B0001", "B0002"},
}
ORGANIZATIONS_SEEN = {
    "staff": {"A", "A-1", "A-1-1", "A-2", "B", "B-G", "B-1"},
    "secretary_a": {"A-1", "A-1-1"},
    "secretary_b": {"B-1"},
    "inspector_a": {"A", "A-1", "A-1-1", "A-2"},
    "inspector_city": {"A", "A-1", "A-1-1", "A-2", "B", "B-G", "B-1"},
}
UNITS_SEEN = {
    "staff": {"市统计局", "市水务局"},
    "secretary_a": {"市统计局"},
    "secretary_b": {"市水务局"},
    "inspector_a": {"市统计局"},
    "inspector_city": {"市统计局", "市水务局"},
}


@pytest.mark.parametrize("role", list(MEMBERS_SEEN))
def test_api_member_list_holds_exactly_the_scope(client_for, role):
    data = client_for(role).get(reverse("member-list")).json()
    assert {m["member_no"] for m in data["results"]} == MEMBERS_SEEN[role]
    assert data["count"] == len(MEMBERS_SEEN[role])


@pytest.mark.parametrize("role", list(ORGANIZATIONS_SEEN))
def test_api_organization_list_holds_exactly_the_scope(client_for, role):
    data = client_for(role).get(reverse("organization-list")).json()
    assert {o["code"] for o in data["results"]} == ORGANIZATIONS_SEEN[role]


@pytest.mark.parametrize("role", list(UNITS_SEEN))
def test_api_unit_list_holds_exactly_the_scope(client_for, role):
    data = client_for(role).get(reverse("unit-list")).json()
    assert {u["name"] for u in data["results"]} == UNITS_SEEN[role]


@pytest.mark.parametrize("role", list(MEMBERS_SEEN))
def test_portal_member_search_holds_exactly_the_scope(client_for, role):
    response = client_for(role).get(reverse("portal:members"))
    assert {m.member_no for m in response.context["page"].object_list} == MEMBERS_SEEN[role]
    # The organization picker offers only organizations in scope.
    offered = {o.code for o in response.context["organizations"]}
    assert offered == ORGANIZATIONS_SEEN[role]


@pytest.mark.parametrize("role", ["inspector_a", "inspector_city"])
def test_portal_home_lists_exactly_the_units_in_scope(client_for, role):
    response = client_for(role).get(reverse("portal:home"))
    assert {u.name for u in response.context["units"]} == UNITS_SEEN[role]


@pytest.mark.parametrize(
    ("role", "filters"),
    [
        ("secretary_a", {"unit": "unit_b"}),
        ("secretary_a", {"organization": "branch_b"}),
        ("secretary_a", {"organization": "branch_a2"}),
        ("inspector_a", {"unit": "unit_b"}),
        ("inspector_a", {"organization": "committee_b"}),
    ],
)
def test_api_member_filters_never_widen_the_scope(tree, client_for, role, filters):
    params = {key: getattr(tree, value).pk for key, value in filters.items()}
    data = client_for(role).get(reverse("member-list"), params).json()
    assert data["count"] == 0


def test_api_filter_by_a_parent_outside_the_scope_narrows_to_what_is_visible(tree, client_for):
    # secretary_a cannot open committee_a, but filtering members by it must not reveal branch_a2.
    data = (
        client_for("secretary_a")
        .get(reverse("member-list"), {"organization": tree.committee_a.pk})
        .json()
    )
    assert {m["member_no"] for m in data["results"]} == MEMBERS_SEEN["secretary_a"]


def test_an_inactive_user_sees_nothing(tree, secretary_a, client):
    secretary_a.is_active = False
    secretary_a.save()
    client.force_login(secretary_a)
    # The session no longer authenticates an inactive user: treated as anonymous.
    assert client.get(reverse("member-list")).status_code == 403
    assert client.get(reverse("portal:organization", args=[tree.branch_a.pk])).status_code == 302
