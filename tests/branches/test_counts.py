"""Counts mean the same thing on every page, and count only what the user may see.

A joint committee (联合党委): committee_a of unit_a also spans unit_c (a survey team), whose
branch_c sits under it. For the inspector of unit_a the committee is theirs, and under it only
unit_a's organizations: branch_c and unit_c are not in their scope, and no count includes
them. For the city they are. The portal home, the API and the roster ledger agree.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from tests.conftest import add_joint_committee, make_member

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")


@pytest.fixture
def joint(tree):
    unit_c, branch_c = add_joint_committee(tree)
    for i in range(3):
        make_member(branch_c, f"C000{i}", f"调查{i}")
    return unit_c, branch_c


def _home(client):
    units = client.get(reverse("portal:home")).context["units"]
    cards = {u.name: (u.organization_count, u.member_count) for u in units}
    rows = {o.code: o.member_count for u in units for o in u.top_organizations}
    return cards, rows


def _api(client, name, **params):
    return client.get(reverse(name), params).json()


def _roster_rows(client, **filters) -> int:
    response = client.post(reverse("portal:downloads"), {"ledger": "roster", **filters})
    assert response.status_code == 200, response.content[:300]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return sum(1 for row in sheet.iter_rows(min_row=5, values_only=True) if any(row))


# (role, member count of committee_a, unit_a card (organizations, members), unit_c card)
EXPECTED = [
    ("inspector_a", 4, (4, 4), None),
    ("inspector_city", 7, (4, 4), (2, 3)),
]


@pytest.mark.parametrize(("role", "members", "unit_a", "unit_c"), EXPECTED)
def test_home_api_and_ledger_agree(joint, tree, client_for, role, members, unit_a, unit_c):
    unit_c_obj, _branch_c = joint
    client = client_for(role)
    cards, rows = _home(client)
    assert cards.get("市统计局") == unit_a
    assert cards.get("国家统计局调查队") == unit_c
    assert rows["A"] == members

    organizations = {o["code"]: o for o in _api(client, "organization-list")["results"]}
    assert organizations["A"]["member_count"] == members
    units = {u["name"]: u for u in _api(client, "unit-list")["results"]}
    assert (units["市统计局"]["organization_count"], units["市统计局"]["member_count"]) == unit_a
    assert _api(client, "organization-list", unit=tree.unit_a.pk)["count"] == unit_a[0]
    assert _api(client, "member-list", unit=tree.unit_a.pk)["count"] == unit_a[1]
    assert _api(client, "member-list", organization=tree.committee_a.pk)["count"] == members
    if unit_c is None:
        assert "国家统计局调查队" not in units
        assert "C-1" not in organizations
    else:
        assert (
            units["国家统计局调查队"]["organization_count"],
            units["国家统计局调查队"]["member_count"],
        ) == unit_c
        assert _api(client, "organization-list", unit=unit_c_obj.pk)["count"] == unit_c[0]
        assert _api(client, "member-list", unit=unit_c_obj.pk)["count"] == unit_c[1]

    assert _roster_rows(client, organization=tree.committee_a.pk) == members
    assert _roster_rows(client, unit=tree.unit_a.pk) == unit_a[1]
    assert _roster_rows(client) == _api(client, "member-list")["count"]


@pytest.mark.parametrize(
    ("role", "codes"), [("inspector_a", {"A-1", "A-2"}), ("inspector_city", {"A-1", "A-2", "C-1"})]
)
def test_the_committee_page_counts_the_children_it_lists(joint, tree, client_for, role, codes):
    url = reverse("portal:organization", args=[tree.committee_a.pk])
    response = client_for(role).get(url)
    children = response.context["children"]
    assert {c.code for c in children} == codes
    assert response.context["organization"].child_count == len(codes)
    api = client_for(role).get(reverse("organization-detail", args=[tree.committee_a.pk])).json()
    assert api["child_count"] == len(codes)


def test_a_secretary_counts_their_own_branch(tree, client_for):
    client = client_for("secretary_a")
    data = _api(client, "organization-list")
    branch = {o["code"]: o for o in data["results"]}["A-1"]
    assert branch["member_count"] == 3 == _roster_rows(client)
