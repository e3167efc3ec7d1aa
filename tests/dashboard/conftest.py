"""Dashboard fixtures: a little of everything in two units, and a way to grow the tree.

Built on the standing cast (`module_cast`): branch_a and branch_a2 in unit_a, branch_b in
unit_b. `build_figures(cast)` adds, in November 2026 (`TODAY`, a month that closes no quarter,
so its bulletin rule is the monthly rules alone, as the compliance ledger's month):
records and attendance, terms (one overdue, one due soon), problems (open, overdue, accepted),
pairings with help (funds, goods, visits) and titles (current and revoked).
`grow(cast, n, start)` adds n branches under committee_a with a bit of each.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches.models import (
    Attendance,
    AttendanceStatus,
    Organization,
    OrganizationKind,
    Term,
)
from campaigns.models import Campaign, CampaignKind, Problem, ProblemState, Target
from evaluations.models import Designation, DesignationStatus, Program, ProgramKind
from pairings.defaults import seed_schemes
from pairings.models import (
    HelpKind,
    HelpRecord,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
    Scheme,
)
from tests.conftest import add_record, make_member

D = datetime.date
TODAY = D(2026, 11, 20)


def add_problem(organization, deadline, state=ProblemState.OPEN, description="台账不全"):
    return Problem.objects.create(
        organization=organization,
        category="组织生活",
        description=description,
        found_on=D(2026, 9, 1),
        deadline=deadline,
        state=state,
    )


def add_pairing(scheme, organization, partner, status=PairingStatus.DOCKED):
    return Pairing.objects.create(
        scheme=scheme,
        organization=organization,
        partner=partner,
        status=status,
        started_on=D(2026, 1, 5),
        docked_on=D(2026, 1, 5) if status == PairingStatus.DOCKED else None,
    )


def add_help(pairing, kind, date, **fields):
    return HelpRecord.objects.create(
        pairing=pairing, kind=kind, date=date, description="走访", **fields
    )


def program(kind=ProgramKind.FIVE_STAR, year=2026):
    return Program.objects.get_or_create(
        name=f"{year}年度{kind}",
        defaults=dict(
            kind=kind,
            year=year,
            opens_on=D(year, 1, 1),
            closes_on=D(year, 3, 1),
            title=f"{kind}称号",
        ),
    )[0]


def add_title(organization, kind=ProgramKind.FIVE_STAR, status=DesignationStatus.CURRENT):
    made = program(kind)
    return Designation.objects.create(
        program=made,
        organization=organization,
        title=made.title,
        awarded_on=D(2026, 4, 1),
        valid_until=D(2029, 4, 1),
        status=status,
        **(
            {"revoked_on": D(2026, 9, 1), "revoke_reason": "复评未通过"}
            if status == DesignationStatus.REVOKED
            else {}
        ),
    )


def build_figures(cast) -> dict:
    tree, types = cast.tree, cast.activity_types
    theme, committee_meeting = types["theme_day"], types["committee_meeting"]
    found: dict = {}
    # November: branch_a held its theme day (with attendance), branch_b nothing.
    record = add_record(tree.branch_a, theme, D(2026, 11, 5), present_count=1, absent_count=1)
    Attendance.objects.create(
        record=record, member=tree.members["a1"], status=AttendanceStatus.PRESENT
    )
    Attendance.objects.create(
        record=record, member=tree.members["a2"], status=AttendanceStatus.ABSENT
    )
    add_record(tree.branch_a, committee_meeting, D(2026, 11, 6))
    add_record(tree.group_a, types["group_meeting"], D(2026, 11, 7))
    add_record(tree.branch_a2, theme, D(2026, 10, 5))  # October: not November's
    # Terms: branch_a's overdue, branch_b's due within 90 days, branch_a2's far off.
    Term.objects.create(organization=tree.branch_a, started_on=D(2022, 1, 1))
    Term.objects.create(organization=tree.branch_b, started_on=D(2024, 1, 10))
    Term.objects.create(organization=tree.branch_a2, started_on=D(2026, 1, 1))
    # Problems: branch_a open (one past deadline) and accepted; group_a open; branch_b overdue.
    found["problem_a"] = add_problem(tree.branch_a, D(2026, 11, 1), description="问题甲")
    add_problem(tree.branch_a, D(2026, 12, 31))
    add_problem(tree.branch_a, D(2026, 10, 1), state=ProblemState.ACCEPTED)
    add_problem(tree.group_a, D(2026, 12, 31))
    found["problem_b"] = add_problem(tree.branch_b, D(2026, 10, 1), description="问题乙")
    # Pairings and help: branch_a docked with funds, goods and visits; branch_b planned.
    seed_schemes(Scheme)
    scheme = Scheme.objects.order_by("sort_order", "pk").first()
    village = PartnerOrganization.objects.create(
        name="东村党支部", kind=PartnerKind.VILLAGE, town="城关镇"
    )
    village_b = PartnerOrganization.objects.create(
        name="西村党支部", kind=PartnerKind.VILLAGE, town="河口镇"
    )
    found["scheme"] = scheme
    found["pairing_a"] = pairing_a = add_pairing(scheme, tree.branch_a, village)
    pairing_b = add_pairing(scheme, tree.branch_b, village_b, PairingStatus.PLANNED)
    for day in (D(2026, 10, 8), D(2026, 10, 9), D(2026, 11, 1)):
        add_help(pairing_a, HelpKind.FUNDS, day, amount=Decimal("100.01"))
    add_help(pairing_a, HelpKind.VISIT, D(2026, 2, 3))
    add_help(pairing_a, HelpKind.VISIT, D(2026, 11, 3))
    add_help(
        pairing_b,
        HelpKind.GOODS,
        D(2026, 8, 1),
        item="棉被",
        quantity=Decimal("10"),
        unit_of_measure="床",
        value=Decimal("50.50"),
    )
    add_help(pairing_b, HelpKind.FUNDS, D(2026, 7, 1), amount=Decimal("0.10"))
    # Titles: two five-star (a, b), a brand (a2), a revoked one (a).
    add_title(tree.branch_a)
    add_title(tree.branch_b)
    add_title(tree.branch_a2, ProgramKind.BRAND)
    add_title(tree.branch_a, ProgramKind.BASE, DesignationStatus.REVOKED)
    campaign = Campaign.objects.create(
        name="十百千万", kind=CampaignKind.PLAN, starts_on=D(2026, 1, 1), ends_on=D(2026, 12, 31)
    )
    Target.objects.create(
        campaign=campaign,
        indicator="五星支部",
        unit_of_measure="个",
        goal=Decimal("100"),
        manual_progress=Decimal("30"),
    )
    found["campaign"] = campaign
    return found


def grow(cast, n: int, start: int = 0) -> list[Organization]:
    """n more branches under committee_a, each with a member, a theme day this month, an
    open problem, a docked pairing with a visit, a title and an overdue term."""
    tree, types = cast.tree, cast.activity_types
    scheme = Scheme.objects.order_by("sort_order", "pk").first()
    made = []
    for i in range(start, start + n):
        branch = Organization.objects.create(
            code=f"A-G{i}",
            name=f"统计局增设第{i}党支部",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
        member = make_member(branch, f"G{i:04d}", f"党员{i}")
        record = add_record(branch, types["theme_day"], D(2026, 11, 2), present_count=1)
        Attendance.objects.create(record=record, member=member)
        add_problem(branch, D(2026, 10, 1))
        partner = PartnerOrganization.objects.create(
            name=f"村{i}党支部", kind=PartnerKind.VILLAGE, town="城关镇"
        )
        pairing = add_pairing(scheme, branch, partner)
        add_help(pairing, HelpKind.VISIT, D(2026, 11, 4))
        add_help(pairing, HelpKind.FUNDS, D(2026, 11, 4), amount=Decimal("1.00"))
        add_title(branch)
        Term.objects.create(organization=branch, started_on=D(2020, 1, 1))
        made.append(branch)
    return made


@pytest.fixture(scope="module")
def module_figures(module_cast, django_db_blocker):
    with django_db_blocker.unblock():
        return build_figures(module_cast)


@pytest.fixture
def figures(module_figures, fresh):
    return fresh(module_figures)
