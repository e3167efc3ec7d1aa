"""The tree rules hold in the database itself, not only in forms."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from branches.models import Member, Organization, OrganizationKind, Term
from tests.conftest import make_member


def _raises_integrity(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_db_refuses_a_party_group_outside_a_branch(tree):
    _raises_integrity(
        lambda: Organization.objects.create(
            code="X",
            name="x",
            kind=OrganizationKind.GROUP,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
    )
    # Bypassing save() and validation altogether: a raw UPDATE is refused too.
    _raises_integrity(
        lambda: Organization.objects.filter(pk=tree.group_a.pk).update(parent=tree.committee_a)
    )


def test_db_refuses_a_group_without_parent_and_a_general_branch_under_a_branch(tree):
    _raises_integrity(
        lambda: Organization.objects.create(
            code="Y", name="y", kind=OrganizationKind.GROUP, unit=tree.unit_a
        )
    )
    _raises_integrity(
        lambda: Organization.objects.create(
            code="Z",
            name="z",
            kind=OrganizationKind.GENERAL_BRANCH,
            unit=tree.unit_a,
            parent=tree.branch_a,
        )
    )


def test_db_refuses_a_kind_change_that_strands_children_or_members(tree):
    # branch_a holds members and a group: it cannot become a committee.
    _raises_integrity(
        lambda: Organization.objects.filter(pk=tree.branch_a.pk).update(
            kind=OrganizationKind.COMMITTEE
        )
    )


def test_db_refuses_moving_a_group_away_from_its_members_branch(tree):
    _raises_integrity(
        lambda: Organization.objects.filter(pk=tree.group_a.pk).update(parent=tree.branch_a2)
    )


def test_member_belongs_to_exactly_one_branch(tree):
    _raises_integrity(lambda: make_member(tree.committee_a, "X1"))  # a committee is no branch
    _raises_integrity(lambda: make_member(tree.group_a, "X2"))  # the group is not the branch
    _raises_integrity(lambda: make_member(tree.branch_a2, "X3", group=tree.group_a))
    _raises_integrity(
        lambda: Member.objects.filter(pk=tree.members["a1"].pk).update(branch=tree.branch_b)
    )
    _raises_integrity(
        lambda: Member.objects.create(  # no branch at all
            member_no="X4",
            name="x",
            sex="male",
            birth_date=datetime.date(1990, 1, 1),
            joined_on=datetime.date(2015, 1, 1),
            education="bachelor",
        )
    )


def test_check_constraints_on_member_dates_and_choices(tree):
    _raises_integrity(
        lambda: make_member(
            tree.branch_a,
            "X5",
            birth_date=datetime.date(2000, 1, 1),
            joined_on=datetime.date(1999, 1, 1),
        )
    )
    _raises_integrity(lambda: make_member(tree.branch_a, "X6", status="expelled"))
    _raises_integrity(lambda: make_member(tree.branch_a, "A0001"))  # member number is unique


def test_model_validation_explains_in_the_users_language(tree):
    org = Organization(
        code="Q", name="q", kind=OrganizationKind.GROUP, unit=tree.unit_a, parent=tree.committee_a
    )
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    message = exc.value.message_dict["parent"][0]
    assert message == "党小组的上级组织应为：党支部。", message


def test_moving_an_organization_carries_its_subtree(tree):
    new_parent = Organization.objects.create(
        code="A2", name="新党委", kind=OrganizationKind.COMMITTEE, unit=tree.unit_a
    )
    tree.branch_a.parent = new_parent
    tree.branch_a.save()
    tree.group_a.refresh_from_db()
    assert tree.group_a.path == f"{new_parent.path}{tree.branch_a.pk:07d}/{tree.group_a.pk:07d}/"
    assert tree.group_a.depth == 2
    assert set(Organization.objects.subtree_of(new_parent)) == {
        new_parent,
        tree.branch_a,
        tree.group_a,
    }


def test_an_organization_cannot_move_under_its_own_subtree(tree):
    tree.branch_a.parent = tree.group_a
    with pytest.raises(ValidationError):
        tree.branch_a.full_clean()


def test_term_due_date_uses_kind_default_and_approved_change(tree):
    committee_term = Term.objects.create(
        organization=tree.committee_a, started_on=datetime.date(2021, 3, 31)
    )
    assert committee_term.length_years == 5
    assert committee_term.due_on == datetime.date(2026, 3, 31)
    branch_term = Term.objects.create(
        organization=tree.branch_a,
        started_on=datetime.date(2023, 8, 31),
        extension_months=6,
        extension_approval="统计局机关党委〔2026〕3号",
    )
    assert branch_term.due_on == datetime.date(2027, 2, 28)  # 3 years + 6 months, clamped


def test_one_current_term_and_at_most_a_year_of_change(tree):
    Term.objects.create(organization=tree.branch_a, started_on=datetime.date(2023, 1, 1))
    _raises_integrity(
        lambda: Term.objects.create(
            organization=tree.branch_a, started_on=datetime.date(2024, 1, 1)
        )
    )
    _raises_integrity(
        lambda: Term.objects.create(
            organization=tree.branch_a2, started_on=datetime.date(2024, 1, 1), extension_months=13
        )
    )
