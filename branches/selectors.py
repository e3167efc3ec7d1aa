"""Reads. Every query set of every door (admin, portal, API, downloads, tasks) starts here."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from accounts import access
from accounts.models import Role

from .models import (
    COMMITTEE_DUTIES,
    ActivityRecord,
    ActivityType,
    Attachment,
    AttendanceStatus,
    Member,
    MemberStatus,
    Organization,
    OrganizationKind,
    PartyDuty,
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
    - an inspector: the organizations that belong to their units, or all when they inspect
      the whole city. A joint committee (联合党委) belongs to each unit it spans, so the
      inspector of one of them sees the committee itself and, under it, only the
      organizations of their own units: the other units' branches are not theirs;
    - anybody else (anonymous, inactive): nothing.
    """
    qs = Organization.objects.all()
    role = access.role_of(user)
    if role is None:
        return qs.none()
    if access.sees_whole_city(user):
        return qs
    if role == Role.SECRETARY:
        if not user.organization_id:
            return qs.none()
        return qs.subtree_of(user.organization_id)
    if role == Role.INSPECTOR:
        joint = Organization.joint_units.through.objects.filter(unit__in=user.units.values("pk"))
        return qs.filter(
            Q(unit__in=user.units.values("pk")) | Q(pk__in=joint.values("organization_id"))
        )
    return qs.none()


def visible_activity_records(user: User | None) -> QuerySet[ActivityRecord]:
    return ActivityRecord.objects.filter(organization__in=visible_organizations(user).values("pk"))


def visible_attachments(user: User | None) -> QuerySet[Attachment]:
    return Attachment.objects.filter(record__in=visible_activity_records(user).values("pk"))


def visible_units(user: User | None) -> QuerySet[Unit]:
    """The units in the user's scope: an inspector's own units (not the other units of a
    joint committee they see); for a secretary, the units of the organizations they see."""
    if access.sees_whole_city(user):
        return Unit.objects.all()
    if access.role_of(user) == Role.INSPECTOR:
        return Unit.objects.filter(pk__in=user.units.values("pk"))
    return Unit.objects.filter(pk__in=visible_organizations(user).values("unit"))


def visible_members(user: User | None) -> QuerySet[Member]:
    """Members of the organizations the user sees (a group's members with their group)."""
    if access.sees_whole_city(user):
        return Member.objects.all()
    orgs = visible_organizations(user).values("pk")
    return Member.objects.filter(Q(branch__in=orgs) | Q(group__in=orgs))


class SubqueryCount(Subquery):
    """COUNT(*) over a correlated subquery: one column, no GROUP BY on the outer query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def with_member_counts(qs: QuerySet[Organization], user: User | None) -> QuerySet[Organization]:
    """Annotate member, full-member, committee and sub-organization counts, in one query.

    Counts are of what `user` may see, so a page never shows a number its lists cannot
    explain: a joint committee seen by the inspector of one of its units counts the members
    of that unit's branches, not the other unit's.
    """
    # A member counts for their branch and every organization above it; a group its own.
    members = visible_members(user).filter(
        Q(branch__path__startswith=OuterRef("path")) | Q(group=OuterRef("pk"))
    )
    return qs.annotate(
        member_count=SubqueryCount(members.values("pk")),
        full_member_count=SubqueryCount(members.filter(status=MemberStatus.FULL).values("pk")),
        committee_size=SubqueryCount(
            Member.objects.filter(branch=OuterRef("pk"), duty__in=COMMITTEE_DUTIES).values("pk")
        ),
        child_count=SubqueryCount(
            visible_organizations(user).filter(parent=OuterRef("pk")).values("pk")
        ),
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


def unit_counts_in_scope(qs: QuerySet[Unit], user: User | None) -> QuerySet[Unit]:
    """Annotate organization and member counts *within the user's scope*.

    An organization counts under every unit it belongs to (`Organization.objects.of_unit`:
    a joint committee under each of its units); a member under their branch's units. The
    same numbers as the organization and member lists filtered by that unit.
    """
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
    return qs.annotate(
        organization_count=SubqueryCount(
            visible_organizations(user).filter(of_outer_unit).values("pk")
        ),
        member_count=SubqueryCount(
            visible_members(user)
            .filter(branch__in=branches_of_outer_unit.values("pk"))
            .values("pk")
        ),
    )


def organizations_for_display(user: User | None) -> QuerySet[Organization]:
    """Visible organizations with member counts, the current term, unit and secretary."""
    return with_current_term(with_member_counts(visible_organizations(user), user)).select_related(
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


# --- Reads of the portal pages ---------------------------------------------------------------


def duty_rank(field: str = "duty") -> Case:
    """Officers first on a roster, in the order of the branch work regulations."""
    return Case(
        When(**{field: PartyDuty.SECRETARY}, then=Value(0)),
        When(**{field: PartyDuty.DEPUTY_SECRETARY}, then=Value(1)),
        When(**{field: PartyDuty.COMMITTEE_MEMBER}, then=Value(2)),
        When(**{field: PartyDuty.GROUP_LEADER}, then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )


def units_with_top_organizations(user: User | None, today: datetime.date) -> list[Unit]:
    """The units in scope with their counts, each with `top_organizations`: the organizations
    in scope whose parent is not (a joint committee under each of its units in the scope).

    Queries: units with counts, top organizations with counts and current term, and the
    joint units of those (prefetch).
    """
    units = list(unit_counts_in_scope(visible_units(user), user))
    tops = (
        organizations_for_display(user)
        .exclude(parent__in=visible_organizations(user).values("pk"))
        .prefetch_related("joint_units")
        .order_by("unit__sort_order", "unit__name", "path")
    )
    by_unit: dict[int, list[Organization]] = {unit.pk: [] for unit in units}
    for org in tops:
        org.election_overdue = election_overdue(org, today)
        for unit_id in [org.unit_id, *(u.pk for u in org.joint_units.all())]:
            if unit_id in by_unit:
                by_unit[unit_id].append(org)
    for unit in units:
        unit.top_organizations = by_unit[unit.pk]
    return units


def roster_of(user: User | None, organization: Organization) -> QuerySet[Member]:
    """The members of a branch (or a group's own) the user may see, officers first."""
    field = "group" if organization.kind == OrganizationKind.GROUP else "branch"
    return (
        visible_members(user)
        .filter(**{field: organization})
        .select_related("group")
        .annotate(duty_rank=duty_rank())
        .order_by("duty_rank", "member_no")
    )


def activity_types_for(organization: Organization) -> list[ActivityType]:
    """The activity types this kind of organization holds (a JSON list: filtered in Python,
    since SQLite has no JSON containment lookup)."""
    return [t for t in ActivityType.objects.all() if organization.kind in t.organization_kinds]


def attendee_pool(organization: Organization) -> list[Member]:
    """Everybody who may be expected at one of the organization's activities, officers
    first. The committee meeting's list is the part holding a committee duty."""
    everyone = ActivityType(committee_only=False)  # unsaved: only `committee_only` is read
    return list(
        expected_attendees(organization, everyone)
        .annotate(duty_rank=duty_rank())
        .order_by("duty_rank", "member_no")
        .only("pk", "name", "member_no", "duty")
    )


def expected_attendees(organization: Organization, activity_type: ActivityType) -> QuerySet[Member]:
    """Who is expected at an activity: the group's members for a group, the committee for a
    committee meeting, otherwise the branch's members."""
    if organization.kind == OrganizationKind.GROUP:
        members = Member.objects.filter(group=organization)
    else:
        members = Member.objects.filter(branch=organization)
    if activity_type.committee_only:
        members = members.filter(duty__in=COMMITTEE_DUTIES)
    return members


def records_under(user: User | None, organization: Organization) -> QuerySet[ActivityRecord]:
    """Records of the organization and of everything under it in scope, newest first, with
    their attachments counted in the same query."""
    return (
        visible_activity_records(user)
        .filter(organization__in=Organization.objects.subtree_of(organization).values("pk"))
        .select_related("organization")
        .annotate(
            attachment_count=SubqueryCount(
                Attachment.objects.filter(record=OuterRef("pk")).values("pk")
            )
        )
        .order_by("-date", "-pk")
    )


def attendance_by_status(record: ActivityRecord) -> dict[str, list[Member]]:
    """status -> the members, officers first (one query)."""
    by_status: dict[str, list[Member]] = {value: [] for value in AttendanceStatus.values}
    attendances = (
        record.attendances.select_related("member")
        .annotate(duty_rank=duty_rank("member__duty"))
        .order_by("duty_rank", "member__member_no")
    )
    for attendance in attendances:
        by_status.setdefault(attendance.status, []).append(attendance.member)
    return by_status
