"""Reads. Every query set of every door (admin, portal, API, downloads, tasks) starts here."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from .models import (
    COMMITTEE_DUTIES,
    ActivityRecord,
    Member,
    MemberStatus,
    Organization,
    Term,
    Unit,
)
from .rules import branch_structure_warnings

if TYPE_CHECKING:
    from accounts.models import User


def visible_organizations(user: User | None) -> QuerySet[Organization]:
    """The one scoping rule: the organizations this user may see.

    - committee staff and superusers: all;
    - a branch secretary: their organization and everything under it;
    - an inspector: the organizations of their units (joint committees included), or all
      when they inspect the whole city;
    - anybody else: nothing.
    """
    from accounts.models import Role

    qs = Organization.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.sees_whole_city:
        return qs
    if user.role == Role.SECRETARY:
        if not user.organization_id:
            return qs.none()
        own_path = Organization.objects.filter(pk=user.organization_id).values("path")[:1]
        return qs.filter(path__startswith=Subquery(own_path))
    if user.role == Role.INSPECTOR:
        unit_ids = user.units.values("pk")
        in_units = Organization.objects.filter(
            Q(unit__in=unit_ids) | Q(joint_units__in=unit_ids)
        ).values("pk")
        return qs.filter(pk__in=in_units)
    return qs.none()


def visible_activity_records(user: User | None) -> QuerySet[ActivityRecord]:
    return ActivityRecord.objects.filter(organization__in=visible_organizations(user).values("pk"))


def visible_units(user: User | None) -> QuerySet[Unit]:
    if user is not None and user.is_authenticated and user.is_active and user.sees_whole_city:
        return Unit.objects.all()
    orgs = visible_organizations(user)
    return Unit.objects.filter(Q(pk__in=orgs.values("unit")) | Q(pk__in=orgs.values("joint_units")))


def visible_members(user: User | None) -> QuerySet[Member]:
    if user is not None and user.is_authenticated and user.is_active and user.sees_whole_city:
        return Member.objects.all()
    orgs = visible_organizations(user).values("pk")
    return Member.objects.filter(Q(branch__in=orgs) | Q(group__in=orgs))


class SubqueryCount(Subquery):
    """COUNT(*) over a correlated subquery: one column, no GROUP BY on the outer query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def _members_under(outer_path: str = "path", outer_pk: str = "pk") -> QuerySet[Member]:
    # A member counts for their branch and every organization above it; a group counts its own.
    return Member.objects.filter(
        Q(branch__path__startswith=OuterRef(outer_path)) | Q(group=OuterRef(outer_pk))
    )


def with_member_counts(qs: QuerySet[Organization]) -> QuerySet[Organization]:
    """Annotate member, full-member and sub-organization counts, in the same single query."""
    members = _members_under()
    return qs.annotate(
        member_count=SubqueryCount(members.values("pk")),
        full_member_count=SubqueryCount(members.filter(status=MemberStatus.FULL).values("pk")),
        committee_size=SubqueryCount(
            Member.objects.filter(branch=OuterRef("pk"), duty__in=COMMITTEE_DUTIES).values("pk")
        ),
        child_count=Count("children", distinct=True),
    )


def with_current_term(qs: QuerySet[Organization]) -> QuerySet[Organization]:
    current = Term.objects.filter(organization=OuterRef("pk"), ended_on__isnull=True)
    return qs.annotate(
        term_started_on=Subquery(current.values("started_on")[:1]),
        election_due_on=Subquery(current.values("due_on")[:1]),
    )


def overdue_elections(
    qs: QuerySet[Organization], on: datetime.date | None = None
) -> QuerySet[Organization]:
    """Organizations whose current term has run past its due date (approved changes included)."""
    on = on or timezone.localdate()
    return with_current_term(qs).filter(election_due_on__lt=on).order_by("election_due_on")


def elections_due_soon(
    qs: QuerySet[Organization], on: datetime.date | None = None
) -> QuerySet[Organization]:
    on = on or timezone.localdate()
    horizon = on + datetime.timedelta(days=settings.TERM_DUE_SOON_DAYS)
    return (
        with_current_term(qs)
        .filter(election_due_on__gte=on, election_due_on__lte=horizon)
        .order_by("election_due_on")
    )


def unit_member_counts(qs: QuerySet[Unit]) -> QuerySet[Unit]:
    return qs.annotate(
        organization_count=SubqueryCount(
            Organization.objects.filter(unit=OuterRef("pk")).values("pk")
        ),
        member_count=SubqueryCount(Member.objects.filter(branch__unit=OuterRef("pk")).values("pk")),
    )


# --- Reads shared by the portal pages and the API ------------------------------------------


def unit_counts_in_scope(qs: QuerySet[Unit], user: User | None) -> QuerySet[Unit]:
    """Annotate organization and member counts *within the user's scope*.

    `selectors.unit_member_counts` counts the whole unit; a secretary of one branch would then
    see the size of branches they cannot open, and the unit's count would disagree with the
    member list filtered by that unit.
    """
    orgs = visible_organizations(user)
    members = visible_members(user)
    return qs.annotate(
        organization_count=SubqueryCount(orgs.filter(unit=OuterRef("pk")).values("pk")),
        member_count=SubqueryCount(members.filter(branch__unit=OuterRef("pk")).values("pk")),
    )


def organizations_for_display(user: User | None) -> QuerySet[Organization]:
    """Visible organizations with member counts, the current term, unit and secretary."""
    return with_current_term(with_member_counts(visible_organizations(user))).select_related(
        "unit", "secretary"
    )


def election_overdue(organization: Organization, today: datetime.date | None = None) -> bool:
    """Needs `election_due_on` (annotated by `selectors.with_current_term`)."""
    due = organization.election_due_on
    return due is not None and due < (today or timezone.localdate())


def structure_warnings(organization: Organization) -> list[str]:
    """Needs the counts annotated by `selectors.with_member_counts`; no query."""
    return branch_structure_warnings(
        organization.kind,
        organization.member_count,
        organization.full_member_count,
        organization.committee_size,
        has_secretary=organization.secretary_id is not None,
    )
