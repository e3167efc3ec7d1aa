"""Who may open what in the dashboard's API: every route, for every role.

One row per (method, URL name, target, data) with the status each role must get (the format of
tests/campaigns/test_api_permissions.py). Every panel is read with "dashboard.view" (staff,
secretaries, inspectors), its figures cut to the user's scope; anonymous visitors get a 403
from the API. The branch panel is the user's own organization (a 404 for a user with none) or
`?organization=` among those they see (another one is a 404, never a 403). Writes are refused.
"""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from tests import access_coverage

pytestmark = pytest.mark.usefixtures("module_cast")

ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city", "anonymous")
PREFIXES = ("dashboard-",)


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
#                       staff sec_a sec_b insp_a city anonymous
OWN_ORGANIZATION = statuses(404, 200, 200, 404, 404, 403)  # staff and inspectors have none
SEEN_A = statuses(200, 200, 404, 200, 200, 403)  # branch_a
SEEN_B = statuses(200, 404, 200, 404, 200, 403)  # branch_b
NOT_FOUND = statuses(404, 404, 404, 404, 404, 403)
WRITE = statuses(405, 405, 405, 405, 405, 403)  # GET only: no method to write with

PANELS = (
    "compliance",
    "owed",
    "elections",
    "members",
    "pairings",
    "evaluations",
    "campaigns",
    "problems",
)

MATRIX: list[tuple[str, str, str | None, dict | None, dict[str, int]]] = [
    *(("get", f"dashboard-{panel}", None, None, API) for panel in PANELS),
    *(("post", f"dashboard-{panel}", None, {}, WRITE) for panel in PANELS),
    ("get", "dashboard-branch", None, None, OWN_ORGANIZATION),
    ("get", "dashboard-branch", "branch_a", None, SEEN_A),
    ("get", "dashboard-branch", "branch_b", None, SEEN_B),
    ("get", "dashboard-branch", "missing", None, NOT_FOUND),
    ("get", "dashboard-branch", "not-a-number", None, NOT_FOUND),
    ("post", "dashboard-branch", None, {}, WRITE),
]

TABLE = [
    (method, name, target, data, role, expected[role])
    for method, name, target, data, expected in MATRIX
    for role in ROLES
]


def _query(cast, target) -> dict:
    if target is None:
        return {}
    if target == "missing":
        return {"organization": 987654}
    if target == "not-a-number":
        return {"organization": "abc"}
    return {"organization": getattr(cast.tree, target).pk}


def test_the_table_covers_every_role_of_every_row():
    assert len(TABLE) == len(MATRIX) * len(ROLES)
    assert all(set(expected) == set(ROLES) for *_, expected in MATRIX)


def test_the_table_has_rows_for_every_route_of_the_app():
    names = {
        route.name
        for route in access_coverage.walk(get_resolver().url_patterns)
        if route.name.startswith(PREFIXES)
    }
    assert names == {row[1] for row in MATRIX}


@pytest.mark.parametrize(
    ("method", "name", "target", "data", "role", "expected"),
    TABLE,
    ids=[f"{m.upper()} {n}[{t or ''}] as {r} -> {e}" for m, n, t, _d, r, e in TABLE],
)
def test_permission(cast, client_for, method, name, target, data, role, expected):
    client = client_for(role)
    url = reverse(name)
    if method == "get":
        response = client.get(url, _query(cast, target))
    else:
        response = getattr(client, method)(url, data, content_type="application/json")
    assert response.status_code == expected, (method, url, role, response.content[:300])
