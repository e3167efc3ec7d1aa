"""Reads of the evaluations app: scoped query sets, stage results, evidence from the portal's
own data, the honour roll and re-reviews coming due, each in a constant number of queries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts import access
from accounts.models import Role
from branches.models import Organization
from branches.selectors import within_scope

from . import rules
from .models import (
    Application,
    Criterion,
    Designation,
    DesignationStatus,
    Evidence,
    Program,
    ReviewSheet,
)

if TYPE_CHECKING:
    from accounts.models import User


def reviewer_programs(user: User | None) -> QuerySet[Program]:
    """Programs the user reviews: all for staff, the assigned ones for an inspector."""
    role = access.role_of(user)
    if role == Role.STAFF:
        return Program.objects.all()
    if role == Role.INSPECTOR:
        return Program.objects.filter(reviewers=user)
    return Program.objects.none()


def visible_applications(user: User | None) -> QuerySet[Application]:
    """Staff: all. A secretary: their organizations' own. An inspector: the applications of
    the programs they are assigned to review (withdrawn drafts are nobody's business but the
    applicant's: an inspector sees submitted ones and later)."""
    role = access.role_of(user)
    if role == Role.STAFF:
        return Application.objects.all()
    if role == Role.SECRETARY:
        return within_scope(Application.objects.all(), user)
    if role == Role.INSPECTOR:
        return Application.objects.filter(program__in=reviewer_programs(user).values("pk")).exclude(
            status__in=["draft"]
        )
    return Application.objects.none()


def visible_designations(user: User | None) -> QuerySet[Designation]:
    return within_scope(Designation.objects.all(), user)


def honour_roll(program: Program | None = None, year: int | None = None) -> QuerySet[Designation]:
    """Current titles, public to every user of the portal (a title is a public honour)."""
    titles = Designation.objects.filter(status=DesignationStatus.CURRENT)
    if program is not None:
        titles = titles.filter(program=program)
    if year is not None:
        titles = titles.filter(program__year=year)
    return titles.select_related("program", "organization", "organization__unit").order_by(
        "program__kind", "organization__kind", "organization__path"
    )


def titles_by_kind(titles: QuerySet[Designation]) -> list[dict]:
    """How many titles per program kind and organization kind (10 committees, 8 general
    branches, 89 branches). One query."""
    return list(
        titles.order_by()
        .values("program__kind", "organization__kind")
        .annotate(n=Count("pk"))
        .order_by("program__kind", "organization__kind")
    )


def stage_results(applications) -> dict[int, dict[int, Decimal | None]]:
    """Each application's result per stage (mean, or trimmed mean from the program's
    `trimmed_from` reviewers on) over the submitted sheets. One query."""
    ids = [a.pk for a in applications]
    trimmed = {a.pk: a.program.trimmed_mean_from for a in applications}
    totals: dict[int, dict[int, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for app_id, stage_id, total in (
        ReviewSheet.objects.filter(application_id__in=ids, submitted_at__isnull=False)
        .order_by()
        .values_list("application_id", "stage_id", "total")
    ):
        totals[app_id][stage_id].append(total)
    return {
        pk: {
            stage_id: rules.stage_result(values, trimmed[pk])
            for stage_id, values in totals.get(pk, {}).items()
        }
        for pk in ids
    }


def evidence(applications, today: datetime.date | None = None) -> dict[int, dict[str, object]]:
    """What the portal knows for each application's organization, by measure: the share of
    三会一课 held in the year before the program's (compliance engine), an election on time
    (the current term not overdue), no open rectification problems (None until the campaigns
    app holds problems), a docked pairing. A constant number of queries."""
    from branches.compliance import compute_compliance
    from branches.periods import Period
    from pairings.models import Pairing, PairingStatus

    today = today or timezone.localdate()
    applications = list(applications)
    if not applications:
        return {}
    org_ids = {a.organization_id for a in applications}
    by_year: dict[int, set[int]] = defaultdict(set)
    for a in applications:
        by_year[a.program.year - 1].add(a.organization_id)
    shares: dict[tuple[int, int], float | None] = {}
    elections: dict[int, bool | None] = {}
    for year, ids in by_year.items():  # one run per program year (a page holds one or two)
        result = compute_compliance(
            Organization.objects.filter(pk__in=ids), Period.year(year), today=today
        )
        for org_id, compliance in result.items():
            shares[(year, org_id)] = compliance.rate
            elections[org_id] = (
                None if compliance.election_due_on is None else not compliance.election_overdue
            )
    docked = set(
        Pairing.objects.filter(
            organization_id__in=org_ids, status=PairingStatus.DOCKED
        ).values_list("organization_id", flat=True)
    )
    return {
        a.pk: {
            Evidence.ACTIVITY_SHARE: shares.get((a.program.year - 1, a.organization_id)),
            Evidence.ELECTION_ON_TIME: elections.get(a.organization_id),
            Evidence.NO_OPEN_PROBLEMS: None,
            Evidence.PAIRING_DOCKED: a.organization_id in docked,
        }
        for a in applications
    }


def sheets_visible_to(user: User | None, application: Application) -> QuerySet[ReviewSheet]:
    """The review sheets a user may read on an application: staff all; a reviewer their own,
    and the others of a stage only once theirs for that stage is submitted."""
    sheets = ReviewSheet.objects.filter(application=application).select_related("reviewer", "stage")
    if access.role_of(user) == Role.STAFF:
        return sheets
    mine = ReviewSheet.objects.filter(
        application=application, reviewer=user, submitted_at__isnull=False
    ).values("stage_id")
    return sheets.filter(Q(reviewer=user) | Q(stage_id__in=mine))


def due_for_re_review(
    user: User | None = None, within_days: int = 31, today: datetime.date | None = None
) -> QuerySet[Designation]:
    """Current titles whose validity ends within `within_days` (or has ended)."""
    today = today or timezone.localdate()
    titles = Designation.objects.filter(
        status=DesignationStatus.CURRENT,
        valid_until__lte=today + datetime.timedelta(days=within_days),
    )
    if user is not None:
        titles = titles.filter(pk__in=visible_designations(user).values("pk"))
    return titles.select_related("program", "organization").order_by("valid_until", "pk")


def criteria_for(application: Application) -> QuerySet[Criterion]:
    return Criterion.objects.filter(
        program_id=application.program_id,
        organization_kind=application.organization.kind,
    ).order_by("sort_order", "pk")
