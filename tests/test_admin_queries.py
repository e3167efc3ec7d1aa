"""Every admin page costs the same queries however many rows it shows.

The admins are read from `admin.site._registry`: a newly registered ModelAdmin is measured here
without anybody adding it, and fails until it has a row in ROWS below (or a reason in
NOT_MEASURED). For each one, as committee staff:

- the change list with a few rows and with many (3 against 30);
- the change page of one object with a few related rows (inline rows, many-to-many choices,
  whatever its page shows) and with many (3 against 55); an admin whose page shows nothing
  related is measured against a few and many rows of its table instead;
- the history page of an object with a few and many entries (simple_history's versions, or
  Django's log entries);
- no change page offers a drop-down of a table that grows with the city (members,
  organizations, accounts...): those are raw-id or autocomplete boxes.

Counts are compared small against large, never against a number: Django's change list has
its own count query, a page may read its choices once, and the selectors behind the counts may
change; what must not happen is a query per row.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.widgets import (
    AutocompleteMixin,
    ForeignKeyRawIdWidget,
    ManyToManyRawIdWidget,
    RelatedFieldWidgetWrapper,
)
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import TokenProxy

from accounts.models import Role, User
from branches.models import (
    ActivityRecord,
    ActivityType,
    Attachment,
    Attendance,
    ComplianceRule,
    Member,
    Organization,
    OrganizationKind,
    Term,
    Unit,
)
from reports.models import Bulletin, BulletinRow, BulletinUnitRow, LedgerExport
from tests.reminders import objects as reminder_objects

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

FEW, MANY = 3, 30  # rows of a change list
FEW_RELATED, MANY_RELATED = 3, 55  # related rows of a change page, history entries

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
LABELS = [model._meta.label for model, _ in REGISTRY]


# --- building rows in bulk -------------------------------------------------------------------


def _today() -> datetime.date:
    return timezone.localdate()


def bulk_units(numbers: range, prefix: str = "单位") -> list[Unit]:
    return Unit.objects.bulk_create(
        Unit(name=f"{prefix}{i}", short_name=f"{i}", sort_order=i) for i in numbers
    )


def bulk_organizations(
    numbers: range,
    parent: Organization | None,
    unit: Unit | list[Unit],
    kind: str = OrganizationKind.BRANCH,
    prefix: str = "Q",
) -> list[Organization]:
    """Organizations in bulk, their tree paths set as `Organization.save` sets them."""
    units = unit if isinstance(unit, list) else [unit] * len(numbers)
    made = Organization.objects.bulk_create(
        Organization(
            code=f"{prefix}{i}",
            name=f"{prefix}组织{i}",
            kind=kind,
            unit=u,
            parent=parent,
            path=f"/pending/{prefix}{i}/",
        )
        for i, u in zip(numbers, units, strict=True)
    )
    parent_path = parent.path if parent else "/"
    for org in made:
        org.path = Organization.build_path(parent_path, org.pk)
        org.depth = org.path.count("/") - 2
    Organization.objects.bulk_update(made, ["path", "depth"])
    return made


def bulk_members(numbers: range, branch: Organization, group: Organization | None = None):
    return Member.objects.bulk_create(
        Member(
            member_no=f"Q{i:05d}",
            name=f"党员{i}",
            sex="female" if i % 2 else "male",
            birth_date=datetime.date(1980 + i % 20, 1 + i % 12, 1),
            joined_on=datetime.date(2005, 7, 1),
            status="full",
            education="bachelor",
            branch=branch,
            group=group,
        )
        for i in numbers
    )


def bulk_users(numbers: range, organization: Organization, prefix: str = "user") -> list[User]:
    return User.objects.bulk_create(
        User(
            username=f"{prefix}{i}",
            first_name=f"{i}",
            last_name="王",
            role=Role.SECRETARY,
            organization=organization,
            password="!",
        )
        for i in numbers
    )


def bulk_activity_types(numbers: range) -> list[ActivityType]:
    return ActivityType.objects.bulk_create(
        ActivityType(
            code=f"type{i}",
            name=f"活动{i}",
            organization_kinds=[OrganizationKind.BRANCH],
            sort_order=100 + i,
        )
        for i in numbers
    )


def bulk_rules(numbers: range, activity_types: list[ActivityType]) -> list[ComplianceRule]:
    return ComplianceRule.objects.bulk_create(
        ComplianceRule(
            activity_type=activity_type,
            period="year",
            minimum_count=1,
            organization_kinds=[OrganizationKind.BRANCH],
            active_from=datetime.date(1900 + i, 1, 1),
            active_to=datetime.date(1900 + i, 12, 31),
            note=f"依据{i}",
        )
        for i, activity_type in zip(numbers, activity_types, strict=True)
    )


def _month(i: int) -> datetime.date:
    return datetime.date(1990 + i // 12, 1 + i % 12, 1)


def bulk_bulletins(numbers: range, built_by: User) -> list[Bulletin]:
    return Bulletin.objects.bulk_create(
        Bulletin(month=_month(i), built_at=timezone.now(), built_by=built_by, organization_count=i)
        for i in numbers
    )


def _beat_model(name: str):
    from django.apps import apps

    return apps.get_model("django_celery_beat", name)


def bulk_schedules(name: str, numbers: range) -> list:
    model = _beat_model(name)
    if name == "IntervalSchedule":
        rows = (model(every=i + 2, period="minutes") for i in numbers)
    elif name == "CrontabSchedule":
        rows = (
            model(minute=str(i % 60), hour=str(i % 24), day_of_month=str(1 + i % 28))
            for i in numbers
        )
    elif name == "SolarSchedule":
        rows = (model(event="sunrise", latitude=10 + i / 10, longitude=116.4) for i in numbers)
    elif name == "ClockedSchedule":
        rows = (
            model(
                clocked_time=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
                + datetime.timedelta(hours=i)
            )
            for i in numbers
        )
    else:
        raise ValueError(name)
    return model.objects.bulk_create(rows)


def bulk_periodic_tasks(numbers: range, schedules: list, field: str) -> list:
    model = _beat_model("PeriodicTask")
    return model.objects.bulk_create(
        model(
            name=f"任务{field}{i}",
            task="reports.remove_old_exports",
            one_off=field == "clocked",
            **{field: schedule},
        )
        for i, schedule in zip(numbers, schedules, strict=True)
    )


def bulk_axes(name: str, numbers: range) -> None:
    from django.apps import apps

    model = apps.get_model("axes", name)
    extra = {
        "AccessAttempt": {"failures_since_start": 3, "get_data": "", "post_data": ""},
        "AccessFailureLog": {"locked_out": False},
        "AccessLog": {},
    }[name]
    model.objects.bulk_create(
        model(
            username=f"user{i}",
            ip_address=f"10.0.{i // 250}.{i % 250 + 1}",
            user_agent="test",
            path_info="/portal/login/",
            attempt_time=timezone.now() - datetime.timedelta(minutes=i),
            **extra,
        )
        for i in numbers
    )


# --- what each admin is measured with ----------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """How to measure one admin.

    rows(cast, numbers): add rows of the model, one per number (unique values from it).
    subject(cast): the object whose change and history pages are opened.
    related(cast, obj, numbers): add rows the subject's change page shows, one per number;
        None: the page shows nothing related, and is measured against `rows` instead.
    """

    rows: Callable
    subject: Callable
    related: Callable | None = None


def _user_rows(cast, numbers):
    bulk_users(numbers, cast.tree.branch_a)


def _user_subject(cast):
    return cast.users["secretary_a"]


def _user_related(cast, user, numbers):
    units = bulk_units(numbers, prefix="用户单位")
    user.units.through.objects.bulk_create(
        user.units.through(user_id=user.pk, unit_id=u.pk) for u in units
    )
    groups = Group.objects.bulk_create(Group(name=f"组{i}") for i in numbers)
    user.groups.through.objects.bulk_create(
        user.groups.through(user_id=user.pk, group_id=g.pk) for g in groups
    )
    permissions = list(Permission.objects.order_by("pk")[numbers.start : numbers.stop])
    user.user_permissions.add(*permissions)


def _group_rows(cast, numbers):
    Group.objects.bulk_create(Group(name=f"组{i}") for i in numbers)


def _group_subject(cast):
    return Group.objects.create(name="组织科")


def _group_related(cast, group, numbers):
    permissions = list(Permission.objects.order_by("pk")[numbers.start : numbers.stop])
    group.permissions.add(*permissions)
    users = bulk_users(numbers, cast.tree.branch_a, prefix="组员")
    group.user_set.add(*users)


def _token_rows(cast, numbers):
    from rest_framework.authtoken.models import Token

    users = bulk_users(numbers, cast.tree.branch_a, prefix="token")
    Token.objects.bulk_create(Token(key=Token.generate_key(), user=u) for u in users)


def _token_subject(cast):
    from rest_framework.authtoken.models import Token, TokenProxy

    token = Token.objects.create(user=cast.users["secretary_a"])
    return TokenProxy.objects.get(pk=token.pk)


def _periodic_task_rows(cast, numbers):
    schedules = bulk_schedules("IntervalSchedule", numbers)
    bulk_periodic_tasks(numbers, schedules, "interval")


def _periodic_task_subject(cast):
    schedule = bulk_schedules("IntervalSchedule", range(1000, 1001))[0]
    return bulk_periodic_tasks(range(1000, 1001), [schedule], "interval")[0]


def _schedule(name: str, field: str) -> Rows:
    """A beat schedule: its page lists the tasks that use it."""

    def rows(cast, numbers):
        bulk_schedules(name, numbers)

    def subject(cast):
        return bulk_schedules(name, range(1000, 1001))[0]

    def related(cast, schedule, numbers):
        bulk_periodic_tasks(numbers, [schedule] * len(numbers), field)

    return Rows(rows, subject, related)


def _axes(name: str) -> Rows:
    def subject(cast):
        bulk_axes(name, range(5000, 5001))
        from django.apps import apps

        return apps.get_model("axes", name).objects.get(username="user5000")

    return Rows(lambda cast, numbers: bulk_axes(name, numbers), subject)


def _unit_rows(cast, numbers):
    units = bulk_units(numbers)
    committees = bulk_organizations(
        numbers, None, units, kind=OrganizationKind.COMMITTEE, prefix="UC"
    )
    for committee, i in zip(committees, numbers, strict=True):
        branch = bulk_organizations(range(i, i + 1), committee, committee.unit, prefix="UB")[0]
        bulk_members(range(10000 + i * 2, 10000 + i * 2 + 2), branch)


def _unit_related(cast, unit, numbers):
    branches = bulk_organizations(numbers, cast.tree.committee_a, unit)
    for branch, i in zip(branches, numbers, strict=True):
        bulk_members(range(20000 + i, 20001 + i), branch)
    joint = bulk_organizations(
        numbers, None, cast.tree.unit_b, kind=OrganizationKind.COMMITTEE, prefix="J"
    )
    Organization.joint_units.through.objects.bulk_create(
        Organization.joint_units.through(organization_id=o.pk, unit_id=unit.pk) for o in joint
    )


def _organization_rows(cast, numbers):
    branches = bulk_organizations(numbers, cast.tree.committee_b, cast.tree.unit_b)
    for branch, i in zip(branches, numbers, strict=True):
        bulk_members(range(30000 + i, 30001 + i), branch)
    bulk_terms(numbers, branches)


def bulk_terms(numbers: range, organizations: list[Organization], ended: bool = False):
    terms = []
    for i, organization in zip(numbers, organizations, strict=True):
        started = datetime.date(2000, 1, 1) + datetime.timedelta(days=40 * i)
        terms.append(
            Term(
                organization=organization,
                started_on=started,
                length_years=3,
                due_on=Term.compute_due_on(started, 3, 0),
                ended_on=started + datetime.timedelta(days=30) if ended else None,
            )
        )
    return Term.objects.bulk_create(terms)


def _organization_related(cast, organization, numbers):
    # Past terms (the inline), other units (a joint committee), members, groups under it.
    bulk_terms(numbers, [organization] * len(numbers), ended=True)
    units = bulk_units(numbers, prefix="联合单位")
    organization.joint_units.through.objects.bulk_create(
        organization.joint_units.through(organization_id=organization.pk, unit_id=u.pk)
        for u in units
    )
    bulk_members(range(40000 + numbers.start, 40000 + numbers.stop), organization)
    bulk_organizations(
        numbers, organization, organization.unit, kind=OrganizationKind.GROUP, prefix="G"
    )


def _term_rows(cast, numbers):
    branches = bulk_organizations(numbers, cast.tree.committee_b, cast.tree.unit_b, prefix="T")
    bulk_terms(numbers, branches)


def _term_subject(cast):
    return bulk_terms(range(1), [cast.tree.branch_a])[0]


def _member_rows(cast, numbers):
    bulk_members(numbers, cast.tree.branch_a, group=cast.tree.group_a)


def _activity_type_rows(cast, numbers):
    bulk_activity_types(numbers)


def _activity_type_subject(cast):
    return bulk_activity_types(range(1000, 1001))[0]


def _activity_type_related(cast, activity_type, numbers):
    bulk_rules(numbers, [activity_type] * len(numbers))


def _rule_rows(cast, numbers):
    bulk_rules(numbers, bulk_activity_types(numbers))


def _rule_subject(cast):
    return ComplianceRule.objects.filter(activity_type=cast.activity_types["theme_day"]).first()


def bulk_records(numbers: range, organization: Organization, activity_type, filed_by: User):
    today = _today()
    return ActivityRecord.objects.bulk_create(
        ActivityRecord(
            organization=organization,
            activity_type=activity_type,
            type_name=activity_type.name,
            date=today - datetime.timedelta(days=i + 1),
            topic=f"学习{i}",
            filed_by=filed_by,
            present_count=i,
            absent_count=1,
        )
        for i in numbers
    )


def _record_rows(cast, numbers):
    bulk_records(
        numbers, cast.tree.branch_a, cast.activity_types["theme_day"], cast.users["secretary_a"]
    )


def _record_subject(cast):
    return bulk_records(
        range(500, 501), cast.tree.branch_a, cast.activity_types["theme_day"], cast.users["staff"]
    )[0]


def _record_related(cast, record, numbers):
    members = bulk_members(range(50000 + numbers.start, 50000 + numbers.stop), record.organization)
    Attendance.objects.bulk_create(
        Attendance(record=record, member=m, status="present") for m in members
    )
    Attachment.objects.bulk_create(
        Attachment(
            record=record,
            file=f"activity/test/{record.pk}/{i}.jpg",
            original_name=f"合影{i}.jpg",
            content_type="image/jpeg",
            size=1000 + i,
        )
        for i in numbers
    )


def _bulletin_rows(cast, numbers):
    bulk_bulletins(numbers, cast.users["staff"])


def _bulletin_subject(cast):
    return bulk_bulletins(range(1000, 1001), cast.users["staff"])[0]


def _bulletin_related(cast, bulletin, numbers):
    units = bulk_units(numbers, prefix="通报单位")
    BulletinUnitRow.objects.bulk_create(
        BulletinUnitRow(
            bulletin=bulletin,
            unit=u,
            unit_name=u.name,
            rank=i + 1,
            organization_count=i,
            compliant_count=i,
            owed=i,
            held=i,
            compliance_rate=1,
        )
        for i, u in zip(numbers, units, strict=True)
    )


def bulk_bulletin_rows(numbers: range, bulletins: list[Bulletin], cast) -> list[BulletinRow]:
    tree = cast.tree
    return BulletinRow.objects.bulk_create(
        BulletinRow(
            bulletin=bulletin,
            organization=tree.branch_a,
            unit=tree.unit_a,
            organization_name=f"组织{i}",
            organization_code=f"C{i}",
            organization_kind=OrganizationKind.BRANCH,
            unit_name=tree.unit_a.name,
            owed=2,
            held=1,
            missing=1,
            missing_detail="主题党日",
        )
        for i, bulletin in zip(numbers, bulletins, strict=True)
    )


def _bulletin_row_rows(cast, numbers):
    bulk_bulletin_rows(numbers, bulk_bulletins(numbers, cast.users["staff"]), cast)


def _bulletin_row_subject(cast):
    bulletin = bulk_bulletins(range(1000, 1001), cast.users["staff"])[0]
    return bulk_bulletin_rows(range(1), [bulletin], cast)[0]


def _export_rows(cast, numbers):
    owners = bulk_users(numbers, cast.tree.branch_a, prefix="owner")
    LedgerExport.objects.bulk_create(
        LedgerExport(owner=owner, ledger="members", status="failed", error="boom")
        for owner in owners
    )


def _export_subject(cast):
    return LedgerExport.objects.create(owner=cast.users["staff"], ledger="members", status="failed")


# --- pairings -----------------------------------------------------------------------------------


def _scheme(code: str = "village_support"):
    """A seeded scheme ("挂钩帮扶": no limit per organization or partner)."""
    from pairings.defaults import seed_schemes
    from pairings.models import Scheme

    seed_schemes(Scheme)
    return Scheme.objects.get(code=code)


def bulk_partners(numbers: range, prefix: str = "村"):
    from pairings.models import PartnerOrganization

    return PartnerOrganization.objects.bulk_create(
        PartnerOrganization(name=f"{prefix}{i}", kind="village", town=f"镇{i % 7}") for i in numbers
    )


def bulk_pairings(organizations: list[Organization], partners: list, scheme=None) -> list:
    from pairings.models import Pairing

    scheme = scheme or _scheme()
    return Pairing.objects.bulk_create(
        Pairing(
            scheme=scheme,
            organization=organization,
            partner=partner,
            started_on=datetime.date(2025, 1, 1),
            override_reason="试点" if i % 3 == 0 else "",
        )
        for i, (organization, partner) in enumerate(zip(organizations, partners, strict=True))
    )


def _pairing_subject(cast):
    partner = bulk_partners(range(9000, 9001), prefix="结对")[0]
    return bulk_pairings([cast.tree.branch_a], [partner])[0]


def _partner_rows(cast, numbers):
    partners = bulk_partners(numbers)
    bulk_pairings([cast.tree.branch_a2] * len(partners), partners)


def _partner_related(cast, partner, numbers):
    # The partner's page lists its pairings: one organization each.
    branches = bulk_organizations(numbers, cast.tree.committee_b, cast.tree.unit_b, prefix="P")
    bulk_pairings(branches, [partner] * len(branches))


def _scheme_rows(cast, numbers):
    from pairings.models import Scheme

    Scheme.objects.bulk_create(
        Scheme(
            code=f"scheme{i}",
            name=f"方案{i}",
            organization_kinds=["branch"],
            partner_kinds=["village"],
            max_organizations_per_partner=1 + i % 3,
            max_partners_per_organization=i % 2 or None,
            min_projects_per_organization=i % 2,
            member_pairs=bool(i % 2),
            sort_order=100 + i,
        )
        for i in numbers
    )


def _pairing_rows(cast, numbers):
    pairings = bulk_pairings([cast.tree.branch_a2] * len(numbers), bulk_partners(numbers))
    bulk_help([p for p in pairings for _ in range(2)], range(len(pairings) * 2))
    bulk_needs(pairings, numbers)


def bulk_needs(pairings: list, numbers: range) -> list:
    from pairings.models import Need

    return Need.objects.bulk_create(
        Need(
            pairing=pairing,
            description=f"需求{i}",
            found_on=datetime.date(2025, 2, 1),
            met_on=datetime.date(2025, 3, 1) if i % 2 else None,
        )
        for i, pairing in zip(numbers, pairings, strict=True)
    )


def _need_rows(cast, numbers):
    pairings = bulk_pairings([cast.tree.branch_a2] * len(numbers), bulk_partners(numbers))
    bulk_needs(pairings, numbers)


def _need_subject(cast):
    return bulk_needs([_pairing_subject(cast)], range(1))[0]


def _need_related(cast, need, numbers):
    from pairings.models import Measure

    Measure.objects.bulk_create(Measure(need=need, description=f"措施{i}") for i in numbers)


def bulk_projects(pairings: list, numbers: range) -> list:
    from pairings.models import Project

    return Project.objects.bulk_create(
        Project(
            pairing=pairing,
            name=f"项目{i}",
            budget=i * 100,
            started_on=datetime.date(2025, 1, 1),
            due_on=datetime.date(2025, 12, 31),
        )
        for i, pairing in zip(numbers, pairings, strict=True)
    )


def _project_rows(cast, numbers):
    pairings = bulk_pairings([cast.tree.branch_a2] * len(numbers), bulk_partners(numbers))
    bulk_projects(pairings, numbers)


def _project_subject(cast):
    return bulk_projects([_pairing_subject(cast)], range(1))[0]


def _project_related(cast, project, numbers):
    from pairings.models import Milestone

    Milestone.objects.bulk_create(
        Milestone(project=project, name=f"节点{i}", due_on=datetime.date(2025, 6, 1 + i % 28))
        for i in numbers
    )


def bulk_help(pairings: list, numbers: range, filed_by: User | None = None) -> list:
    from pairings.models import HelpRecord

    kinds = ["visit", "funds", "goods"]
    return HelpRecord.objects.bulk_create(
        HelpRecord(
            pairing=pairing,
            kind=kinds[i % 3],
            date=datetime.date(2025, 1, 1) + datetime.timedelta(days=i),
            description=f"帮扶{i}",
            amount=100 + i if i % 3 == 1 else None,
            item="棉被" if i % 3 == 2 else "",
            quantity=i + 1 if i % 3 == 2 else None,
            unit_of_measure="床" if i % 3 == 2 else "",
            value=i * 10 if i % 3 == 2 else None,
            filed_by=filed_by,
        )
        for i, pairing in zip(numbers, pairings, strict=True)
    )


def _help_rows(cast, numbers):
    pairings = bulk_pairings([cast.tree.branch_a2] * len(numbers), bulk_partners(numbers))
    bulk_help(pairings, numbers, cast.users["secretary_a"])


def _help_subject(cast):
    return bulk_help([_pairing_subject(cast)], range(3, 4), cast.users["secretary_a"])[0]


def _help_related(cast, record, numbers):
    from pairings.models import HelpPhoto

    HelpPhoto.objects.bulk_create(
        HelpPhoto(
            help_record=record,
            file=f"help/{i}.png",
            original_name=f"照片{i}.png",
            content_type="image/png",
            size=1,
        )
        for i in numbers
    )
    members = bulk_members(range(50000 + numbers.start, 50000 + numbers.stop), cast.tree.branch_a)
    record.participants.add(*members)


def _member_pair_rows(cast, numbers):
    from pairings.models import MemberPair, Pairing

    # The pairs of one pairing (made with the first rows, found again for the next).
    pairing = Pairing.objects.filter(partner__name="结对9000").first() or _pairing_subject(cast)
    members = bulk_members(range(60000 + numbers.start, 60000 + numbers.stop), cast.tree.branch_a)
    return MemberPair.objects.bulk_create(
        MemberPair(
            pairing=pairing,
            member=member,
            counterpart_kind="key_household",
            counterpart_name=f"户主{i}",
            started_on=datetime.date(2025, 2, 1),
        )
        for i, member in zip(numbers, members, strict=True)
    )


def _member_pair_subject(cast):
    return _member_pair_rows(cast, range(9000, 9001))[0]


# --- evaluations --------------------------------------------------------------------------------


def bulk_programs(numbers: range, seeded: bool = False) -> list:
    """Programs whose window opens in a year (criteria not frozen); `seeded`: with the standard
    criteria and the four stages."""
    from evaluations.defaults import seed_program
    from evaluations.models import Criterion, Program, Stage

    opens = _today() + datetime.timedelta(days=365)
    made = Program.objects.bulk_create(
        Program(
            name=f"评选{i}",
            kind="five_star",
            year=2000 + i % 100,
            opens_on=opens,
            closes_on=opens + datetime.timedelta(days=30),
            title=f"称号{i}",
        )
        for i in numbers
    )
    if seeded:
        for program in made:
            seed_program(program, Criterion, Stage)
    return made


def _evaluation_program(cast):
    """One seeded program (made with the first rows, found again for the next)."""
    from evaluations.models import Program

    return (
        Program.objects.filter(name="评选9000").first()
        or bulk_programs(range(9000, 9001), seeded=True)[0]
    )


def bulk_applications(numbers: range, cast, prefix: str = "EV") -> list:
    """Applications of new branches, under review at the first stage, each scored once."""
    from evaluations.models import Application, ReviewSheet

    program = _evaluation_program(cast)
    stage = program.stages.order_by("order").first()
    branches = bulk_organizations(numbers, cast.tree.committee_b, cast.tree.unit_b, prefix=prefix)
    made = Application.objects.bulk_create(
        Application(
            program=program,
            organization=branch,
            status="under_review",
            stage=stage,
            nominated=True,
            submitted_at=timezone.now(),
        )
        for branch in branches
    )
    ReviewSheet.objects.bulk_create(
        ReviewSheet(
            application=a,
            stage=stage,
            reviewer=cast.users["staff"],
            total=80 + i % 20,
            submitted_at=timezone.now(),
        )
        for i, a in enumerate(made)
    )
    return made


def _application_subject(cast):
    return bulk_applications(range(9000, 9001), cast, prefix="EVS")[0]


def _application_related(cast, application, numbers):
    """Its self-assessments (of as many criteria), review sheets with their scores, files."""
    from evaluations.models import (
        ApplicationAttachment,
        Criterion,
        ReviewSheet,
        Score,
        SelfAssessment,
    )

    criteria = Criterion.objects.bulk_create(
        Criterion(
            program=application.program,
            organization_kind="branch",
            name=f"标准{i}",
            max_score=10,
            sort_order=100 + i,
        )
        for i in numbers
    )
    SelfAssessment.objects.bulk_create(
        SelfAssessment(application=application, criterion=c, score=8, evidence=f"依据{c.pk}")
        for c in criteria
    )
    reviewers = bulk_users(numbers, cast.tree.branch_b, prefix="评委")
    sheets = ReviewSheet.objects.bulk_create(
        ReviewSheet(
            application=application,
            stage=application.stage,
            reviewer=reviewer,
            total=85,
            submitted_at=timezone.now(),
        )
        for reviewer in reviewers
    )
    Score.objects.bulk_create(
        Score(sheet=sheet, criterion=criterion, score=9)
        for sheet, criterion in zip(sheets, criteria, strict=True)
    )
    ApplicationAttachment.objects.bulk_create(
        ApplicationAttachment(
            application=application,
            file=f"applications/test/{i}.pdf",
            original_name=f"材料{i}.pdf",
            content_type="application/pdf",
            size=1000 + i,
        )
        for i in numbers
    )


def _program_related(cast, program, numbers):
    """Criteria and stages inline, and reviewers in the autocomplete box."""
    from evaluations.models import Criterion, Stage

    Criterion.objects.bulk_create(
        Criterion(
            program=program,
            organization_kind="branch",
            name=f"标准{i}",
            max_score=10,
            sort_order=100 + i,
        )
        for i in numbers
    )
    Stage.objects.bulk_create(
        Stage(program=program, kind="field_visit", name=f"环节{i}", order=100 + i) for i in numbers
    )
    reviewers = bulk_users(numbers, cast.tree.branch_b, prefix="评审")
    program.reviewers.add(*reviewers)


def bulk_designations(numbers: range, cast, prefix: str = "DS") -> list:
    from evaluations.models import Designation

    program = _evaluation_program(cast)
    branches = bulk_organizations(numbers, cast.tree.committee_b, cast.tree.unit_b, prefix=prefix)
    return Designation.objects.bulk_create(
        Designation(
            program=program,
            organization=branch,
            title=program.title,
            awarded_on=datetime.date(2024, 12, 1),
            valid_until=datetime.date(2027, 12, 1) + datetime.timedelta(days=i),
        )
        for i, branch in zip(numbers, branches, strict=True)
    )


def bulk_re_reviews(numbers: range, designation, decided_by: User) -> list:
    from evaluations.models import ReReview

    return ReReview.objects.bulk_create(
        ReReview(
            designation=designation,
            due_on=designation.valid_until,
            outcome="kept",
            reason=f"复查合格{i}",
            decided_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=i),
            decided_by=decided_by,
        )
        for i in numbers
    )


def _designation_rows(cast, numbers):
    designations = bulk_designations(numbers, cast)
    for designation in designations:
        bulk_re_reviews(range(2), designation, cast.users["staff"])


def _designation_subject(cast):
    return bulk_designations(range(9000, 9001), cast, prefix="DSS")[0]


def _re_review_rows(cast, numbers):
    designation = _designation_subject_once(cast)
    bulk_re_reviews(numbers, designation, cast.users["staff"])


def _designation_subject_once(cast):
    from evaluations.models import Designation

    found = Designation.objects.filter(organization__code="DSS9000").first()
    return found or _designation_subject(cast)


def _re_review_subject(cast):
    return bulk_re_reviews(range(9000, 9001), _designation_subject_once(cast), cast.users["staff"])[
        0
    ]


# --- campaigns ----------------------------------------------------------------------------------


def bulk_campaigns(numbers: range, prefix: str = "专项") -> list:
    from campaigns.models import Campaign

    return Campaign.objects.bulk_create(
        Campaign(
            name=f"{prefix}{i}",
            kind="inspection",
            starts_on=datetime.date(2000 + i % 50, 1, 1),
            ends_on=datetime.date(2000 + i % 50, 12, 31),
        )
        for i in numbers
    )


def _campaign_subject(cast):
    """One campaign (made with the first rows, found again for the next)."""
    from campaigns.models import Campaign

    return Campaign.objects.filter(name="专项9000").first() or bulk_campaigns(range(9000, 9001))[0]


def bulk_groups(numbers: range, campaign, members: list[User] = ()) -> list:
    from campaigns.models import InspectionGroup

    groups = InspectionGroup.objects.bulk_create(
        InspectionGroup(campaign=campaign, name=f"督导组{i}", towns=f"镇{i}") for i in numbers
    )
    through = InspectionGroup.members.through
    through.objects.bulk_create(
        through(inspectiongroup_id=g.pk, user_id=u.pk) for g in groups for u in members
    )
    return groups


def bulk_problems(numbers: range, organizations: list[Organization], group=None, report=None):
    """Problems, half of them past their deadline, each with its history: recorded, answered,
    sent back."""
    from campaigns.models import Problem, ProblemEvent, Rectification

    today = _today()
    made = Problem.objects.bulk_create(
        Problem(
            organization=organization,
            group=group,
            annual_report=report,
            category="组织生活",
            description=f"问题{i}",
            found_on=today - datetime.timedelta(days=40),
            deadline=today + datetime.timedelta(days=10 if i % 2 else -10),
            state="sent_back",
        )
        for i, organization in zip(numbers, organizations, strict=True)
    )
    ProblemEvent.objects.bulk_create(
        ProblemEvent(problem=p, from_state=f, to_state=t)
        for p in made
        for f, t in (("", "open"), ("open", "submitted"), ("submitted", "sent_back"))
    )
    Rectification.objects.bulk_create(Rectification(problem=p, measures="整改") for p in made)
    return made


def _group_subject_campaign(cast):
    from campaigns.models import InspectionGroup

    found = InspectionGroup.objects.filter(name="督导组9000").first()
    return (
        found or bulk_groups(range(9000, 9001), _campaign_subject(cast), [cast.users["staff"]])[0]
    )


def _campaign_rows(cast, numbers):
    from campaigns.models import KeyTask, Target

    campaigns = bulk_campaigns(numbers)
    Target.objects.bulk_create(
        Target(campaign=c, indicator="指标", unit_of_measure="个", goal=10) for c in campaigns
    )
    KeyTask.objects.bulk_create(KeyTask(campaign=c, title="任务") for c in campaigns)
    for campaign, i in zip(campaigns, numbers, strict=True):
        group = bulk_groups(range(i, i + 1), campaign)[0]
        bulk_problems(range(i, i + 1), [cast.tree.branch_a], group)


def _campaign_related(cast, campaign, numbers):
    """Targets (one counted live), teams, batches and key tasks."""
    from campaigns.models import KeyTask, Target, VolunteerBatch, VolunteerTeam

    Target.objects.bulk_create(
        Target(
            campaign=campaign,
            indicator=f"指标{i}",
            unit_of_measure="个",
            goal=i + 1,
            source="members_registered" if i == 0 else "manual",
            sort_order=i,
        )
        for i in numbers
    )
    VolunteerTeam.objects.bulk_create(
        VolunteerTeam(campaign=campaign, name=f"队{i}") for i in numbers
    )
    VolunteerBatch.objects.bulk_create(
        VolunteerBatch(
            campaign=campaign,
            number=i + 1,
            place=f"地点{i}",
            starts_on=datetime.date(2025, 1, 1),
            ends_on=datetime.date(2025, 1, 2),
        )
        for i in numbers
    )
    KeyTask.objects.bulk_create(KeyTask(campaign=campaign, title=f"任务{i}") for i in numbers)


def _inspection_group_rows(cast, numbers):
    campaign = _campaign_subject(cast)
    groups = bulk_groups(numbers, campaign, [cast.users["staff"], cast.users["inspector_a"]])
    for group in groups:
        group.units.add(cast.tree.unit_a)
    for group, i in zip(groups, numbers, strict=True):
        bulk_problems(range(i, i + 1), [cast.tree.branch_a], group)


def _inspection_group_related(cast, group, numbers):
    """Visit logs inline, members and units in autocomplete boxes."""
    from campaigns.models import VisitLog

    VisitLog.objects.bulk_create(
        VisitLog(group=group, date=datetime.date(2025, 3, 1), method="look", place=f"地点{i}")
        for i in numbers
    )
    users = bulk_users(numbers, cast.tree.branch_a, prefix="督导")
    User.objects.filter(pk__in=[u.pk for u in users]).update(role=Role.INSPECTOR)
    group.members.add(*users)
    group.units.add(*bulk_units(numbers, prefix="督导单位"))


def _problem_rows(cast, numbers):
    group = _group_subject_campaign(cast)
    branches = bulk_organizations(numbers, cast.tree.committee_b, cast.tree.unit_b, prefix="PR")
    bulk_problems(numbers, branches, group)


def _problem_subject(cast):
    return bulk_problems(range(9000, 9001), [cast.tree.branch_a], _group_subject_campaign(cast))[0]


def _problem_related(cast, problem, numbers):
    """Its history and answers (each answer with a photo)."""
    from campaigns.models import ProblemEvent, Rectification, RectificationPhoto

    by = bulk_users(numbers, cast.tree.branch_a, prefix="经办")
    ProblemEvent.objects.bulk_create(
        ProblemEvent(problem=problem, from_state="sent_back", to_state="submitted", by=u)
        for u in by
    )
    answers = Rectification.objects.bulk_create(
        Rectification(problem=problem, measures=f"整改{i}", submitted_by=u)
        for i, u in zip(numbers, by, strict=True)
    )
    RectificationPhoto.objects.bulk_create(
        RectificationPhoto(
            answer=a,
            file=f"rectification/{problem.pk}/{i}.jpg",
            original_name=f"照片{i}.jpg",
            content_type="image/jpeg",
            size=1,
        )
        for i, a in zip(numbers, answers, strict=True)
    )


def bulk_reports(numbers: range, organizations: list[Organization]) -> list:
    from campaigns.models import AnnualReport

    return AnnualReport.objects.bulk_create(
        AnnualReport(organization=o, year=2000 + i % 50, report=f"述职{i}", assessment="good")
        for i, o in zip(numbers, organizations, strict=True)
    )


def _report_rows(cast, numbers):
    branches = bulk_organizations(numbers, cast.tree.committee_b, cast.tree.unit_b, prefix="AR")
    reports = bulk_reports(numbers, branches)
    for report, i in zip(reports, numbers, strict=True):
        bulk_problems(range(i, i + 1), [report.organization], report=report)


def _report_subject(cast):
    from campaigns.models import AnnualReport

    found = AnnualReport.objects.filter(organization=cast.tree.branch_a, year=2025).first()
    return found or bulk_reports(range(25, 26), [cast.tree.branch_a])[0]


def _report_related(cast, report, numbers):
    bulk_problems(numbers, [report.organization] * len(numbers), report=report)


def _key_task_rows(cast, numbers):
    from campaigns.models import KeyMeasure, KeyTask

    tasks = KeyTask.objects.bulk_create(
        KeyTask(campaign=_campaign_subject(cast), title=f"任务{i}", sort_order=i) for i in numbers
    )
    KeyMeasure.objects.bulk_create(
        KeyMeasure(
            task=t,
            description="措施",
            organization=cast.tree.branch_a,
            deadline=datetime.date(2025, 1, 1),
        )
        for t in tasks
    )


def _key_task_subject(cast):
    from campaigns.models import KeyTask

    return KeyTask.objects.create(campaign=_campaign_subject(cast), title="规范组织生活")


def _key_task_related(cast, task, numbers):
    """Measures inline, each of its own organization (a raw-id box labelled from the row)."""
    from campaigns.models import KeyMeasure

    branches = bulk_organizations(numbers, cast.tree.committee_b, cast.tree.unit_b, prefix="KM")
    KeyMeasure.objects.bulk_create(
        KeyMeasure(
            task=task,
            description=f"措施{i}",
            organization=o,
            deadline=datetime.date(2025, 1, 1),
            done_on=datetime.date(2025, 1, 2) if i % 2 else None,
        )
        for i, o in zip(numbers, branches, strict=True)
    )


def bulk_participations(numbers: range, organizations: list[Organization], campaign, by: User):
    from decimal import Decimal

    from campaigns.models import Participation, ParticipationGoods

    made = Participation.objects.bulk_create(
        Participation(
            campaign=campaign, organization=o, members=i, money=Decimal("0.10"), filed_by=by
        )
        for i, o in zip(numbers, organizations, strict=True)
    )
    ParticipationGoods.objects.bulk_create(
        ParticipationGoods(
            participation=p, item="棉被", quantity=1, unit_of_measure="床", value=Decimal("0.20")
        )
        for p in made
    )
    return made


def _participation_rows(cast, numbers):
    branches = bulk_organizations(numbers, cast.tree.committee_b, cast.tree.unit_b, prefix="PA")
    bulk_participations(numbers, branches, _campaign_subject(cast), cast.users["secretary_a"])


def _participation_subject(cast):
    return bulk_participations(
        range(1), [cast.tree.branch_a], _campaign_subject(cast), cast.users["secretary_a"]
    )[0]


def _participation_related(cast, participation, numbers):
    from decimal import Decimal

    from campaigns.models import ParticipationGoods

    ParticipationGoods.objects.bulk_create(
        ParticipationGoods(
            participation=participation,
            item=f"物资{i}",
            quantity=1,
            unit_of_measure="件",
            value=Decimal("1.10"),
        )
        for i in numbers
    )


def _volunteers(cast, numbers):
    """A team and as many batches of the subject campaign."""
    from campaigns.models import VolunteerBatch, VolunteerTeam

    campaign = _campaign_subject(cast)
    team, _created = VolunteerTeam.objects.get_or_create(campaign=campaign, name="志愿队")
    batches = VolunteerBatch.objects.bulk_create(
        VolunteerBatch(
            campaign=campaign,
            number=100 + i,
            place=f"地点{i}",
            starts_on=datetime.date(2025, 1, 1),
            ends_on=datetime.date(2025, 1, 2),
        )
        for i in numbers
    )
    return team, batches


def _deployment_rows(cast, numbers):
    from campaigns.models import Deployment

    team, batches = _volunteers(cast, numbers)
    members = bulk_members(range(70000 + numbers.start, 70000 + numbers.stop), cast.tree.branch_a)
    Deployment.objects.bulk_create(
        Deployment(batch=b, team=team, member=m) for b, m in zip(batches, members, strict=True)
    )


def _deployment_subject(cast):
    from campaigns.models import Deployment

    team, batches = _volunteers(cast, range(9000, 9001))
    return Deployment.objects.create(batch=batches[0], team=team, member=cast.tree.members["a1"])


ROWS: dict[str, Rows] = {
    "accounts.User": Rows(_user_rows, _user_subject, _user_related),
    "auth.Group": Rows(_group_rows, _group_subject, _group_related),
    "authtoken.TokenProxy": Rows(_token_rows, _token_subject),
    "axes.AccessAttempt": _axes("AccessAttempt"),
    "axes.AccessFailureLog": _axes("AccessFailureLog"),
    "axes.AccessLog": _axes("AccessLog"),
    "django_celery_beat.PeriodicTask": Rows(_periodic_task_rows, _periodic_task_subject),
    "django_celery_beat.ClockedSchedule": _schedule("ClockedSchedule", "clocked"),
    "django_celery_beat.CrontabSchedule": _schedule("CrontabSchedule", "crontab"),
    "django_celery_beat.IntervalSchedule": _schedule("IntervalSchedule", "interval"),
    "django_celery_beat.SolarSchedule": _schedule("SolarSchedule", "solar"),
    "branches.Unit": Rows(_unit_rows, lambda cast: cast.tree.unit_a, _unit_related),
    "branches.Organization": Rows(
        _organization_rows, lambda cast: cast.tree.branch_a, _organization_related
    ),
    "branches.Term": Rows(_term_rows, _term_subject),
    "branches.Member": Rows(_member_rows, lambda cast: cast.tree.members["a1"]),
    "branches.ActivityType": Rows(
        _activity_type_rows, _activity_type_subject, _activity_type_related
    ),
    "branches.ComplianceRule": Rows(_rule_rows, _rule_subject),
    "branches.ActivityRecord": Rows(_record_rows, _record_subject, _record_related),
    "reports.Bulletin": Rows(_bulletin_rows, _bulletin_subject, _bulletin_related),
    "reports.BulletinRow": Rows(_bulletin_row_rows, _bulletin_row_subject),
    "reports.LedgerExport": Rows(_export_rows, _export_subject),
    "pairings.PartnerOrganization": Rows(
        _partner_rows, lambda cast: bulk_partners(range(9100, 9101))[0], _partner_related
    ),
    "pairings.Scheme": Rows(_scheme_rows, lambda cast: _scheme("one_plus_one")),
    "pairings.Pairing": Rows(_pairing_rows, _pairing_subject),
    "pairings.Need": Rows(_need_rows, _need_subject, _need_related),
    "pairings.Project": Rows(_project_rows, _project_subject, _project_related),
    "pairings.HelpRecord": Rows(_help_rows, _help_subject, _help_related),
    "pairings.MemberPair": Rows(_member_pair_rows, _member_pair_subject),
    "evaluations.Program": Rows(
        lambda cast, numbers: bulk_programs(numbers), _evaluation_program, _program_related
    ),
    "evaluations.Application": Rows(
        lambda cast, numbers: bulk_applications(numbers, cast),
        _application_subject,
        _application_related,
    ),
    "evaluations.Designation": Rows(
        _designation_rows,
        _designation_subject,
        lambda cast, designation, numbers: bulk_re_reviews(
            numbers, designation, cast.users["staff"]
        ),
    ),
    "evaluations.ReReview": Rows(_re_review_rows, _re_review_subject),
    "campaigns.Campaign": Rows(_campaign_rows, _campaign_subject, _campaign_related),
    "campaigns.InspectionGroup": Rows(
        _inspection_group_rows, _group_subject_campaign, _inspection_group_related
    ),
    "campaigns.Problem": Rows(_problem_rows, _problem_subject, _problem_related),
    "campaigns.AnnualReport": Rows(_report_rows, _report_subject, _report_related),
    "campaigns.KeyTask": Rows(_key_task_rows, _key_task_subject, _key_task_related),
    "campaigns.Participation": Rows(
        _participation_rows, _participation_subject, _participation_related
    ),
    "campaigns.Deployment": Rows(_deployment_rows, _deployment_subject),
    "reminders.Reminder": Rows(
        reminder_objects.reminder_rows,
        reminder_objects.a_reminder,
        reminder_objects.deliveries_of,
    ),
    "reminders.Webhook": Rows(reminder_objects.webhook_rows, reminder_objects.a_webhook),
    "reminders.Delivery": Rows(reminder_objects.delivery_rows, reminder_objects.a_delivery),
}

# Registered admins left out on purpose, with the reason (none so far).
NOT_MEASURED: dict[str, str] = {}

# The id an admin's URLs use when it is not the object's pk (DRF's token admin: the user's).
ADMIN_IDS: dict[str, Callable] = {"authtoken.TokenProxy": lambda token: token.user_id}

# Tables that grow with the city: a change page offers them through a raw-id or autocomplete
# box, never a drop-down of every row.
LARGE_TABLES = {
    User,
    Member,
    Organization,
    Unit,
    Term,
    ActivityRecord,
    Attendance,
    BulletinRow,
    LedgerExport,
}


# --- measuring ----------------------------------------------------------------------------------


def admin_of(label: str):
    return next((m, a) for m, a in REGISTRY if m._meta.label == label)


def rows_of(label: str) -> Rows:
    if label in NOT_MEASURED:
        pytest.skip(f"{label}: {NOT_MEASURED[label]}")
    if label not in ROWS:
        pytest.fail(
            f"{label} is registered on the admin but has no row in ROWS "
            "(tests/test_admin_queries.py): say how to build its rows and related rows"
        )
    return ROWS[label]


_LITERALS = re.compile(r"\b\d+\b|'[^']*'|%s")
_LISTS = re.compile(r"\(\?(, \?)*\)")


def _shape(sql: str) -> str:
    """A query with its literals blanked, to tell which query came once per row."""
    return _LISTS.sub("(…)", _LITERALS.sub("?", sql))[:300]


def measure(client, url: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response, [q["sql"] for q in queries.captured_queries]


def assert_same_cost(what: str, small: list[str], large: list[str], few: int, many: int):
    if len(small) == len(large):
        return
    grown = Counter(map(_shape, large)) - Counter(map(_shape, small))
    detail = "\n".join(f"  +{n} × {sql}" for sql, n in grown.most_common(5))
    pytest.fail(
        f"{what}: {len(small)} queries with {few} rows, {len(large)} with {many}; "
        f"what came more often:\n{detail}"
    )


def url_of(model, name: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)


@pytest.fixture
def staff_client(client_for):
    return client_for("staff")


@pytest.mark.parametrize("label", LABELS)
def test_change_list_costs_the_same_however_many_rows(staff_client, cast, label):
    model, _model_admin = admin_of(label)
    spec = rows_of(label)
    url = url_of(model, "changelist")
    spec.rows(cast, range(FEW))
    staff_client.get(url)  # warm the caches (content types, the session)
    small_page, small = measure(staff_client, url)
    spec.rows(cast, range(FEW, MANY))
    large_page, large = measure(staff_client, url)
    assert large_page.context["cl"].result_count > small_page.context["cl"].result_count
    assert_same_cost(f"{label} change list", small, large, FEW, MANY)


@pytest.mark.parametrize("label", LABELS)
def test_change_page_costs_the_same_however_many_related_rows(staff_client, cast, label):
    model, _model_admin = admin_of(label)
    spec = rows_of(label)
    obj = spec.subject(cast)
    url = url_of(model, "change", ADMIN_IDS.get(label, lambda o: o.pk)(obj))

    def add(numbers):
        if spec.related is None:
            spec.rows(cast, numbers)
        else:
            spec.related(cast, obj, numbers)

    add(range(FEW_RELATED))
    staff_client.get(url)  # warm the caches (content types, the session)
    _page, small = measure(staff_client, url)
    add(range(FEW_RELATED, MANY_RELATED))
    page, large = measure(staff_client, url)
    assert_same_cost(f"{label} change page", small, large, FEW_RELATED, MANY_RELATED)
    offered = large_drop_downs(page)
    assert not offered, f"{label} change page: drop-downs of whole tables {offered}"


def large_drop_downs(page) -> list[str]:
    """Fields of the page's forms that list every row of a large table in a <select>."""
    forms_ = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms_.extend(inline.formset.forms)
        forms_.append(inline.formset.empty_form)
    found = []
    for form in forms_:
        for name, field in form.fields.items():
            if not isinstance(field, forms.ModelChoiceField):
                continue
            widget = field.widget
            if isinstance(widget, RelatedFieldWidgetWrapper):
                widget = widget.widget
            boxed = (AutocompleteMixin, ForeignKeyRawIdWidget, ManyToManyRawIdWidget)
            if isinstance(widget, (*boxed, forms.HiddenInput)) or field.disabled:
                continue
            if field.queryset.model in LARGE_TABLES:
                found.append(f"{type(form).__name__}.{name} ({field.queryset.model.__name__})")
    return sorted(set(found))


def add_history(obj, numbers: range, user: User) -> None:
    """History entries of the object: simple_history's versions where the model keeps them,
    else the admin's log entries."""
    manager = getattr(type(obj), "history", None)
    if manager is not None and hasattr(manager, "model"):
        historical = manager.model
        latest = obj.history.order_by("-history_date").first()
        if latest is None:
            latest = historical.objects.create(
                **{
                    f.attname: getattr(obj, f.attname)
                    for f in type(obj)._meta.concrete_fields
                    if hasattr(historical, f.attname)
                },
                history_date=timezone.now() - datetime.timedelta(days=1),
                history_type="+",
                history_user=user,
            )
        fields = [f.attname for f in historical._meta.concrete_fields if f.attname != "history_id"]
        rows = []
        for i in numbers:
            values = {name: getattr(latest, name) for name in fields}
            values.update(
                history_date=latest.history_date + datetime.timedelta(seconds=i + 1),
                history_type="~",
                history_user_id=user.pk,
                history_change_reason=f"第{i}次修改",
            )
            rows.append(historical(**values))
        historical.objects.bulk_create(rows)
        return
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    LogEntry.objects.bulk_create(
        LogEntry(
            user=user,
            content_type=content_type,
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            action_flag=CHANGE,
            change_message=f"第{i}次修改",
            action_time=timezone.now() - datetime.timedelta(minutes=i),
        )
        for i in numbers
    )


def entries_of(page) -> int:
    """How many entries a history page lists (simple_history's and Django's both paginate)."""
    listed = page.context.get("page_obj") or page.context["action_list"]
    return len(listed.object_list)


@pytest.mark.parametrize("label", LABELS)
def test_history_page_costs_the_same_however_long_the_history(staff_client, cast, label):
    model, _model_admin = admin_of(label)
    spec = rows_of(label)
    obj = spec.subject(cast)
    url = url_of(model, "history", ADMIN_IDS.get(label, lambda o: o.pk)(obj))
    # Entries by several accounts, as a real history has them.
    authors = [cast.users["staff"], *bulk_users(range(3), cast.tree.branch_a, prefix="author")]
    for author in authors[:2]:
        add_history(obj, range(FEW_RELATED), author)
    staff_client.get(url)  # warm the caches (content types, the session)
    small_page, small = measure(staff_client, url)
    for author in authors[2:]:
        add_history(obj, range(FEW_RELATED, MANY_RELATED), author)
    large_page, large = measure(staff_client, url)
    assert entries_of(large_page) > entries_of(small_page) >= FEW_RELATED * 2
    assert_same_cost(f"{label} history page", small, large, FEW_RELATED * 2, MANY_RELATED * 2)


def test_every_registered_admin_is_measured():
    missing = set(LABELS) - set(ROWS) - set(NOT_MEASURED)
    assert not missing, f"Add rows for {sorted(missing)} to ROWS (tests/test_admin_queries.py)"
    assert not set(ROWS) - set(LABELS), "ROWS names an admin that is no longer registered"


# --- what the fixes keep ------------------------------------------------------------------------


def test_attendance_rows_still_name_and_link_their_members(staff_client, cast):
    record = _record_subject(cast)
    _record_related(cast, record, range(2))
    member = record.attendances.select_related("member").first().member
    page = staff_client.get(url_of(ActivityRecord, "change", record.pk)).content.decode()
    assert f"{member.name}（{member.member_no}）" in page
    assert url_of(Member, "change", member.pk) in page


def test_a_token_is_given_to_an_account_found_by_search(staff_client, cast):
    url = reverse("admin:autocomplete")
    query = "?app_label=authtoken&model_name=tokenproxy&field_name=user&term=sec_a"
    found = staff_client.get(url + query).json()["results"]
    assert [r["id"] for r in found] == [str(cast.users["secretary_a"].pk)]
    assert staff_client.get(url_of(TokenProxy(), "add")).status_code == 200
