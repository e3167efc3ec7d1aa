"""The one scoping rule, per role, over units, organizations and members."""

import pytest

from accounts.models import Role, User
from branches.models import Organization, OrganizationKind
from branches.selectors import visible_members, visible_organizations, visible_units

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")


def codes(qs):
    return set(qs.values_list("code", flat=True))


def test_staff_and_city_inspector_see_everything(tree, staff, inspector_city):
    everything = codes(Organization.objects.all())
    assert codes(visible_organizations(staff)) == everything
    assert codes(visible_organizations(inspector_city)) == everything
    assert visible_members(inspector_city).count() == 6


def test_secretary_sees_own_subtree_only(tree, secretary_a, secretary_b):
    assert codes(visible_organizations(secretary_a)) == {"A-1", "A-1-1"}
    assert set(visible_members(secretary_a).values_list("member_no", flat=True)) == {
        "A0001",
        "A0002",
        "A0003",
    }
    assert set(visible_units(secretary_a).values_list("name", flat=True)) == {"市统计局"}
    assert codes(visible_organizations(secretary_b)) == {"B-1"}


def test_secretary_of_a_committee_sees_everything_under_it(tree):
    user = User.objects.create(username="c", role=Role.SECRETARY, organization=tree.committee_a)
    assert codes(visible_organizations(user)) == {"A", "A-1", "A-1-1", "A-2"}
    assert visible_members(user).count() == 4


def test_secretary_of_a_group_sees_the_group_members(tree):
    user = User.objects.create(username="g", role=Role.SECRETARY, organization=tree.group_a)
    assert codes(visible_organizations(user)) == {"A-1-1"}
    assert set(visible_members(user).values_list("member_no", flat=True)) == {"A0001", "A0002"}


def test_inspector_sees_their_units_including_joint_committees(tree, inspector_a):
    assert codes(visible_organizations(inspector_a)) == {"A", "A-1", "A-1-1", "A-2"}
    joint = Organization.objects.create(
        code="J", name="统计联合党委", kind=OrganizationKind.COMMITTEE, unit=tree.unit_b
    )
    joint.joint_units.add(tree.unit_a)
    assert "J" in codes(visible_organizations(inspector_a))
    assert "B" not in codes(visible_organizations(inspector_a))
    # An inspector of several units sees each, and no duplicates.
    inspector_a.units.add(tree.unit_b)
    visible = visible_organizations(inspector_a)
    assert visible.count() == Organization.objects.count()


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.SECRETARY])
def test_inactive_or_unscoped_users_see_nothing(tree, role):
    user = User.objects.create(username="x", role=Role.INSPECTOR)
    assert not visible_organizations(user).exists()
    if role == Role.SECRETARY:
        user = User.objects.create(
            username="y", role=role, organization=tree.branch_a, is_active=False
        )
    else:
        user.is_active = False
    assert not visible_organizations(user).exists()
    assert not visible_members(user).exists()


def test_anonymous_sees_nothing(tree):
    from django.contrib.auth.models import AnonymousUser

    assert not visible_organizations(AnonymousUser()).exists()
    assert not visible_members(None).exists()
    assert not visible_units(None).exists()


def test_scoping_is_one_query(tree, secretary_a, django_assert_num_queries):
    # The scope is a subquery: listing a secretary's organizations is a single query.
    with django_assert_num_queries(1):
        list(visible_organizations(secretary_a))
