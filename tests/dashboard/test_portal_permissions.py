"""Who may open the dashboard's pages: the charts and the big screen, for every role.

One row per (method, URL, target, data) with the status each role must get, in the format of
tests/campaigns/test_portal_permissions.py (`MATRIX`, read by tests/test_access.py). Every
portal user holds `dashboard.view` (the figures are scoped by the data endpoints, not by the
page); anonymous visitors are sent to the login page; the pages only read.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.usefixtures("module_cast")

ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city", "anonymous")


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
NO_METHOD = statuses(405, 405, 405, 405, 405, 302)

# (method, url name, target, data, {role: status}); no page of the dashboard takes a target.
MATRIX: list[tuple[str, str, str | None, dict | None, dict[str, int]]] = [
    ("get", "portal:dashboard", None, None, PORTAL),
    ("get", "portal:dashboard", None, {"organization": "abc", "page": "-1"}, PORTAL),
    ("head", "portal:dashboard", None, None, PORTAL),
    ("post", "portal:dashboard", None, None, NO_METHOD),
    ("put", "portal:dashboard", None, None, NO_METHOD),
    ("get", "portal:dashboard_screen", None, None, PORTAL),
    ("head", "portal:dashboard_screen", None, None, PORTAL),
    ("post", "portal:dashboard_screen", None, None, NO_METHOD),
    ("delete", "portal:dashboard_screen", None, None, NO_METHOD),
]
TABLE = [
    (method, name, target, data, role, expected[role])
    for method, name, target, data, expected in MATRIX
    for role in ROLES
]


def test_the_table_covers_every_role_of_every_row():
    assert len(TABLE) == len(MATRIX) * len(ROLES)
    assert all(set(expected) == set(ROLES) for *_, expected in MATRIX)


def test_the_table_covers_every_route_of_the_app():
    from dashboard.urls import urlpatterns

    assert {f"portal:{p.name}" for p in urlpatterns} == {row[1] for row in MATRIX}


@pytest.mark.parametrize(
    ("method", "name", "target", "data", "role", "expected"),
    TABLE,
    ids=[
        f"{m.upper()} {n}[{t or ''}]{'+data' if d else ''} as {r} -> {e}"
        for m, n, t, d, r, e in TABLE
    ],
)
def test_permission(client_for, method, name, target, data, role, expected):
    client = client_for(role)
    address = reverse(name)
    response = getattr(client, method)(address, data or {})
    assert response.status_code == expected, (method, address, role)
    if role == "anonymous":
        assert response["Location"].startswith(reverse("portal:login") + "?next=")
