"""A secretary's members, read through the organization that comes with the user (no OR,
an index serves it), are exactly the members of `branch IN subtree OR group IN subtree`."""

from __future__ import annotations

import pytest
from django.db.models import Q

from accounts.backends import PortalModelBackend
from accounts.models import Role, User
from branches.models import Member
from branches.selectors import visible_members, visible_organizations
from tests.conftest import make_member


def request_user(username: str) -> User:
    """The user as every request loads it (the login backend's `get_user`)."""
    return PortalModelBackend().get_user(User.objects.get(username=username).pk)


def by_definition(user) -> set[int]:
    orgs = visible_organizations(user).values("pk")
    return set(
        Member.objects.filter(Q(branch__in=orgs) | Q(group__in=orgs)).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("root", ["committee_a", "branch_a", "group_a", "general_b", "branch_b"])
def test_a_secretarys_members_are_those_of_the_definition(tree, root):
    make_member(tree.branch_a, "A0009", "组外党员")  # in the branch, in no group
    User.objects.create(username="s", role=Role.SECRETARY, organization=getattr(tree, root))
    loaded = request_user("s")
    assert User.organization.is_cached(loaded)
    members = set(visible_members(loaded).values_list("pk", flat=True))
    assert members == by_definition(loaded) and members
    bare = User.objects.get(username="s")  # the organization not at hand
    assert not User.organization.is_cached(bare)
    assert set(visible_members(bare).values_list("pk", flat=True)) == members


def test_a_group_secretary_sees_the_groups_members_only(tree):
    User.objects.create(username="g", role=Role.SECRETARY, organization=tree.group_a)
    loaded = request_user("g")
    names = set(visible_members(loaded).values_list("member_no", flat=True))
    assert names == {"A0001", "A0002"}  # a3 is in the branch, not in the group
