"""Reads of the campaigns app: scoped query sets, targets' live progress and participation
totals, each in a constant number of queries however much data there is."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts import access
from accounts.models import Role
from branches.models import ActivityRecord, Member
from branches.selectors import within_scope
from config.money import ZERO, fen_sum, yuan

from .models import (
    AnnualReport,
    Campaign,
    CampaignActivity,
    InspectionGroup,
    KeyMeasure,
    KeyTask,
    Participation,
    ParticipationGoods,
    Problem,
    ProblemState,
    Target,
    TargetSource,
)

if TYPE_CHECKING:
    from accounts.models import User

THEME_DAY = "theme_day"


# --- scope -------------------------------------------------------------------------------------


def visible_problems(user: User | None) -> QuerySet[Problem]:
    """Problems of the organizations the user sees; an inspector also sees those their own
    inspection groups found."""
    in_scope = within_scope(Problem.objects.all(), user)
    if access.role_of(user) == Role.INSPECTOR and not access.sees_whole_city(user):
        return Problem.objects.filter(
            Q(pk__in=in_scope.values("pk")) | Q(group__members=user)
        ).distinct()
    return in_scope


def visible_participations(user: User | None) -> QuerySet[Participation]:
    return within_scope(Participation.objects.all(), user)


def visible_campaign_activities(user: User | None) -> QuerySet[CampaignActivity]:
    return within_scope(CampaignActivity.objects.all(), user, "record__organization")


def visible_annual_reports(user: User | None) -> QuerySet[AnnualReport]:
    return within_scope(AnnualReport.objects.all(), user)


def visible_groups(user: User | None) -> QuerySet[InspectionGroup]:
    """Inspection groups: all for committee staff, else those the user is a member of."""
    if access.can(user, "campaign.manage"):
        return InspectionGroup.objects.all()
    if not access.is_active_user(user):
        return InspectionGroup.objects.none()
    return InspectionGroup.objects.filter(members=user)


def visible_key_measures(user: User | None) -> QuerySet[KeyMeasure]:
    return within_scope(KeyMeasure.objects.all(), user)


def visible_key_tasks(user: User | None) -> QuerySet[KeyTask]:
    """Tasks with a measure owned by an organization in the scope (all for the whole city)."""
    if not access.is_active_user(user):
        return KeyTask.objects.none()
    if access.sees_whole_city(user):
        return KeyTask.objects.all()
    return KeyTask.objects.filter(pk__in=visible_key_measures(user).values("task"))


def overdue_problems(user: User | None) -> QuerySet[Problem]:
    """Unresolved problems in scope that the daily task marked overdue."""
    return (
        visible_problems(user)
        .marked_overdue()
        .select_related("organization", "group")
        .order_by("deadline", "pk")
    )


# --- targets -------------------------------------------------------------------------------------


@dataclass
class TargetProgress:
    target: Target
    progress: Decimal

    @property
    def share(self) -> float | None:
        goal = self.target.goal
        return float(self.progress / goal) if goal else None


def live_counts(campaign: Campaign, sources: set[str]) -> dict[str, Decimal]:
    """The city-wide figures of the live `sources`, for one campaign: one query per source,
    whatever the data."""
    from evaluations.models import Designation, DesignationStatus, ProgramKind
    from pairings.models import Pairing, PairingStatus

    counts: dict[str, Decimal] = {}
    if TargetSource.FIVE_STAR_AWARDED in sources:
        counts[TargetSource.FIVE_STAR_AWARDED] = Decimal(
            Designation.objects.filter(
                program__kind=ProgramKind.FIVE_STAR,
                status=DesignationStatus.CURRENT,
                awarded_on__year=campaign.starts_on.year,
            ).count()
        )
    if TargetSource.MEMBERS_REGISTERED in sources:
        counts[TargetSource.MEMBERS_REGISTERED] = Decimal(
            Member.objects.exclude(community="").count()
        )
    if TargetSource.PAIRINGS_DOCKED in sources:
        counts[TargetSource.PAIRINGS_DOCKED] = Decimal(
            Pairing.objects.filter(status=PairingStatus.DOCKED).count()
        )
    if TargetSource.THEME_DAYS_ON_TOPIC in sources:
        records = ActivityRecord.objects.filter(
            activity_type__code=THEME_DAY,
            date__gte=campaign.starts_on,
            date__lte=campaign.ends_on,
        )
        on_topic = Q(pk__in=CampaignActivity.objects.filter(campaign=campaign).values("record"))
        if campaign.topic.strip():
            on_topic |= Q(topic__icontains=campaign.topic.strip())
        counts[TargetSource.THEME_DAYS_ON_TOPIC] = Decimal(records.filter(on_topic).count())
    return counts


def target_progress(campaign: Campaign) -> list[TargetProgress]:
    """Each target of the campaign with its progress: entered by hand, or live."""
    targets = list(campaign.targets.all())
    live = live_counts(campaign, {t.source for t in targets} - {TargetSource.MANUAL})
    return [
        TargetProgress(
            t,
            t.manual_progress if t.source == TargetSource.MANUAL else live.get(t.source, ZERO),
        )
        for t in targets
    ]


# --- participation ---------------------------------------------------------------------------


@dataclass
class ParticipationTotals:
    organizations: int = 0
    members: int = 0
    money: Decimal = ZERO
    goods_value: Decimal = ZERO


def participation_totals(user: User | None, campaign: Campaign) -> dict:
    """Participation in scope, by unit and in all: organizations, members, money and goods
    value (exact), goods by item and unit of measure, and the branches whose tagged theme day
    counts (each once, even if filed and tagged). Four queries."""
    filed = visible_participations(user).filter(campaign=campaign)
    by_unit: dict[int, ParticipationTotals] = defaultdict(ParticipationTotals)
    total = ParticipationTotals()
    for row in (
        filed.order_by()
        .values("organization__unit_id")
        .annotate(n=Count("pk"), members=Sum("members"), money=fen_sum("money"))
    ):
        line = by_unit[row["organization__unit_id"]]
        line.organizations += row["n"]
        line.members += row["members"] or 0
        line.money += yuan(row["money"])
    goods = ParticipationGoods.objects.filter(participation__in=filed.values("pk"))
    for row in (
        goods.order_by()
        .values("participation__organization__unit_id")
        .annotate(value=fen_sum("value"))
    ):
        by_unit[row["participation__organization__unit_id"]].goods_value += yuan(row["value"])
    by_item = list(
        goods.order_by()
        .values("item", "unit_of_measure")
        .annotate(quantity_fen=fen_sum("quantity"), value_fen=fen_sum("value"))
        .order_by("item", "unit_of_measure")
    )
    for line in by_item:
        line["quantity"] = yuan(line.pop("quantity_fen"))
        line["value"] = yuan(line.pop("value_fen"))
    # Tagged theme days: organizations taking part without a filing of their own.
    filed_ids = set(filed.values_list("organization_id", flat=True))
    tagged = (
        within_scope(
            CampaignActivity.objects.filter(campaign=campaign), user, "record__organization"
        )
        .values_list("record__organization_id", "record__organization__unit_id")
        .distinct()
    )
    for organization_id, unit_id in tagged:
        if organization_id not in filed_ids:
            by_unit[unit_id].organizations += 1
    for line in by_unit.values():
        total.organizations += line.organizations
        total.members += line.members
        total.money += line.money
        total.goods_value += line.goods_value
    return {"by_unit": dict(by_unit), "total": total, "goods": by_item}


def problem_counts(user: User | None, today: datetime.date | None = None) -> dict[str, int]:
    """Problems in scope: all, unresolved, overdue (past the deadline, not accepted) and by
    state. One query."""
    today = today or timezone.localdate()
    row = visible_problems(user).aggregate(
        total=Count("pk"),
        unresolved=Count("pk", filter=~Q(state=ProblemState.ACCEPTED)),
        overdue=Count("pk", filter=~Q(state=ProblemState.ACCEPTED) & Q(deadline__lt=today)),
        **{state: Count("pk", filter=Q(state=state)) for state in ProblemState.values},
    )
    return row
