"""The stored counts: members, full members, committee and sub-organizations of every
organization, organizations and members of every unit.

What they mean (the definitions the pages always had):
- an organization's members are those whose branch lies in its subtree, and a group's its own
  (`MemberQuerySet.under`); full members are the FULL ones among them;
- its committee is its own members holding a committee duty (`COMMITTEE_DUTIES`);
- its children are the organizations whose parent it is;
- a unit's organizations are `OrganizationQuerySet.of_unit` (a joint committee under each of its
  units) and its members those whose branch is one of them.

How they are kept: `refresh_counts()` recomputes all of them from the members in one grouped
pass (13 ms of SQL for 20,000 members) and writes the rows that changed, inside the writer's
transaction, so the counts commit or roll back with the write; on PostgreSQL an advisory lock
held to the end of the transaction makes each refresh read what the one before it wrote.
Saving or deleting a member or an organization and changing a joint committee's units refresh
them (signals, `counts_changed`); code that writes many rows wraps them in `deferred()` (one
refresh at the end) and code that bypasses signals (`QuerySet.update`, `bulk_create`, COPY:
`branches.bulk.save_members`, the demo data) calls `refresh_counts()` itself. The daily beat
task `branches.refresh_counts` and every `migrate` repair anything that slipped by.

Why stored and not counted per page: a list sorted by members needs every organization's count
before the first row. Counted per request, that is a pass over every member in scope per page;
stored, it is a join on the primary key (bench/pages.py has the figures).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, connections, transaction
from django.db.models import Count, Q
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import (
    COMMITTEE_DUTIES,
    Member,
    MemberStatus,
    Organization,
    OrganizationCounts,
    Unit,
    UnitCounts,
)

# Serializes refreshes on PostgreSQL: each one reads after the previous one wrote, so a slow
# refresh never writes back numbers older than a faster one's.
ADVISORY_LOCK_KEY = 0x6A696775  # "jigu"

_state = threading.local()


def ancestor_ids(path: str) -> list[int]:
    """The ids along a tree path, the organization itself last ("/0000001/0000005/" → [1, 5])."""
    return [int(step) for step in path.strip("/").split("/") if step]


def compute_counts() -> tuple[dict[int, tuple[int, int, int, int]], dict[int, tuple[int, int]]]:
    """organization id → (members, full members, committee, children); unit id →
    (organizations, members). From the tables as they are now, in five queries."""
    organizations = list(Organization.objects.values_list("pk", "path", "parent_id", "unit_id"))
    joint = list(Organization.joint_units.through.objects.values_list("organization_id", "unit_id"))
    by_branch = (
        Member.objects.order_by()
        .values_list("branch_id")
        .annotate(
            members=Count("pk"),
            full=Count("pk", filter=Q(status=MemberStatus.FULL)),
            committee=Count("pk", filter=Q(duty__in=COMMITTEE_DUTIES)),
        )
    )
    by_group = (
        Member.objects.filter(group__isnull=False)
        .order_by()
        .values_list("group_id")
        .annotate(members=Count("pk"), full=Count("pk", filter=Q(status=MemberStatus.FULL)))
    )

    path_of = {pk: path for pk, path, _parent, _unit in organizations}
    members: dict[int, int] = defaultdict(int)
    full: dict[int, int] = defaultdict(int)
    committee: dict[int, int] = {}
    children: dict[int, int] = defaultdict(int)
    branch_members: dict[int, int] = {}
    for branch_id, n, n_full, n_committee in by_branch:
        branch_members[branch_id] = n
        committee[branch_id] = n_committee
        for pk in ancestor_ids(path_of[branch_id]):
            members[pk] += n
            full[pk] += n_full
    for group_id, n, n_full in by_group:
        members[group_id] += n
        full[group_id] += n_full
    for _pk, _path, parent_id, _unit in organizations:
        if parent_id is not None:
            children[parent_id] += 1

    units_of: dict[int, set[int]] = defaultdict(set)
    for pk, _path, _parent, unit_id in organizations:
        units_of[pk].add(unit_id)
    for pk, unit_id in joint:
        units_of[pk].add(unit_id)
    unit_organizations: dict[int, int] = defaultdict(int)
    unit_members: dict[int, int] = defaultdict(int)
    for pk, units in units_of.items():
        for unit_id in units:
            unit_organizations[unit_id] += 1
            unit_members[unit_id] += branch_members.get(pk, 0)

    organization_counts = {
        pk: (members[pk], full[pk], committee.get(pk, 0), children[pk])
        for pk, _path, _parent, _unit in organizations
    }
    unit_counts = {
        pk: (unit_organizations[pk], unit_members[pk])
        for pk in Unit.objects.values_list("pk", flat=True)
    }
    return organization_counts, unit_counts


def refresh_counts() -> int:
    """Recompute every stored count; write the rows that changed. Returns how many changed."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        organization_counts, unit_counts = compute_counts()
        stored_organizations = {
            row[0]: row[1:]
            for row in OrganizationCounts.objects.values_list(
                "organization_id", "members", "full_members", "committee", "children"
            )
        }
        stored_units = {
            row[0]: row[1:]
            for row in UnitCounts.objects.values_list("unit_id", "organizations", "members")
        }
        changed_organizations = [
            OrganizationCounts(
                organization_id=pk,
                members=values[0],
                full_members=values[1],
                committee=values[2],
                children=values[3],
            )
            for pk, values in organization_counts.items()
            if stored_organizations.get(pk) != values
        ]
        changed_units = [
            UnitCounts(unit_id=pk, organizations=values[0], members=values[1])
            for pk, values in unit_counts.items()
            if stored_units.get(pk) != values
        ]
        OrganizationCounts.objects.bulk_create(
            changed_organizations,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["organization"],
            update_fields=["members", "full_members", "committee", "children"],
        )
        UnitCounts.objects.bulk_create(
            changed_units,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["unit"],
            update_fields=["organizations", "members"],
        )
    return len(changed_organizations) + len(changed_units)


@contextmanager
def deferred() -> Iterator[None]:
    """Writes inside the block ask for no refresh each; one refresh runs at its end (when the
    block completes). For code that saves or deletes many rows through the ORM."""
    depth = getattr(_state, "depth", 0)
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth = depth
    if depth == 0:
        refresh_counts()


def counts_changed() -> None:
    """A member or organization was written: refresh now, inside the writer's transaction, so
    the counts commit (or roll back) with the write; inside `deferred()`, at its end."""
    if getattr(_state, "depth", 0) == 0:
        refresh_counts()


def _written(sender, **kwargs) -> None:
    counts_changed()


def _joint_units_changed(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        counts_changed()


def connect_signals() -> None:
    """Called from `BranchesConfig.ready`. `Organization.save` runs inside `deferred()`, so a
    move refreshes once its subtree's paths are carried along."""
    for model in (Member, Organization):
        post_save.connect(_written, sender=model, dispatch_uid=f"counts_save_{model.__name__}")
        post_delete.connect(_written, sender=model, dispatch_uid=f"counts_delete_{model.__name__}")
    m2m_changed.connect(
        _joint_units_changed,
        sender=Organization.joint_units.through,
        dispatch_uid="counts_joint_units",
    )


def refresh_after_migrate(sender, **kwargs) -> None:
    """post_migrate: counts are whole after every migrate (and the first one fills them)."""
    using = kwargs.get("using", "default")
    if OrganizationCounts._meta.db_table in connections[using].introspection.table_names():
        refresh_counts()
