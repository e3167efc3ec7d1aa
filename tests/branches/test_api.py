"""The read-only API over units, organizations and members: fields, filters, query counts."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from branches.models import Organization, OrganizationKind, Term, Unit
from config.api_base import ScopedReadOnlyViewSet
from tests.conftest import PASSWORD, make_member

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")


def _years_ago(years: int) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=1)


def _get(client, name, params=None, **kwargs):
    response = client.get(reverse(name, **kwargs), params or {})
    assert response.status_code == 200, response.content
    return response.json()


def _codes(data) -> list[str]:
    return [o["code"] for o in data["results"]]


def _numbers(data) -> set[str]:
    return {m["member_no"] for m in data["results"]}


# --- fields ------------------------------------------------------------------------------------


def test_organization_detail_has_tree_counts_and_term(tree, client_for):
    term = Term.objects.create(organization=tree.branch_a, started_on=_years_ago(4))
    data = _get(client_for("inspector_a"), "organization-detail", args=[tree.branch_a.pk])
    assert data["code"] == "A-1"
    assert data["kind"] == "branch"
    assert data["parent"] == tree.committee_a.pk
    assert data["path"] == tree.branch_a.path
    assert data["depth"] == 1
    assert data["unit"] == tree.unit_a.pk
    assert data["unit_name"] == "市统计局"
    assert data["joint_units"] == []
    assert (data["member_count"], data["full_member_count"], data["child_count"]) == (3, 2, 1)
    assert data["committee_size"] == 1  # 张伟 holds the secretary duty
    assert data["election_due_on"] == term.due_on.isoformat()
    assert data["election_overdue"] is True
    assert data["secretary"] is None
    assert data["secretary_name"] is None
    assert len(data["structure_warnings"]) == 2  # too few full members, no secretary


def test_organization_secretary_is_named(tree, client_for):
    tree.branch_b.secretary = tree.members["b1"]
    tree.branch_b.save()
    data = _get(client_for("secretary_b"), "organization-detail", args=[tree.branch_b.pk])
    assert (data["secretary"], data["secretary_name"]) == (tree.members["b1"].pk, "陈静")


def test_joint_committee_lists_its_other_units(tree, client_for):
    tree.committee_a.joint_units.add(tree.unit_b)
    data = _get(client_for("staff"), "organization-detail", args=[tree.committee_a.pk])
    assert data["joint_units"] == [tree.unit_b.pk]


def test_member_has_names_age_and_youth_and_private_data_by_capability(tree, client_for):
    young = make_member(
        tree.branch_a,
        "A0009",
        "赵青",
        group=tree.group_a,
        birth_date=_years_ago(25),
        phone="13800000000",
    )
    data = _get(client_for("secretary_a"), "member-detail", args=[young.pk])
    assert data["branch"] == tree.branch_a.pk
    assert data["branch_name"] == "统计局第一党支部"
    assert data["group"] == tree.group_a.pk
    assert data["group_name"] == "统计局第一党小组"
    assert data["unit"] == tree.unit_a.pk
    assert data["age"] == young.age()
    assert data["is_youth"] is True
    # "member.view_private": the branch's secretary sees phone and birth date...
    assert data["phone"] == "13800000000"
    assert data["birth_date"] == young.birth_date.isoformat()
    # ...an inspector does not, as in the roster ledger.
    data = _get(client_for("inspector_a"), "member-detail", args=[young.pk])
    assert "phone" not in data and "birth_date" not in data
    assert "13800000000" not in str(data)


def test_member_without_group_has_null_group_name(tree, client_for):
    data = _get(client_for("secretary_a"), "member-detail", args=[tree.members["a3"].pk])
    assert (data["group"], data["group_name"], data["is_youth"]) == (None, None, False)
    assert data["status"] == "probationary"


def test_unit_counts_are_those_of_the_scope(tree, client_for):
    # secretary_a sees branch_a and group_a of unit A, and its 3 members, not branch_a2's.
    (unit,) = _get(client_for("secretary_a"), "unit-list")["results"]
    assert (unit["organization_count"], unit["member_count"]) == (2, 3)
    (unit,) = _get(client_for("inspector_a"), "unit-list")["results"]
    assert (unit["organization_count"], unit["member_count"]) == (4, 4)


# --- organization filters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"unit": "unit_b"}, ["B", "B-G", "B-1"]),
        ({"kind": "branch"}, ["A-1", "A-2", "B-1"]),
        ({"kind": "group"}, ["A-1-1"]),
        ({"parent": "committee_a"}, ["A-1", "A-2"]),
        ({"code": "b-g"}, ["B-G"]),
        ({"within": "committee_b"}, ["B", "B-G", "B-1"]),
        ({"within": "branch_a"}, ["A-1", "A-1-1"]),
        ({"search": "水务"}, ["B", "B-G", "B-1"]),
        ({"search": "第二"}, ["A-2"]),
        ({"unit": "unit_a", "kind": "committee"}, ["A"]),
    ],
)
def test_organization_filters(tree, client_for, params, expected):
    resolved = {
        key: (getattr(tree, value).pk if hasattr(tree, value) else value)
        for key, value in params.items()
    }
    assert _codes(_get(client_for("staff"), "organization-list", resolved)) == expected


def test_organization_filter_by_host_type(tree, client_for):
    tree.branch_b.host_type = "enterprise"
    tree.branch_b.save()
    data = _get(client_for("staff"), "organization-list", {"host_type": "enterprise"})
    assert _codes(data) == ["B-1"]


def test_organizations_are_ordered_by_tree_then_on_request(tree, client_for):
    client = client_for("staff")
    assert _codes(_get(client, "organization-list")) == [
        "A",
        "A-1",
        "A-1-1",
        "A-2",
        "B",
        "B-G",
        "B-1",
    ]
    by_members = _codes(_get(client, "organization-list", {"ordering": "-member_count,code"}))
    assert by_members[:2] == ["A", "A-1"]  # 4 members, then 3


def test_an_invalid_choice_is_a_400(tree, client_for):
    response = client_for("staff").get(reverse("organization-list"), {"kind": "bureau"})
    assert response.status_code == 400
    assert "kind" in response.json()


# --- member filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"unit": "unit_a"}, {"A0001", "A0002", "A0003", "A0101", "A0009"}),
        ({"organization": "committee_a"}, {"A0001", "A0002", "A0003", "A0101", "A0009"}),
        ({"organization": "branch_a"}, {"A0001", "A0002", "A0003"}),
        ({"organization": "group_a"}, {"A0001", "A0002"}),
        ({"organization": "general_b"}, {"B0001", "B0002"}),
        ({"branch": "branch_a2"}, {"A0101", "A0009"}),
        ({"group": "group_a"}, {"A0001", "A0002"}),
        ({"status": "probationary"}, {"A0003"}),
        ({"sex": "female"}, {"A0002", "A0003", "B0001"}),
        ({"education": "postgraduate"}, {"B0002"}),
        ({"duty": "secretary"}, {"A0001", "B0001"}),
        ({"youth": "true"}, {"A0009"}),
        ({"youth": "false"}, {"A0001", "A0002", "A0003", "A0101", "B0001", "B0002"}),
        ({"search": "杨"}, {"B0002"}),
        ({"search": "A010"}, {"A0101"}),
        ({"unit": "unit_a", "sex": "female", "status": "full"}, {"A0002"}),
    ],
)
def test_member_filters(tree, client_for, params, expected):
    make_member(tree.branch_a2, "A0009", "赵青", birth_date=_years_ago(25))  # the one youth
    tree.members["b2"].education = "postgraduate"
    tree.members["b2"].save()
    resolved = {
        key: (getattr(tree, value).pk if hasattr(tree, value) else value)
        for key, value in params.items()
    }
    assert _numbers(_get(client_for("inspector_city"), "member-list", resolved)) == expected


def test_members_ordering(tree, client_for):
    data = _get(client_for("secretary_a"), "member-list", {"ordering": "-member_no"})
    assert [m["member_no"] for m in data["results"]] == ["A0003", "A0002", "A0001"]


# --- query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 40])
def test_member_list_costs_the_same_queries_however_many(
    tree, client_for, django_assert_num_queries, rows
):
    for i in range(rows):
        make_member(tree.branch_a, f"X{i:04d}", group=tree.group_a if i % 2 else None)
    client = client_for("secretary_a")
    # 1 session, 2 user, 3 count for the pager, 4 the page (branch, unit and group joined).
    with django_assert_num_queries(4):
        data = _get(client, "member-list")
    assert data["count"] == 3 + rows


@pytest.mark.parametrize("rows", [5, 40])
def test_organization_list_costs_the_same_queries_however_many(
    tree, client_for, django_assert_num_queries, rows
):
    for i in range(rows):
        branch = Organization.objects.create(
            code=f"A-X{i}",
            name=f"支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
        make_member(branch, f"AX{i:04d}")
        Term.objects.create(organization=branch, started_on=_years_ago(1))
    client = client_for("inspector_a")
    # 1 session, 2 user, 3 whether anything hidden lies under what the inspector sees
    # (no: the stored counts are theirs), 4 count, 5 the page (stored counts, unit and
    # secretary joined, term as a subquery), 6 joint units of the whole page (prefetch).
    with django_assert_num_queries(6):
        data = _get(client, "organization-list")
    assert data["count"] == 4 + rows


@pytest.mark.parametrize("rows", [5, 40])
def test_unit_list_costs_the_same_queries_however_many(
    tree, client_for, django_assert_num_queries, rows
):
    for i in range(rows):
        unit = Unit.objects.create(name=f"单位{i}")
        branch = Organization.objects.create(
            code=f"U{i}", name=f"单位{i}支部", kind=OrganizationKind.BRANCH, unit=unit
        )
        make_member(branch, f"U{i:04d}")
    client = client_for("inspector_city")
    # 1 session, 2 user, 3 count, 4 the page with scoped counts as subqueries.
    with django_assert_num_queries(4):
        data = _get(client, "unit-list")
    assert data["count"] == 2 + rows


# --- auth, schema, docs ------------------------------------------------------------------------


def test_token_auth_works_for_a_secretary(tree, secretary_a):
    response = Client().post(reverse("api-token"), {"username": "sec_a", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=secretary_a).key == token
    data = Client().get(reverse("member-list"), HTTP_AUTHORIZATION=f"Token {token}").json()
    assert {m["member_no"] for m in data["results"]} == {"A0001", "A0002", "A0003"}


def test_a_wrong_token_is_refused(tree):
    response = Client().get(reverse("member-list"), HTTP_AUTHORIZATION="Token nope")
    # 403, not 401: session authentication comes first in settings and sends no challenge.
    assert response.status_code == 403
    assert response.json()["detail"]


def test_schema_describes_the_endpoints_and_filters(db, client):
    response = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert {"/api/units/", "/api/organizations/", "/api/members/"} <= set(schema["paths"])
    params = {p["name"]: p for p in schema["paths"]["/api/members/"]["get"]["parameters"]}
    assert params["youth"]["schema"]["type"] == "boolean"
    assert params["organization"]["schema"]["type"] == "integer"
    assert {"unit", "status", "sex", "education", "duty", "search", "ordering"} <= set(params)
    # Read-only: no write operation is published.
    for path in ("/api/members/", "/api/members/{id}/", "/api/organizations/{id}/"):
        assert not {"post", "put", "patch", "delete"} & set(schema["paths"][path])


def test_swagger_docs_are_served_from_our_own_static_files(db, client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr" not in html


def test_the_scoped_base_refuses_a_class_level_queryset():
    with pytest.raises(TypeError, match="scoped_queryset"):

        class Leaky(ScopedReadOnlyViewSet):
            queryset = Unit.objects.all()
