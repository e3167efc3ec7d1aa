"""Each dashboard endpoint answers in the same number of queries for 3 organizations as for
12 more (members, records, problems, pairings with help, titles, terms in each), for staff (the
cache cleared before each call), a unit inspector and a secretary of the committee that grows.

The counts are compared, not written down (the session and the user's role add theirs, and
bench/dashboard.py prints each endpoint's): what matters is that nothing grows with the
organizations."""

from __future__ import annotations

import pytest
from django.core.cache import cache as django_cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role, User
from dashboard import selectors
from tests.dashboard.conftest import grow

pytestmark = pytest.mark.usefixtures("module_cast", "module_figures")


def count(client, panel, query=None) -> int:
    django_cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(f"dashboard-{panel}"), query or {})
    assert response.status_code == 200, response.content[:300]
    return len(queries)


@pytest.mark.parametrize("role", ["staff", "inspector_a", "committee_secretary"])
def test_constant_queries_whatever_the_number_of_organizations(role, cast, client):
    if role == "committee_secretary":
        user = User.objects.create(
            username="sec_committee", role=Role.SECRETARY, organization=cast.tree.committee_a
        )
    else:
        user = cast.users[role]
    client.force_login(user)
    grow(cast, 3)
    few = {panel: count(client, panel) for panel in selectors.PANELS if panel != "branch"}
    branch = {"organization": cast.tree.branch_a.pk}
    few["branch"] = count(client, "branch", branch)
    grow(cast, 9, start=3)
    many = {panel: count(client, panel) for panel in selectors.PANELS if panel != "branch"}
    many["branch"] = count(client, "branch", branch)
    assert many == few
