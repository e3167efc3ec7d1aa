"""The stored counts (`branches.counts`) against the definitions they replace.

`reference_*` below are the correlated subqueries the pages ran before issue 9, kept here as the
definition: every organization's and unit's counts, for every standing user, equal them on the
fixtures, with a joint committee, and after every kind of write.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import OuterRef, Q
from django.test.utils import CaptureQueriesContext

from branches import counts, selectors
from branches.bulk import save_members
from branches.models import (
    COMMITTEE_DUTIES,
    Member,
    MemberStatus,
    Organization,
    OrganizationCounts,
    OrganizationKind,
)
from branches.selectors import SubqueryCount, visible_members, visible_organizations, visible_units
from tests.conftest import add_joint_committee, make_member

ROLES = ["staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city"]


def reference_organization_counts(user) -> dict[str, tuple[int, int, int, int]]:
    members = visible_members(user).filter(
        Q(branch__path__startswith=OuterRef("path")) | Q(group=OuterRef("pk"))
    )
    rows = visible_organizations(user).annotate(
        m=SubqueryCount(members.values("pk")),
        f=SubqueryCount(members.filter(status=MemberStatus.FULL).values("pk")),
        c=SubqueryCount(
            Member.objects.filter(branch=OuterRef("pk"), duty__in=COMMITTEE_DUTIES).values("pk")
        ),
        k=SubqueryCount(visible_organizations(user).filter(parent=OuterRef("pk")).values("pk")),
    )
    return {o.code: (o.m, o.f, o.c, o.k) for o in rows}


def reference_unit_counts(user) -> dict[str, tuple[int, int]]:
    joint = Organization.joint_units.through.objects.filter(unit=OuterRef(OuterRef("pk")))
    of_outer_unit = Q(unit=OuterRef("pk")) | Q(pk__in=joint.values("organization_id"))
    branches_of_outer_unit = Organization.objects.filter(
        Q(unit=OuterRef(OuterRef("pk")))
        | Q(
            pk__in=Organization.joint_units.through.objects.filter(
                unit=OuterRef(OuterRef(OuterRef("pk")))
            ).values("organization_id")
        )
    )
    rows = visible_units(user).annotate(
        o=SubqueryCount(visible_organizations(user).filter(of_outer_unit).values("pk")),
        m=SubqueryCount(
            visible_members(user)
            .filter(branch__in=branches_of_outer_unit.values("pk"))
            .values("pk")
        ),
    )
    return {u.name: (u.o, u.m) for u in rows}


def shown_organization_counts(user) -> dict[str, tuple[int, int, int, int]]:
    rows = selectors.with_member_counts(visible_organizations(user), user)
    return {
        o.code: (o.member_count, o.full_member_count, o.committee_size, o.child_count) for o in rows
    }


def shown_unit_counts(user) -> dict[str, tuple[int, int]]:
    rows = selectors.unit_counts_in_scope(visible_units(user), user)
    return {u.name: (u.organization_count, u.member_count) for u in rows}


def assert_counts_agree(users) -> None:
    for role in ROLES:
        user = users[role]
        assert shown_organization_counts(user) == reference_organization_counts(user), role
        assert shown_unit_counts(user) == reference_unit_counts(user), role


@pytest.fixture
def joint(tree):
    """committee_a spans unit_c too; unit_c's branch (with a group) sits under it."""
    unit_c, branch_c = add_joint_committee(tree)
    group_c = Organization.objects.create(
        code="C-1-1",
        name="调查队党小组",
        kind=OrganizationKind.GROUP,
        unit=unit_c,
        parent=branch_c,
    )
    make_member(branch_c, "C0001", "调查一", group=group_c, duty="secretary")
    make_member(branch_c, "C0002", "调查二", status="probationary")
    make_member(branch_c, "C0003", "调查三", duty="committee_member")
    return unit_c, branch_c, group_c


def test_the_fixtures_agree(tree, users):
    assert_counts_agree(users)


def test_a_joint_committee_agrees_for_every_user(joint, tree, users):
    assert_counts_agree(users)
    # The unit inspector's view of the committee leaves the other unit out; the city's not.
    assert shown_organization_counts(users["inspector_a"])["A"][0] == 4
    assert shown_organization_counts(users["inspector_city"])["A"][0] == 7


def test_every_kind_of_write_keeps_them(joint, tree, users):
    unit_c, branch_c, group_c = joint
    member = make_member(tree.branch_a2, "A0102", "新党员")
    assert_counts_agree(users)

    member.branch, member.status, member.duty = branch_c, "probationary", "committee_member"
    member.save()
    assert_counts_agree(users)

    member.group = group_c
    member.save()
    assert_counts_agree(users)

    member.delete()
    assert_counts_agree(users)

    # An organization moved to another parent takes its subtree's members along.
    branch_c.parent = tree.committee_b
    branch_c.save()
    assert_counts_agree(users)
    assert shown_organization_counts(users["staff"])["B"][0] == 2 + 3

    tree.committee_a.joint_units.remove(unit_c)
    assert_counts_agree(users)
    tree.committee_b.joint_units.add(unit_c)
    assert_counts_agree(users)

    Member.objects.filter(branch=branch_c).delete()
    group_c.delete()
    branch_c.delete()
    assert_counts_agree(users)


def test_bulk_writes_refresh_them(tree, users, staff):
    new = [
        Member(
            member_no=f"N{i:03d}",
            name="批量",
            sex="male",
            birth_date="1990-01-01",
            joined_on="2015-01-01",
            status="full",
            education="bachelor",
            branch=tree.branch_b,
        )
        for i in range(5)
    ]
    moved = tree.members["a3"]
    moved.branch = tree.branch_a2
    moved.group = None
    with transaction.atomic():
        save_members(new, [(moved, ["branch_id", "group_id"])], staff)
    assert_counts_agree(users)
    assert shown_organization_counts(staff)["B"][0] == 2 + 5


def test_a_rolled_back_write_leaves_them(tree, users):
    before = shown_organization_counts(users["staff"])
    with pytest.raises(RuntimeError), transaction.atomic():
        make_member(tree.branch_b, "B0099")
        raise RuntimeError
    assert shown_organization_counts(users["staff"]) == before
    assert_counts_agree(users)


def test_deferred_refreshes_once_at_the_end(tree, users, monkeypatch):
    calls = []
    real = counts.refresh_counts
    monkeypatch.setattr(counts, "refresh_counts", lambda: calls.append(1) or real())
    with counts.deferred():
        for i in range(4):
            make_member(tree.branch_b, f"D{i:03d}")
    assert calls == [1]
    assert_counts_agree(users)


def test_a_refresh_repairs_numbers_written_around_it(tree, users):
    OrganizationCounts.objects.update(members=999)
    Member.objects.filter(pk=tree.members["b2"].pk).update(status="probationary")
    assert counts.refresh_counts() > 0
    assert_counts_agree(users)
    assert counts.refresh_counts() == 0  # nothing left to change


def _refresh_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        counts.refresh_counts()
    return len(queries)


def test_a_refresh_costs_the_same_queries_however_many_rows(tree):
    OrganizationCounts.objects.all().delete()
    few = _refresh_queries()
    for i in range(30):
        branch = Organization.objects.create(
            code=f"X{i}",
            name=f"支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_b,
            parent=tree.committee_b,
        )
        make_member(branch, f"X{i:04d}")
    OrganizationCounts.objects.all().delete()
    assert _refresh_queries() == few


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("extra", [2, 20])
def test_pages_of_counts_cost_the_same_queries_however_many(joint, tree, users, role, extra):
    for i in range(extra):
        branch = Organization.objects.create(
            code=f"E{i}",
            name=f"支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
        make_member(branch, f"E{i:04d}")
    user = users[role]
    with CaptureQueriesContext(connection) as organizations:
        shown_organization_counts(user)
    with CaptureQueriesContext(connection) as units:
        shown_unit_counts(user)
    # Organizations: the page alone, but for a unit inspector with a joint committee, one
    # query to find what is hidden and five small ones to count it (the ids in scope, members
    # in two parts, children). Units: the page alone for the whole city, seven small queries
    # more for anyone else.
    expected = {
        "staff": (1, 1),
        "inspector_city": (1, 1),
        "inspector_a": (7, 8),
        "secretary_a": (1, 8),
        "secretary_b": (1, 8),
    }
    assert (len(organizations), len(units)) == expected[role]
