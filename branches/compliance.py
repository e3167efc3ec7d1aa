"""The compliance engine: for a period and a set of organizations, what each owed, held and
still owes of organizational life, plus overdue term elections.

A constant number of queries whatever the number of organizations (six: organizations, their
groups, rules, committee sizes, record counts grouped by organization/type/month, current terms).

Semantics, so that everybody reads the figures the same way:
- a period counts for an organization that existed on its first day (founded on or before it);
- a rule applies to the periods that start while it is in force (a June change applies from June);
- a rule finer than the period asked is owed once per sub-period (a monthly rule in a quarter is
  owed three times; twelve theme days in January do not cover the year);
- a rule coarser than the period asked is not part of it (a yearly rule is not owed by a month);
- 党小组会 is owed by each group; a branch is compliant only when every group under it is;
- a committee meeting is owed only by branches with an elected committee (3 or more members
  with committee duties) and counts only with a quorum (stored on the record when filed);
- records whose type was deleted count for nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from .models import (
    COMMITTEE_DUTIES,
    ActivityRecord,
    ComplianceRule,
    Member,
    Organization,
    OrganizationKind,
    Term,
)
from .periods import MONTHS_IN, Period

COMMITTEE_MIN_SIZE = 3


@dataclass
class Obligation:
    activity_type_id: int
    type_name: str
    period: Period
    required: int
    held: int
    groups: int = 0  # for a branch's rolled-up 党小组会: how many groups owe it

    @property
    def counted(self) -> int:
        return min(self.held, self.required)

    @property
    def missing(self) -> int:
        return self.required - self.counted

    @property
    def ok(self) -> bool:
        return self.missing == 0


@dataclass
class OrganizationCompliance:
    organization_id: int
    kind: str
    obligations: list[Obligation] = field(default_factory=list)
    election_due_on: datetime.date | None = None
    election_overdue: bool = False

    @property
    def owed(self) -> int:
        return sum(o.required for o in self.obligations)

    @property
    def held(self) -> int:
        return sum(o.counted for o in self.obligations)

    @property
    def missing(self) -> int:
        return sum(o.missing for o in self.obligations)

    @property
    def compliant(self) -> bool:
        return self.missing == 0

    @property
    def rate(self) -> float | None:
        return round(self.held / self.owed, 4) if self.owed else None

    def by_type(self) -> list[tuple[str, int, int, int]]:
        """(type name, owed, held, missing) per activity type, in rule order."""
        rows: dict[str, list[int]] = {}
        for o in self.obligations:
            row = rows.setdefault(o.type_name, [0, 0, 0])
            row[0] += o.required
            row[1] += o.counted
            row[2] += o.missing
        return [(name, *values) for name, values in rows.items()]

    def missing_detail(self) -> str:
        """What was missed, as the bulletin and ledgers print it: "主题党日×1、党课×1"."""
        return "、".join(f"{name}×{missing}" for name, _o, _h, missing in self.by_type() if missing)

    def missing_types(self) -> list[str]:
        return [name for name, _owed, _held, missing in self.by_type() if missing]


def _applies(rule: ComplianceRule, kind: str, founded_on, sub: Period, has_committee: bool) -> bool:
    if kind not in rule.organization_kinds:
        return False
    if founded_on is not None and founded_on > sub.start:
        return False
    if rule.activity_type.committee_only and not has_committee:
        return False
    return rule.active_from <= sub.start and (rule.active_to is None or rule.active_to >= sub.start)


# Up to this many organizations go into the engine's queries as literal ids (a page's worth, a
# secretary's subtree, an inspector's units). The city's 840 as a subquery: preparing them as
# parameters of four queries cost a quarter of the run (PostgreSQL 43 -> 31 ms, SQLite 50 -> 42).
FEW_ORGANIZATIONS = 300


def compute_compliance(
    organizations: QuerySet[Organization],
    period: Period,
    *,
    today: datetime.date | None = None,
    rule_periods: Collection[str] | None = None,
) -> dict[int, OrganizationCompliance]:
    """Compliance of each organization in `organizations` (already scoped) for `period`.

    `rule_periods` limits the rules to those kinds of period (the bulletin asks a quarter for
    its quarterly rules only, having counted the monthly ones month by month).
    """
    return _judge(organizations, [(period, rule_periods)], today=today)


def _judge(
    organizations: QuerySet[Organization],
    parts: list[tuple[Period, Collection[str] | None]],
    *,
    today: datetime.date | None = None,
) -> dict[int, OrganizationCompliance]:
    """The engine: each organization's obligations of every part (a period and the kinds of
    rule it asks for), in the order of `parts`, from one read of the organizations, rules,
    committees, terms and records (a month that closes the year reads them once, not three
    times). The election is judged at the end of the first part (or today)."""
    today = today or timezone.localdate()
    as_of = min(today, parts[0][0].end)
    start = min(period.start for period, _kinds in parts)
    end = max(period.end for period, _kinds in parts)
    assert start.year == end.year, "months, quarters and years lie within one year"

    orgs = list(organizations.order_by().values("id", "kind", "founded_on", "parent_id"))
    # The later queries take the organizations as a list of ids when there are few (a page's
    # worth), as subqueries when there are many. Preparing 8,000 ids as parameters cost a third
    # of a province-wide run; a scope's subquery (ORs the planner cannot size) made PostgreSQL
    # read a whole year of records for one branch (68 ms instead of under 1).
    few = len(orgs) <= FEW_ORGANIZATIONS
    if few:
        org_ids = [o["id"] for o in orgs]
        branch_ids = [o["id"] for o in orgs if o["kind"] == OrganizationKind.BRANCH]
    else:
        org_ids = organizations.order_by().values("id")
        branch_ids = organizations.filter(kind=OrganizationKind.BRANCH).order_by().values("id")
    # Groups under the branches asked about: their meetings decide the branch's 党小组会 line.
    groups_asked = Organization.objects.filter(
        parent_id__in=branch_ids, kind=OrganizationKind.GROUP
    )
    groups = list(groups_asked.order_by().values("id", "kind", "founded_on", "parent_id"))
    if few:
        counted_ids = org_ids + [g["id"] for g in groups]
    else:
        counted_ids = Organization.objects.filter(
            Q(pk__in=org_ids) | Q(pk__in=groups_asked.values("id"))
        ).values("id")

    every_rule = list(
        ComplianceRule.objects.select_related("activity_type").filter(active_from__lte=end)
    )
    rules_of_part = [
        [
            r
            for r in every_rule
            if r.active_from <= period.end
            and MONTHS_IN[r.period] <= period.months
            and (kinds is None or r.period in kinds)
        ]
        for period, kinds in parts
    ]
    rules = {r.pk: r for part_rules in rules_of_part for r in part_rules}.values()
    committee_sizes = dict(
        Member.objects.filter(branch_id__in=branch_ids, duty__in=COMMITTEE_DUTIES)
        .order_by()
        .values("branch_id")
        .annotate(n=Count("id"))
        .values_list("branch_id", "n")
    )
    held: dict[tuple[int, int, datetime.date], int] = defaultdict(int)
    if rules and orgs:
        # Each type's records from the first day a part needs them: December reads its monthly
        # types for December only and its yearly ones for the whole year (a sixth of the rows).
        since: dict[int, datetime.date] = {}
        for (period, _kinds), part_rules in zip(parts, rules_of_part, strict=True):
            for r in part_rules:
                since[r.activity_type_id] = min(period.start, since.get(r.activity_type_id, end))
        types_since: dict[datetime.date, list[int]] = defaultdict(list)
        for type_id, day in since.items():
            types_since[day].append(type_id)
        wanted = Q()
        for day, type_ids in types_since.items():
            wanted |= Q(activity_type_id__in=type_ids, date__gte=day)
        rows = (
            ActivityRecord.objects.filter(
                wanted,
                organization_id__in=counted_ids,
                date__lte=end,
                counts_for_compliance=True,
            )
            .order_by()
            .annotate(month=ExtractMonth("date"))
            .values("organization_id", "activity_type_id", "month")
            .annotate(n=Count("id"))
            .values_list("organization_id", "activity_type_id", "month", "n")
        )
        # The month's number is enough (a period never spans two years), and tuples of plain
        # integers cost a fifth of dicts of dates: a year of the city is 18,000 of them.
        first_days = {m: datetime.date(start.year, m, 1) for m in range(1, 13)}
        for org_id, type_id, month, n in rows:
            held[(org_id, type_id, first_days[month])] += n
    terms = dict(
        Term.objects.filter(organization_id__in=org_ids, ended_on__isnull=True)
        .order_by()
        .values_list("organization_id", "due_on")
    )

    # The sub-periods of each part's rules and their months, worked out once, not per
    # organization. Records are counted by month, so every part reads the same `held`.
    subperiods = [
        {
            rule.pk: [
                (sub, [m.start for m in sub.subperiods("month")])
                for sub in period.subperiods(rule.period)
            ]
            for rule in part_rules
        }
        for (period, _kinds), part_rules in zip(parts, rules_of_part, strict=True)
    ]

    def obligations_of(org: dict, part: int) -> list[Obligation]:
        has_committee = committee_sizes.get(org["id"], 0) >= COMMITTEE_MIN_SIZE
        found = []
        for rule in rules_of_part[part]:
            if org["kind"] not in rule.organization_kinds:
                continue
            type_id = rule.activity_type_id
            for sub, months in subperiods[part][rule.pk]:
                if _applies(rule, org["kind"], org["founded_on"], sub, has_committee):
                    found.append(
                        Obligation(
                            type_id,
                            rule.activity_type.name,
                            sub,
                            rule.minimum_count,
                            sum(held.get((org["id"], type_id, m), 0) for m in months),
                        )
                    )
        return found

    groups_by_branch: dict[int, list[dict]] = defaultdict(list)
    for group in groups:
        groups_by_branch[group["parent_id"]].append(group)

    result: dict[int, OrganizationCompliance] = {}
    for org in orgs:
        obligations = []
        for part in range(len(parts)):
            obligations.extend(obligations_of(org, part))
            # Roll the groups' meetings up into one line per type and sub-period for the branch.
            rolled: dict[tuple[int, Period], Obligation] = {}
            for group in groups_by_branch.get(org["id"], []):
                for o in obligations_of(group, part):
                    line = rolled.setdefault(
                        (o.activity_type_id, o.period),
                        Obligation(o.activity_type_id, o.type_name, o.period, 0, 0),
                    )
                    line.required += o.required
                    line.held += o.counted  # a group's surplus cannot cover another group
                    line.groups += 1
            obligations.extend(rolled.values())
        due = terms.get(org["id"])
        result[org["id"]] = OrganizationCompliance(
            organization_id=org["id"],
            kind=org["kind"],
            obligations=obligations,
            election_due_on=due,
            election_overdue=due is not None and due < as_of,
        )
    return result


@dataclass
class PeriodStatus:
    period: Period
    compliance: OrganizationCompliance

    @property
    def still_owed(self) -> list[tuple[str, int]]:
        """(type name, how many still to hold) for this period so far."""
        return [
            (name, missing) for name, _owed, _held, missing in self.compliance.by_type() if missing
        ]


def what_we_still_owe(
    organization: Organization, today: datetime.date | None = None
) -> list[PeriodStatus]:
    """The secretary's card: this month, this quarter and this year, so far.

    One run of the engine for the year, sliced into the month and the quarter; periods that
    have not begun yet (December's theme day in November) are not owed yet.
    """
    today = today or timezone.localdate()
    qs = Organization.objects.filter(pk=organization.pk)
    year_period = Period.containing("year", today)
    year = compute_compliance(qs, year_period, today=today)[organization.pk]
    year = dataclasses.replace(
        year, obligations=[o for o in year.obligations if o.period.start <= today]
    )
    statuses = []
    for period in (Period.containing("month", today), Period.containing("quarter", today)):
        inside = [
            o
            for o in year.obligations
            if period.start <= o.period.start and o.period.end <= period.end
        ]
        statuses.append(PeriodStatus(period, dataclasses.replace(year, obligations=inside)))
    statuses.append(PeriodStatus(year_period, year))
    return statuses


def compliance_due_in_month(
    organizations: QuerySet[Organization], month: Period, *, today: datetime.date | None = None
) -> dict[int, OrganizationCompliance]:
    """Everything that fell due by the end of `month`: its monthly rules, the quarter's rules
    when the month closes a quarter, the year's rules in December (the monthly bulletin)."""
    assert month.kind == "month"
    parts = [(month, {"month"})]
    if month.start.month % 3 == 0:
        parts.append((Period.containing("quarter", month.start), {"quarter"}))
    if month.start.month == 12:
        parts.append((Period.year(month.start.year), {"year"}))
    return _judge(organizations, parts, today=today)
