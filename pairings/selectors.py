"""Reads of the pairings app: the scoped query sets and the progress figures (docking rate,
gaps, totals), each in a constant number of queries whatever the number of pairings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts import access
from branches.models import Organization, Unit
from branches.selectors import visible_organizations, within_scope
from config.money import ZERO, fen_sum, yuan

from .models import (
    HelpKind,
    HelpRecord,
    MemberPair,
    Need,
    Pairing,
    PairingStatus,
    PartnerOrganization,
    Project,
    ProjectStatus,
    Scheme,
)

if TYPE_CHECKING:
    from accounts.models import User

# --- scope -------------------------------------------------------------------------------------


def visible_pairings(user: User | None) -> QuerySet[Pairing]:
    """Pairings of the organizations the user sees."""
    return within_scope(Pairing.objects.all(), user)


def visible_partners(user: User | None) -> QuerySet[PartnerOrganization]:
    """Partners: all for staff and city-wide inspectors, else those paired with an
    organization in scope."""
    if access.sees_whole_city(user):
        return PartnerOrganization.objects.all()
    return PartnerOrganization.objects.filter(pk__in=visible_pairings(user).values("partner_id"))


def visible_help_records(user: User | None) -> QuerySet[HelpRecord]:
    return within_scope(HelpRecord.objects.all(), user, "pairing__organization")


def visible_member_pairs(user: User | None) -> QuerySet[MemberPair]:
    return within_scope(MemberPair.objects.all(), user, "pairing__organization")


def visible_needs(user: User | None) -> QuerySet[Need]:
    return within_scope(Need.objects.all(), user, "pairing__organization")


def visible_projects(user: User | None) -> QuerySet[Project]:
    return within_scope(Project.objects.all(), user, "pairing__organization")


def pairings_for_display(user: User | None) -> QuerySet[Pairing]:
    """Pairings in scope with what a list shows, in the same query: open needs, visits, the
    last visit, help totals (Decimal) and project counts."""
    return (
        visible_pairings(user)
        .select_related("scheme", "partner", "organization", "organization__unit")
        .annotate(
            **help_totals_of_pairing(),
        )
    )


def help_totals_of_pairing(
    start: datetime.date | None = None, end: datetime.date | None = None
) -> dict:
    """Per-pairing aggregates, as correlated subqueries on indexed foreign keys (one row
    each: the list stays one query and aggregates do not multiply each other's joins).
    Visits, the last visit, funds and goods value count the help dated from `start` to `end`
    (either may be None); needs, measures and projects as they stand."""
    from django.db.models import BigIntegerField, IntegerField, Subquery
    from django.db.models.functions import Coalesce

    def one(qs, expression, output):
        return Coalesce(
            Subquery(
                qs.filter(pairing=OuterRef("pk"))
                .order_by()
                .values("pairing")
                .annotate(v=expression)
                .values("v"),
                output_field=output,
            ),
            0,
            output_field=output,
        )

    fen = BigIntegerField()
    count = IntegerField()
    helps = HelpRecord.objects.all()
    if start is not None:
        helps = helps.filter(date__gte=start)
    if end is not None:
        helps = helps.filter(date__lte=end)
    return {
        "visit_count": one(helps.filter(kind=HelpKind.VISIT), Count("pk"), count),
        # In whole fen (`config.money`): `yuan(pairing.funds_fen)` for display.
        "funds_fen": one(helps.filter(kind=HelpKind.FUNDS), fen_sum("amount"), fen),
        "goods_value_fen": one(helps.filter(kind=HelpKind.GOODS), fen_sum("value"), fen),
        "need_count": one(Need.objects.all(), Count("pk"), count),
        "open_need_count": one(Need.objects.filter(met_on__isnull=True), Count("pk"), count),
        "measure_count": one(Need.objects.all(), Count("measures"), count),
        "project_count": one(
            Project.objects.exclude(status=ProjectStatus.CANCELLED), Count("pk"), count
        ),
        "last_visit": Subquery(
            helps.filter(pairing=OuterRef("pk"), kind=HelpKind.VISIT)
            .order_by("-date")
            .values("date")[:1]
        ),
    }


# --- progress ----------------------------------------------------------------------------------


@dataclass
class Docking:
    """A scheme's docking in one unit (or in all of the scope, `unit` None)."""

    scheme: Scheme
    unit: Unit | None
    enrolled: int = 0  # organizations that should be or are paired
    paired: int = 0  # ... with a current pairing
    docked: int = 0  # ... with a docked one

    @property
    def rate(self) -> float | None:
        return self.docked / self.enrolled if self.enrolled else None


@dataclass
class SchemeDocking:
    total: Docking
    units: list[Docking] = field(default_factory=list)


def docking(user: User | None, schemes: QuerySet[Scheme] | None = None) -> list[SchemeDocking]:
    """Docking rate per scheme, in total and per unit, over the organizations the user sees
    (822 of 827). For a universal scheme every organization of its kinds counts, paired or
    not; otherwise those with a current pairing in it. Three queries."""
    schemes = list((schemes or Scheme.objects.filter(active=True)).order_by("sort_order", "pk"))
    units = {u.pk: u for u in Unit.objects.order_by("sort_order", "name")}
    # Organizations per unit and kind (for universal schemes' denominators).
    by_unit_kind: dict[tuple[int, str], int] = {
        (row["unit_id"], row["kind"]): row["n"]
        for row in visible_organizations(user)
        .order_by()
        .values("unit_id", "kind")
        .annotate(n=Count("pk"))
    }
    rows = (
        visible_pairings(user)
        .current()
        .order_by()
        .values("scheme_id", "organization__unit_id")
        .annotate(
            paired=Count("organization", distinct=True),
            docked=Count("organization", distinct=True, filter=Q(status=PairingStatus.DOCKED)),
        )
    )
    found: dict[tuple[int, int], tuple[int, int]] = {
        (r["scheme_id"], r["organization__unit_id"]): (r["paired"], r["docked"]) for r in rows
    }
    result = []
    for scheme in schemes:
        total = Docking(scheme, None)
        lines = []
        for unit_id, unit in units.items():
            paired, docked_n = found.get((scheme.pk, unit_id), (0, 0))
            if scheme.universal:
                enrolled = sum(by_unit_kind.get((unit_id, k), 0) for k in scheme.organization_kinds)
            else:
                enrolled = paired
            if not enrolled:
                continue
            line = Docking(scheme, unit, enrolled, paired, docked_n)
            lines.append(line)
            total.enrolled += enrolled
            total.paired += paired
            total.docked += docked_n
        result.append(SchemeDocking(total, lines))
    return result


def unpaired_organizations(user: User | None, scheme: Scheme) -> QuerySet[Organization]:
    """Organizations of a universal scheme's kinds, in scope, with no current pairing in it."""
    if not scheme.universal:
        return Organization.objects.none()
    paired = Pairing.objects.current().filter(scheme=scheme, organization=OuterRef("pk"))
    return (
        visible_organizations(user)
        .filter(kind__in=scheme.organization_kinds)
        .exclude(Exists(paired))
        .select_related("unit")
        .order_by("unit__sort_order", "path")
    )


def incomplete_partners(user: User | None) -> QuerySet[PartnerOrganization]:
    """Partners with a pairing in scope whose scheme wants more organ organizations than they
    have ("1+2" with one), each annotated with `scheme_name`, `organizations` and `wanted`.
    One query: the pairings are counted over the whole city, since the other organization of
    a "1+2" pair may lie outside a secretary's scope."""
    current = Pairing.objects.current()
    return (
        current.filter(
            Exists(
                visible_pairings(user)
                .current()
                .filter(partner=OuterRef("partner"), scheme=OuterRef("scheme"))
            )
        )
        .order_by()
        .values("scheme_id", "scheme__name", "partner_id", "partner__name", "partner__town")
        .annotate(
            organizations=Count("organization", distinct=True),
            wanted=Max("scheme__min_organizations_per_partner"),
        )
        .filter(organizations__lt=F("wanted"))
        .order_by("scheme_id", "partner__town", "partner__name")
    )


def pairings_lacking_projects(user: User | None) -> QuerySet[Pairing]:
    """Current pairings whose scheme wants each organ organization to lead projects and whose
    organization leads fewer (not cancelled) in it."""
    projects = Count("projects", filter=~Q(projects__status=ProjectStatus.CANCELLED), distinct=True)
    return (
        visible_pairings(user)
        .current()
        .filter(scheme__min_projects_per_organization__gt=0)
        .select_related("scheme", "partner", "organization")
        .annotate(led=projects)
        .filter(led__lt=F("scheme__min_projects_per_organization"))
        .order_by("scheme_id", "organization__path")
    )


def unvisited_pairings(
    user: User | None, days: int | None = None, today: datetime.date | None = None
) -> QuerySet[Pairing]:
    """Current pairings with no visit in the last `days` days (PAIRING_VISIT_DAYS)."""
    days = settings.PAIRING_VISIT_DAYS if days is None else days
    since = (today or timezone.localdate()) - datetime.timedelta(days=days)
    recent = HelpRecord.objects.filter(pairing=OuterRef("pk"), kind=HelpKind.VISIT, date__gt=since)
    return (
        visible_pairings(user)
        .current()
        .exclude(Exists(recent))
        .select_related("scheme", "partner", "organization")
        .annotate(last_visit=Max("help_records__date", filter=Q(help_records__kind=HelpKind.VISIT)))
        .order_by("last_visit", "organization__path")
    )


def overdue_projects(user: User | None, today: datetime.date | None = None) -> QuerySet[Project]:
    today = today or timezone.localdate()
    return (
        visible_projects(user)
        .filter(status__in=[ProjectStatus.PLANNED, ProjectStatus.UNDERWAY], due_on__lt=today)
        .select_related("pairing__scheme", "pairing__organization", "pairing__partner")
        .order_by("due_on", "pk")
    )


def flagged_pairings(user: User | None) -> QuerySet[Pairing]:
    """Pairings made against their scheme's rule, with the reason kept."""
    return (
        visible_pairings(user)
        .exclude(override_reason="")
        .select_related("scheme", "partner", "organization")
    )


@dataclass
class HelpTotals:
    visits: int = 0
    funds: Decimal = ZERO
    goods_value: Decimal = ZERO


def help_totals(
    user: User | None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    scheme: Scheme | None = None,
    unit: Unit | int | None = None,
) -> dict:
    """Help given in scope, by scheme and unit, in a period: visits, funds and goods value
    (exact Decimal), and goods by item and unit of measure (never added across units of
    measure). Two queries.

    Returns {"by_scheme_unit": {(scheme_id, unit_id): HelpTotals}, "total": HelpTotals,
    "goods": [{"item", "unit_of_measure", "quantity", "value"}]}.
    """
    records = visible_help_records(user)
    if start is not None:
        records = records.filter(date__gte=start)
    if end is not None:
        records = records.filter(date__lte=end)
    if scheme is not None:
        records = records.filter(pairing__scheme=scheme)
    if unit is not None:
        records = records.filter(
            pairing__organization__in=Organization.objects.of_unit(unit).values("pk")
        )
    by: dict[tuple[int, int], HelpTotals] = {}
    total = HelpTotals()
    for row in (
        records.order_by()
        .values("pairing__scheme_id", "pairing__organization__unit_id")
        .annotate(
            visits=Count("pk", filter=Q(kind=HelpKind.VISIT)),
            funds=fen_sum("amount", filter=Q(kind=HelpKind.FUNDS)),
            goods_value=fen_sum("value", filter=Q(kind=HelpKind.GOODS)),
        )
    ):
        line = HelpTotals(row["visits"], yuan(row["funds"]), yuan(row["goods_value"]))
        by[(row["pairing__scheme_id"], row["pairing__organization__unit_id"])] = line
        total.visits += line.visits
        total.funds += line.funds
        total.goods_value += line.goods_value
    goods = list(
        records.filter(kind=HelpKind.GOODS)
        .order_by()
        .values("item", "unit_of_measure")
        .annotate(quantity_fen=fen_sum("quantity"), value_fen=fen_sum("value"))
        .order_by("item", "unit_of_measure")
    )
    for line in goods:  # quantities have two decimal places too: the same exact sum
        line["quantity"] = yuan(line.pop("quantity_fen"))
        line["value"] = yuan(line.pop("value_fen"))
    return {"by_scheme_unit": by, "total": total, "goods": goods}
