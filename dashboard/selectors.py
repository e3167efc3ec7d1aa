"""The dashboard's figures: one plain function per panel, each a JSON-ready dict over the
user's scope (`docs/dashboard.md`), in a constant number of queries whatever the number of
organizations.

Every figure is the rule that already exists, called: scope from `branches.selectors`, the
compliance engine (`branches.compliance`), the bulletin's ranking (`reports.rules`), docking and
help (`pairings.selectors`), titles (`evaluations.selectors`), problems and targets
(`campaigns.selectors`). Each item a chart draws carries the `url` of the portal page that lists
what it counts, with that page's own filters.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext

from accounts import access
from accounts.models import Role
from branches.compliance import OrganizationCompliance, compliance_due_in_month
from branches.models import (
    AgeBand,
    Attendance,
    AttendanceStatus,
    Education,
    MemberStatus,
    Organization,
    Unit,
    age_band_condition,
    fifty_years_condition,
    youth_born_after,
)
from branches.periods import Period, add_months
from branches.selectors import (
    attendee_pool,
    elections_due_soon,
    overdue_elections,
    visible_members_in_parts,
    visible_organizations,
    visible_units,
    within_scope,
)
from campaigns.models import Campaign, ProblemState, Target
from campaigns.selectors import problem_counts, target_progress, visible_problems
from evaluations.models import ProgramKind
from evaluations.selectors import due_for_re_review, honour_roll, titles_by_kind
from pairings.models import HelpKind, HelpRecord
from pairings.selectors import docking, help_totals, visible_pairings
from reports.models import Bulletin, BulletinRow
from reports.rules import rank_units
from reports.selectors import downloads_url

if TYPE_CHECKING:
    from accounts.models import User

# The panels of docs/dashboard.md, in the page's order: those of every scope, and the branch
# panel of one organization (a secretary's).
SCOPE_PANELS = (
    "compliance",
    "owed",
    "elections",
    "members",
    "pairings",
    "evaluations",
    "campaigns",
    "problems",
)
BRANCH = "branch"
PANELS = (*SCOPE_PANELS, BRANCH)
MONTHS_SHOWN = 12
QUARTERS_SHOWN = 4
OWING_SHOWN = 10  # the organizations owing most, on the `owed` panel
BRANCH_ITEMS_SHOWN = 10  # problems and pairings listed on the branch panel


# --- shared pieces ---------------------------------------------------------------------------


def rate(part: int | Decimal, whole: int) -> float | None:
    """A share rounded to four places, or None when there is nothing to share."""
    return round(float(part) / whole, 4) if whole else None


def url(name: str, *args: Any, **query: Any) -> str:
    """A portal page, with its own GET filters (those given and not empty)."""
    path = reverse(name, args=args)
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode(query)}" if query else path


def scope_kind(user: User | None) -> str:
    if access.sees_whole_city(user):
        return "city"
    if access.role_of(user) == Role.INSPECTOR:
        return "units"
    return "organization"


def header(user: User | None, today: datetime.date) -> dict:
    """What every answer starts with: whose figures these are, and on which day."""
    kind = scope_kind(user)
    if kind == "city":
        label = gettext("The whole city")
    elif kind == "units":
        label = "、".join(user.units.order_by("sort_order", "name").values_list("name", flat=True))
    else:
        organization = getattr(user, "organization", None)
        label = organization.name if organization is not None else ""
    return {"scope": {"kind": kind, "label": label}, "as_of": today.isoformat()}


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def _judged(user: User | None) -> QuerySet[Organization]:
    """The organizations with a bulletin line of their own: groups are judged inside their
    branch's line (its 党小组会), as the bulletin does."""
    return visible_organizations(user).judged_on_their_own()


def _units_shown(user: User | None, unit_ids: Iterable[int]) -> list[dict]:
    """The units among `unit_ids` that lie in the user's scope, in the committee's order: an
    inspector of one unit of a joint committee sees their own units' lines, not the others'."""
    units = Unit.objects.filter(pk__in=set(unit_ids))
    if not access.sees_whole_city(user):
        units = units.filter(pk__in=visible_units(user).values("pk"))
    return list(units.order_by("sort_order", "name").values("pk", "name"))


def _units_of(organization_ids: Iterable[int], host: dict[int, int]) -> dict[int, list[int]]:
    """Each organization's units: its own and the ones it spans as a joint committee
    (`Organization.objects.of_unit`, the one rule of "belongs to a unit"). One query."""
    units: dict[int, list[int]] = {pk: [unit_id] for pk, unit_id in host.items()}
    spans = Organization.joint_units.through.objects.filter(
        organization_id__in=list(organization_ids)
    ).values_list("organization_id", "unit_id")
    for pk, unit_id in spans:
        if unit_id not in units[pk]:
            units[pk].append(unit_id)
    return units


def _month_so_far(
    user: User | None, today: datetime.date
) -> tuple[Period, dict[int, OrganizationCompliance], dict[int, dict]]:
    """This month so far, as its bulletin will judge it: everything that falls due by the end
    of the month (`compliance_due_in_month`: the monthly rules, the quarter's when the month
    closes one, the year's in December), for the organizations in scope, with their names and
    units (one query more than the engine)."""
    month = Period.containing("month", today)
    judged = _judged(user)
    results = compliance_due_in_month(judged, month, today=today)
    info = {
        o["pk"]: o for o in judged.values("pk", "name", "unit_id", "unit__name", "unit__sort_order")
    }
    return month, results, info


# --- compliance ------------------------------------------------------------------------------


def compliance(user: User | None, today: datetime.date | None = None) -> dict:
    """The last twelve ended months from their bulletins, and this month so far by unit."""
    today = _today(today)
    this_month = Period.containing("month", today)
    months = [Period("month", add_months(this_month.start, -i)) for i in range(MONTHS_SHOWN, 0, -1)]
    first = months[0].start
    bulletins = {
        b.month: b for b in Bulletin.objects.filter(month__gte=first, month__lt=this_month.start)
    }
    scoped: dict[datetime.date, dict] = {}
    if not access.sees_whole_city(user):
        # The scope's lines, all months in one grouped query (`reports.selectors.scope_figures`'
        # definitions: an organization counts when it owed something).
        rows = (
            within_scope(BulletinRow.objects.all(), user)
            .filter(bulletin__month__gte=first, bulletin__month__lt=this_month.start)
            .order_by()
            .values("bulletin__month")
            .annotate(
                organizations=Count("pk", filter=Q(owed__gt=0)),
                compliant=Count("pk", filter=Q(owed__gt=0, missing=0)),
            )
        )
        scoped = {row["bulletin__month"]: row for row in rows}
    month_lines = []
    for month in months:
        bulletin = bulletins.get(month.start)
        if bulletin is None:
            organizations = compliant = 0
        elif access.sees_whole_city(user):
            organizations, compliant = bulletin.organization_count, bulletin.compliant_count
        else:
            row = scoped.get(month.start, {})
            organizations, compliant = row.get("organizations", 0), row.get("compliant", 0)
        month_lines.append(
            {
                "month": month.code,
                "organizations": organizations,
                "compliant": compliant,
                "rate": rate(compliant, organizations) if bulletin is not None else None,
                "url": url("portal:bulletin", month.code)
                if bulletin is not None
                else url("portal:bulletins"),
            }
        )

    month, results, info = _month_so_far(user, today)
    ranked = rank_units(
        (
            info[pk]["unit_id"],
            info[pk]["unit__name"],
            info[pk]["unit__sort_order"],
            result,
        )
        for pk, result in results.items()
        if pk in info
    )
    shown = {u["pk"] for u in _units_shown(user, [u.unit_id for u in ranked])}
    ranking = [
        {
            "unit_id": line.unit_id,
            "unit": line.name,
            "organizations": line.organizations,
            "compliant": line.compliant,
            "rate": round(float(line.rate), 4),
            "owed": line.owed,
            "held": line.held,
            "url": downloads_url("compliance", {"unit": line.unit_id, "period": month.code}),
        }
        for line in ranked
        if line.unit_id in shown
    ]
    return {**header(user, today), "months": month_lines, "ranking": ranking}


# --- owed ------------------------------------------------------------------------------------


def owed(user: User | None, today: datetime.date | None = None) -> dict:
    """This month so far: the organizations still owing, by activity type, and those owing
    most (the month's bulletin rule, `compliance_due_in_month`)."""
    today = _today(today)
    month, results, info = _month_so_far(user, today)
    by_type: dict[str, dict] = {}
    owing = []
    for pk, result in results.items():
        if pk not in info or not result.missing:
            continue
        owing.append((result.missing, info[pk]["name"], pk, result))
        for name, _owed, _held, missing in result.by_type():
            if missing:
                line = by_type.setdefault(name, {"type": name, "organizations": 0, "missing": 0})
                line["organizations"] += 1
                line["missing"] += missing
    owing.sort(key=lambda item: (-item[0], item[1], item[2]))
    return {
        **header(user, today),
        "month": month.code,
        "organizations_owing": len(owing),
        "by_type": sorted(by_type.values(), key=lambda t: (-t["organizations"], t["type"])),
        "organizations": [
            {
                "id": pk,
                "name": name,
                "missing": missing,
                "detail": result.missing_detail(),
                "url": url("portal:organization", pk),
            }
            for missing, name, pk, result in owing[:OWING_SHOWN]
        ],
        "url": downloads_url("compliance", {"period": month.code}),
    }


# --- elections -------------------------------------------------------------------------------


def elections(user: User | None, today: datetime.date | None = None) -> dict:
    """Term elections overdue and due within TERM_DUE_SOON_DAYS, in all and by unit (a joint
    committee under each of its units). Four queries."""
    today = _today(today)
    visible = visible_organizations(user)
    overdue = dict(overdue_elections(visible, today).values_list("pk", "unit_id"))
    soon = dict(elections_due_soon(visible, today).values_list("pk", "unit_id"))
    units_of = _units_of([*overdue, *soon], {**overdue, **soon})
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"overdue": 0, "due_soon": 0})
    for pk in overdue:
        for unit_id in units_of[pk]:
            counts[unit_id]["overdue"] += 1
    for pk in soon:
        for unit_id in units_of[pk]:
            counts[unit_id]["due_soon"] += 1
    by_unit = [
        {
            "unit_id": unit["pk"],
            "unit": unit["name"],
            **counts[unit["pk"]],
            "url": downloads_url("overdue_elections", {"unit": unit["pk"]}),
        }
        for unit in _units_shown(user, counts)
    ]
    return {
        **header(user, today),
        "overdue": len(overdue),
        "due_soon": len(soon),
        "by_unit": by_unit,
        "url": downloads_url("overdue_elections"),
    }


# --- members ---------------------------------------------------------------------------------


def members(user: User | None, today: datetime.date | None = None) -> dict:
    """The members in scope: total, age bands, youth, education, 50 years in the party and
    probationary members. One aggregate per part of the scope (`visible_members_in_parts`)."""
    today = _today(today)
    bands = [(band, age_band_condition(band, today)) for band in AgeBand]
    fifty = fifty_years_condition(today)  # `MemberQuerySet.fifty_years_in_party`
    youth = Q(birth_date__gt=youth_born_after(today))  # `MemberQuerySet.youth`
    figures: dict[str, int] = defaultdict(int)
    for part in visible_members_in_parts(user):
        row = part.order_by().aggregate(
            total=Count("pk"),
            youth=Count("pk", filter=youth),
            fifty=Count("pk", filter=fifty),
            probationary=Count("pk", filter=Q(status=MemberStatus.PROBATIONARY)),
            **{f"band{i}": Count("pk", filter=q) for i, (_label, q) in enumerate(bands)},
            **{f"edu_{v}": Count("pk", filter=Q(education=v)) for v in Education.values},
        )
        for key, value in row.items():
            figures[key] += value or 0
    total = figures["total"]
    members_url = url("portal:members")
    return {
        **header(user, today),
        "total": total,
        "url": members_url,
        "age_bands": [
            {
                "label": str(band.label),
                "count": figures[f"band{i}"],
                "url": url("portal:members", age=band.value),
            }
            for i, (band, _q) in enumerate(bands)
        ],
        "youth": {
            "count": figures["youth"],
            "share": rate(figures["youth"], total),
            "url": url("portal:members", youth="true"),
        },
        "education": [
            {
                "value": value,
                "label": str(label),
                "count": figures[f"edu_{value}"],
                "url": url("portal:members", education=value),
            }
            for value, label in Education.choices
        ],
        "fifty_years": {
            "count": figures["fifty"],
            "url": url("portal:members", fifty_years="true"),
        },
        "probationary": {
            "count": figures["probationary"],
            "url": url("portal:members", status=MemberStatus.PROBATIONARY),
        },
    }


# --- pairings --------------------------------------------------------------------------------


def quarters_before(today: datetime.date, count: int = QUARTERS_SHOWN) -> list[Period]:
    """This quarter and the ones before it, oldest first."""
    this = Period.containing("quarter", today)
    return [Period("quarter", add_months(this.start, -3 * i)) for i in range(count - 1, -1, -1)]


def pairings(user: User | None, today: datetime.date | None = None) -> dict:
    """Docking per active scheme (`pairings.selectors.docking`) and the help given in each of
    the last four quarters (`help_totals`: money adds up in fen)."""
    today = _today(today)
    schemes = [
        {
            "scheme_id": line.total.scheme.pk,
            "scheme": line.total.scheme.name,
            "enrolled": line.total.enrolled,
            "pairings": line.total.paired,
            "docked": line.total.docked,
            "rate": rate(line.total.docked, line.total.enrolled),
            "url": url("portal:pairings", scheme=line.total.scheme.pk),
        }
        for line in docking(user)
    ]
    quarters = []
    for quarter in quarters_before(today):
        total = help_totals(user, start=quarter.start, end=quarter.end)["total"]
        quarters.append(
            {
                "quarter": quarter.code.replace("-", ""),
                "money": str(total.funds),
                "goods": str(total.goods_value),
                "visits": total.visits,
                "url": url("portal:pairing_progress", year=quarter.start.year),
            }
        )
    return {**header(user, today), "schemes": schemes, "help_by_quarter": quarters}


# --- evaluations -----------------------------------------------------------------------------


def evaluations(user: User | None, today: datetime.date | None = None) -> dict:
    """Current titles in scope by program kind (`honour_roll`, `titles_by_kind`), and the titles
    due for re-review (`due_for_re_review`)."""
    today = _today(today)
    by_kind: dict[str, int] = defaultdict(int)
    for line in titles_by_kind(within_scope(honour_roll(), user)):
        by_kind[line["program__kind"]] += line["n"]
    titles = [
        {
            "kind": kind,
            "label": str(label),
            "count": by_kind[kind],
            "url": url("portal:evaluation_honours", kind=kind),
        }
        for kind, label in ProgramKind.choices
        if by_kind[kind]
    ]
    return {
        **header(user, today),
        "titles": titles,
        "re_reviews_due": {
            "count": due_for_re_review(user, today=today).count(),
            "url": url("portal:evaluation_re_reviews"),
        },
    }


# --- campaigns -------------------------------------------------------------------------------


def campaigns(user: User | None, today: datetime.date | None = None) -> dict:
    """The targets of the campaigns running today, with their progress (`target_progress`: the
    committee's plans, counted city-wide for every user, as the campaign page shows them).
    Two queries, and one per live source of each campaign."""
    from django.db.models import Prefetch

    today = _today(today)
    running = (
        Campaign.objects.filter(starts_on__lte=today, ends_on__gte=today)
        .order_by("starts_on", "name", "pk")
        .prefetch_related(Prefetch("targets", queryset=Target.objects.order_by("sort_order", "pk")))
    )
    targets = []
    for campaign in running:
        for progress in target_progress(campaign):
            targets.append(
                {
                    "campaign_id": campaign.pk,
                    "campaign": campaign.name,
                    "target": progress.target.indicator,
                    "unit_of_measure": progress.target.unit_of_measure,
                    "goal": str(progress.target.goal),
                    "actual": str(progress.progress),
                    "share": round(progress.share, 4) if progress.share is not None else None,
                    "url": url("portal:campaign", campaign.pk),
                }
            )
    return {**header(user, today), "targets": targets}


# --- problems --------------------------------------------------------------------------------


def problems(user: User | None, today: datetime.date | None = None) -> dict:
    """Problems not yet accepted, and those past their deadline (`problem_counts`, the problem
    list's "overdue" filter), in all and by unit (a joint committee's under each of its
    units). Four queries."""
    today = _today(today)
    counts = problem_counts(user, today)
    past_deadline = Q(deadline__lt=today)
    rows = list(
        visible_problems(user)
        .exclude(state=ProblemState.ACCEPTED)
        .order_by()
        .values("organization_id", "organization__unit_id")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=past_deadline))
    )
    units_of = _units_of(
        [r["organization_id"] for r in rows],
        {r["organization_id"]: r["organization__unit_id"] for r in rows},
    )
    by: dict[int, dict[str, int]] = defaultdict(lambda: {"open": 0, "overdue": 0})
    for row in rows:
        for unit_id in units_of[row["organization_id"]]:
            by[unit_id]["open"] += row["open"]
            by[unit_id]["overdue"] += row["overdue"]
    by_unit = [
        {
            "unit_id": unit["pk"],
            "unit": unit["name"],
            **by[unit["pk"]],
            "url": downloads_url("problems", {"unit": unit["pk"]}),
        }
        for unit in _units_shown(user, by)
    ]
    return {
        **header(user, today),
        "open": counts["unresolved"],
        "overdue": counts["overdue"],
        "by_unit": by_unit,
        "url": url("portal:problems"),
        "overdue_url": url("portal:problems", overdue="1"),
    }


# --- a secretary's own organization ----------------------------------------------------------


def branch_organization(user: User | None, pk: str | None) -> Organization | None:
    """The organization of the branch panel: `pk` (an id) among those the user sees, or the
    user's own; None when there is none."""
    if pk is None:
        if not getattr(user, "organization_id", None):
            return None
        pk = user.organization_id
    return visible_organizations(user).filter(pk=pk).first()


def branch(
    user: User | None, organization: Organization, today: datetime.date | None = None
) -> dict:
    """One organization: what it owes this month (the month's bulletin rule), attendance per
    member over the year so far, its problems (and those under it) and its pairings' visits
    this year."""
    today = _today(today)
    month = Period.containing("month", today)
    year_start = today.replace(month=1, day=1)
    result = compliance_due_in_month(
        Organization.objects.filter(pk=organization.pk), month, today=today
    )[organization.pk]

    pool = attendee_pool(organization)
    attendance = {
        row["member_id"]: row
        for row in Attendance.objects.filter(
            record__organization=organization,
            record__date__gte=year_start,
            record__date__lte=today,
        )
        .order_by()
        .values("member_id")
        .annotate(
            expected=Count("pk"),
            attended=Count("pk", filter=Q(status=AttendanceStatus.PRESENT)),
        )
    }
    records_url = url(
        "portal:activity_list",
        organization.pk,
        date_after=year_start.isoformat(),
        date_before=today.isoformat(),
    )
    members_attendance = []
    for member in pool:
        row = attendance.get(member.pk, {})
        expected, attended = row.get("expected", 0), row.get("attended", 0)
        members_attendance.append(
            {
                "member_id": member.pk,
                "member": member.name,
                "attended": attended,
                "expected": expected,
                "rate": rate(attended, expected),
                "url": records_url,
            }
        )

    under = Organization.objects.subtree_of(organization).values("pk")
    own_problems = (
        visible_problems(user)
        .filter(organization__in=under)
        .exclude(state=ProblemState.ACCEPTED)
        .select_related("organization")
        .order_by("deadline", "pk")
    )
    problem_items = list(own_problems[:BRANCH_ITEMS_SHOWN])
    problem_figures = own_problems.aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(deadline__lt=today))
    )

    current = list(
        visible_pairings(user)
        .current()
        .filter(organization=organization)
        .select_related("scheme", "partner")
        .order_by("scheme__sort_order", "pk")[:BRANCH_ITEMS_SHOWN]
    )
    visits = {
        row["pairing_id"]: row
        for row in HelpRecord.objects.filter(
            pairing__in=[p.pk for p in current],
            kind=HelpKind.VISIT,
            date__gte=year_start,
            date__lte=today,
        )
        .order_by()
        .values("pairing_id")
        .annotate(n=Count("pk"), last=Max("date"))
    }

    return {
        **header(user, today),
        "organization": {
            "id": organization.pk,
            "name": organization.name,
            "url": url("portal:organization", organization.pk),
        },
        "owed": {
            "month": month.code,
            "owed": result.owed,
            "held": result.held,
            "missing": result.missing,
            "detail": result.missing_detail(),
            "by_type": [
                {"type": name, "owed": o, "held": h, "missing": m}
                for name, o, h, m in result.by_type()
            ],
            "url": url("portal:organization", organization.pk),
        },
        "attendance": members_attendance,
        "problems": {
            "open": problem_figures["open"],
            "overdue": problem_figures["overdue"],
            "items": [
                {
                    "id": p.pk,
                    "organization": p.organization.name,
                    "description": p.description[:200],
                    "deadline": p.deadline.isoformat(),
                    "state": p.state,
                    "overdue": p.deadline < today,
                    "url": url("portal:problem", p.pk),
                }
                for p in problem_items
            ],
            "url": url("portal:problems"),
        },
        "visits": {
            "year": today.year,
            "count": sum(row["n"] for row in visits.values()),
            "pairings": [
                {
                    "pairing_id": p.pk,
                    "scheme": p.scheme.name,
                    "partner": p.partner.name,
                    "visits": visits.get(p.pk, {}).get("n", 0),
                    "last_visit": (visits[p.pk]["last"].isoformat() if p.pk in visits else None),
                    "url": url("portal:pairing", p.pk),
                }
                for p in current
            ],
        },
    }
