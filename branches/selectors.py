"""Reads. Every query set of every door (admin, portal, API, downloads, tasks) starts here."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import access
from accounts.models import Role, User

from .counts import ancestor_ids
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
        return qs.subtree_of(_scope_root(user))
    if role == Role.INSPECTOR:
        joint = Organization.joint_units.through.objects.filter(unit__in=user.units.values("pk"))
        return qs.filter(
            Q(unit__in=user.units.values("pk")) | Q(pk__in=joint.values("organization_id"))
        )
    return qs.none()


def _scope_ids(user: User) -> list[int]:
    """The ids of the organizations the user sees, read first: for an inspector of some units
    or a subtree, a few hundred at most. As a subquery, an inspector's scope (ORs that
    PostgreSQL's planner cannot size) made it read every record or member of the table to join
    them (80–175 ms at province scale)."""
    return list(visible_organizations(user).values_list("pk", flat=True))


def within_scope(qs: QuerySet, user: User | None, field: str = "organization") -> QuerySet:
    """The rows of `qs` whose `field` is an organization the user sees: the one home of every
    scope derived from `visible_organizations` (records, pairings, problems...)."""
    if access.sees_whole_city(user):
        return qs
    if access.role_of(user) == Role.INSPECTOR:
        return qs.filter(**{f"{field}__in": _scope_ids(user)})
    return qs.filter(**{f"{field}__in": visible_organizations(user).values("pk")})


def visible_activity_records(user: User | None) -> QuerySet[ActivityRecord]:
    return within_scope(ActivityRecord.objects.all(), user)


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


def visible_members_in_parts(user: User | None) -> list[QuerySet[Member]]:
    """`visible_members(user)` as disjoint parts that an index serves each, for grouped counts:
    the members of visible branches, and those seen only through a visible group. One query
    with both (`branch IN … OR group IN …`) reads every member of the table."""
    if access.sees_whole_city(user):
        return [Member.objects.all()]
    # As a list of ids: a unit's or a subtree's worth. As a subquery (whose ORs the planner
    # cannot size), PostgreSQL hashes it and reads every member (62 ms at province scale).
    orgs = _scope_ids(user)
    return [
        Member.objects.filter(branch__in=orgs),
        Member.objects.filter(group__in=orgs).exclude(branch__in=orgs),
    ]


def _scope_root(user: User) -> Organization | int:
    """A secretary's organization: the instance when it came with the user (every request's
    user does: `accounts.backends`, the API's tokens), else its id (a subquery finds its path)."""
    if User.organization.is_cached(user):
        return user.organization
    return user.organization_id


def visible_members(user: User | None) -> QuerySet[Member]:
    """Members of the organizations the user sees (a group's members with their group)."""
    if access.sees_whole_city(user):
        return Member.objects.all()
    if access.role_of(user) == Role.SECRETARY and user.organization_id:
        root = _scope_root(user)
        if isinstance(root, Organization):
            # The same members, in a shape an index serves (the OR below read every member of
            # the table: 109 ms a count at province scale). A group in the subtree has its
            # branch in it too, unless the root is that group.
            if root.kind == OrganizationKind.GROUP:
                return Member.objects.filter(group=root)
            return Member.objects.filter(
                branch__in=Organization.objects.subtree_of(root).values("pk")
            )
    if access.role_of(user) == Role.INSPECTOR:
        orgs = _scope_ids(user)  # two index scans OR-ed, not every member read
    else:
        orgs = visible_organizations(user).values("pk")
    return Member.objects.filter(Q(branch__in=orgs) | Q(group__in=orgs))


class SubqueryCount(Subquery):
    """COUNT(*) over a correlated subquery: one column, no GROUP BY on the outer query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def with_member_counts(qs: QuerySet[Organization], user: User | None) -> QuerySet[Organization]:
    """Annotate member, full-member, committee and sub-organization counts (`branches.counts`).

    Counts are of what `user` may see, so a page never shows a number its lists cannot
    explain. Most users see whole subtrees, and the stored counts are theirs (a join on the
    primary key). The inspector of one unit of a joint committee sees the committee but not
    the other units' branches under it: for such organizations (a handful), the counts over
    what they see are computed here, in three small queries, and put in as literals, so the
    page still sorts and paginates in SQL.
    """
    scoped = _counts_within_partial_subtrees(user)
    return qs.annotate(
        member_count=_stored_or(F("counts__members"), scoped.members),
        full_member_count=_stored_or(F("counts__full_members"), scoped.full_members),
        committee_size=Coalesce(F("counts__committee"), 0),
        child_count=_stored_or(F("counts__children"), scoped.children),
    )


@dataclass
class _ScopedCounts:
    members: dict[int, int] = field(default_factory=dict)
    full_members: dict[int, int] = field(default_factory=dict)
    children: dict[int, int] = field(default_factory=dict)


def _stored_or(stored: F, overrides: dict[int, int], default: int | None = None) -> Expression:
    """The stored count, or the literal in `overrides` for the rows listed there (and
    `default` instead of the stored count when given)."""
    otherwise = Coalesce(stored, 0) if default is None else Value(default)
    if not overrides:
        return otherwise
    whens = [When(pk=pk, then=Value(n)) for pk, n in sorted(overrides.items())]
    return Case(*whens, default=otherwise, output_field=IntegerField())


def _counts_within_partial_subtrees(user: User | None) -> _ScopedCounts:
    """For the visible organizations with something invisible under them: their counts over
    what the user sees. Nothing to do for the whole city, a secretary (their scope is a whole
    subtree) or an inspector with no joint committee."""
    scoped = _ScopedCounts()
    if access.sees_whole_city(user) or access.role_of(user) == Role.SECRETARY:
        return scoped  # a secretary's scope is a subtree (`visible_organizations`)
    visible = visible_organizations(user)
    hidden_below = (
        Organization.objects.filter(parent__in=visible.values("pk"))
        .exclude(pk__in=visible.values("pk"))
        .values_list("path", flat=True)
    )
    above_hidden = {pk for path in hidden_below for pk in ancestor_ids(path)[:-1]}
    if not above_hidden:
        return scoped
    partial = list(visible.filter(pk__in=above_hidden).values_list("pk", "path"))
    if not partial:
        return scoped
    under_partial = Q(group__in=[pk for pk, _path in partial])
    for _pk, path in partial:
        under_partial |= Q(branch__path__startswith=path)
    rows = [
        row
        for part in visible_members_in_parts(user)
        for row in part.filter(under_partial)
        .order_by()
        .values_list("branch__path", "group_id")
        .annotate(n=Count("pk"), full=Count("pk", filter=Q(status=MemberStatus.FULL)))
    ]
    for pk, _path in partial:
        scoped.members[pk] = scoped.full_members[pk] = 0
    for branch_path, group_id, n, full in rows:
        for pk, path in partial:
            if branch_path.startswith(path) or group_id == pk:
                scoped.members[pk] += n
                scoped.full_members[pk] += full
    scoped.children = {pk: 0 for pk, _path in partial}
    children = (
        visible.filter(parent__in=[pk for pk, _path in partial])
        .order_by()
        .values_list("parent_id")
        .annotate(n=Count("pk"))
    )
    scoped.children.update(dict(children))
    return scoped


def with_current_term(qs: QuerySet[Organization]) -> QuerySet[Organization]:
    # One current term per organization (a constraint): no ordering needed.
    current = Term.objects.filter(organization=OuterRef("pk"), ended_on__isnull=True).order_by()
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
    same numbers as the organization and member lists filtered by that unit. The whole city
    reads the stored counts (`branches.counts`); anyone else's scope is a unit or a subtree,
    counted here in four small grouped queries and put in as literals.
    """
    if access.sees_whole_city(user):
        return qs.annotate(
            organization_count=Coalesce(F("counts__organizations"), 0),
            member_count=Coalesce(F("counts__members"), 0),
        )
    visible = visible_organizations(user)
    joint = Organization.joint_units.through.objects
    organizations: dict[int, int] = defaultdict(int)
    units_of: dict[int, set[int]] = defaultdict(set)
    for pk, unit_id in visible.values_list("pk", "unit_id"):
        units_of[pk].add(unit_id)
    for pk, unit_id in joint.filter(organization__in=visible.values("pk")).values_list(
        "organization_id", "unit_id"
    ):
        units_of[pk].add(unit_id)
    for units in units_of.values():
        for unit_id in units:
            organizations[unit_id] += 1

    by_branch: dict[int, int] = defaultdict(int)
    for part in visible_members_in_parts(user):
        for branch_id, n in part.order_by().values_list("branch_id").annotate(n=Count("pk")):
            by_branch[branch_id] += n
    branch_units: dict[int, set[int]] = defaultdict(set)
    for pk, unit_id in Organization.objects.filter(pk__in=list(by_branch)).values_list(
        "pk", "unit_id"
    ):
        branch_units[pk].add(unit_id)
    for pk, unit_id in joint.filter(organization__in=list(by_branch)).values_list(
        "organization_id", "unit_id"
    ):
        branch_units[pk].add(unit_id)
    members: dict[int, int] = defaultdict(int)
    for branch_id, n in by_branch.items():
        for unit_id in branch_units[branch_id]:
            members[unit_id] += n
    return qs.annotate(
        organization_count=_stored_or(F("counts__organizations"), organizations, default=0),
        member_count=_stored_or(F("counts__members"), members, default=0),
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


def units_with_top_organizations(
    user: User | None, today: datetime.date, units: QuerySet[Unit] | None = None
) -> list[Unit]:
    """The units in scope (or those of `units`, a page of them) with their counts, each with
    `top_organizations`: the organizations in scope whose parent is not (a joint committee
    under each of its units in the scope).

    Queries: units with counts, the ids of the top organizations of those units, those with
    counts and current term, and their joint units (prefetch); the counts may add a few
    (`unit_counts_in_scope`).
    """
    units = list(unit_counts_in_scope(visible_units(user) if units is None else units, user))
    unit_ids = [unit.pk for unit in units]
    of_these_units = Q(unit__in=unit_ids) | Q(
        pk__in=Organization.joint_units.through.objects.filter(unit__in=unit_ids).values(
            "organization_id"
        )
    )
    visible = visible_organizations(user)
    # The ids first: with the scope's ORs in the same query, the planner expects thousands of
    # rows and joins the secretaries by scanning every member (58 ms at province scale).
    top_ids = list(
        visible.filter(of_these_units)
        .exclude(parent__in=visible.values("pk"))
        .values_list("pk", flat=True)
    )
    tops = (
        organizations_for_display(user)
        .filter(pk__in=top_ids)
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
