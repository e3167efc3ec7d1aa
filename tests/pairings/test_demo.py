"""The pairings demo (`pairings.demo`, built by `seed_demo`): the small scale is complete,
shaped like the real schemes, within their rules, dated up to today, exact in money, and the same
on every run; `--flush` removes it.

The small demo is seeded once for the module (a module-wide transaction, rolled back at its end);
each test runs in its own savepoint, so the ones that flush and reseed leave it to the next."""

from __future__ import annotations

import datetime
import re
from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import Role, User
from branches.defaults import seed_activity_types
from branches.models import (
    ActivityRecord,
    ActivityType,
    Attendance,
    ComplianceRule,
    Member,
    Organization,
    OrganizationKind,
)
from pairings import selectors
from pairings.demo import FLUSHED, HELP_DAYS
from pairings.models import (
    HelpKind,
    HelpRecord,
    Measure,
    MemberPair,
    Milestone,
    Need,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
    Project,
    ProjectStatus,
    Scheme,
)
from pairings.rules import rule_breaches, shape_errors

K = OrganizationKind


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_output(module_settings, django_db_setup, django_db_blocker):
    """The small demo with a year of organizational life, seeded once for the module."""
    with django_db_blocker.unblock():
        outer = transaction.atomic(using=DEFAULT_DB_ALIAS)
        outer.__enter__()
        try:
            seed_activity_types(ActivityType, ComplianceRule)
            output = seed(scale="small", activity_months=12)
        except BaseException:
            transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
            outer.__exit__(None, None, None)
            raise
    yield output
    with django_db_blocker.unblock():
        transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
        outer.__exit__(None, None, None)


@pytest.fixture
def seeded(demo_output, db):
    return demo_output


@pytest.fixture
def staff(seeded):
    return User.objects.get(username="admin", role=Role.STAFF)


def scheme(code: str) -> Scheme:
    return Scheme.objects.get(code=code)


def snapshot() -> dict:
    """Everything the demo wrote, keyed by what stays the same across runs (codes, names,
    member numbers), never by primary key."""

    def pairing_key(prefix: str = "") -> list[str]:
        return [
            f"{prefix}scheme__code",
            f"{prefix}organization__code",
            f"{prefix}partner__town",
            f"{prefix}partner__name",
        ]

    participants = defaultdict(list)
    for record_id, member_no in HelpRecord.participants.through.objects.values_list(
        "helprecord_id", "member__member_no"
    ):
        participants[record_id].append(member_no)
    helps = sorted(
        (*row[1:], tuple(sorted(participants[row[0]])))
        for row in HelpRecord.objects.values_list(
            "pk",
            *pairing_key("pairing__"),
            "kind",
            "date",
            "description",
            "others",
            "amount",
            "item",
            "quantity",
            "unit_of_measure",
            "value",
            "activity_record__organization__code",
            "activity_record__date",
        )
    )

    def rows(model, *fields):
        return sorted(model.objects.values_list(*fields))

    return {
        "partners": rows(
            PartnerOrganization,
            "town",
            "name",
            "kind",
            "district",
            "contact_name",
            "contact_phone",
            "situation",
        ),
        "pairings": rows(
            Pairing,
            *pairing_key(),
            "status",
            "started_on",
            "docked_on",
            "ended_on",
            "override_reason",
        ),
        "needs": rows(Need, *pairing_key("pairing__"), "description", "found_on", "met_on"),
        "measures": rows(Measure, "need__description", "description", "due_on", "done_on"),
        "projects": rows(
            Project, *pairing_key("pairing__"), "name", "budget", "started_on", "due_on", "status"
        ),
        "milestones": rows(Milestone, "project__name", "name", "due_on", "done_on"),
        "member_pairs": rows(
            MemberPair, "pairing__organization__code", "member__member_no", "counterpart_name"
        ),
        "help": helps,
    }


def figures_line(output: str) -> str:
    return next(line for line in output.splitlines() if "%" not in line and "“1+1”" in line)


# --- reproducible, and a flush removes it ------------------------------------------------------


def test_the_same_seed_gives_the_same_pairings(seeded):
    first_output = seed(scale="small", seed=5, activity_months=3, flush=True)
    first = snapshot()
    assert first["pairings"] and first["help"] and first["projects"]
    second_output = seed(scale="small", seed=5, activity_months=3, flush=True)
    assert snapshot() == first
    assert figures_line(second_output) == figures_line(first_output)


def test_flush_removes_every_pairing_row_and_keeps_the_schemes(seeded):
    counts = {model: model.objects.count() for model in FLUSHED}
    assert all(counts[m] for m in (Pairing, PartnerOrganization, HelpRecord, Need, Project))
    output = seed(scale="small", activity_months=0, flush=True)
    # the flush said what it deleted
    assert f"{counts[Pairing]}" in output and f"{counts[HelpRecord]}" in output
    # ...and seeding again without activity records still gives pairings, no theme-day visits
    assert Pairing.objects.exists()
    assert not HelpRecord.objects.filter(activity_record__isnull=False).exists()
    from branches import demo

    deleted = demo.flush()
    assert deleted["pairings"] > 0 and deleted["partners"] > 0 and deleted["help_records"] > 0
    for model in FLUSHED:
        assert not model.objects.exists(), model
    assert Scheme.objects.count() == 5
    assert not Organization.objects.exists()


def test_if_empty_leaves_the_pairings_alone(seeded):
    before = snapshot()
    assert "已有" in seed(scale="small", if_empty=True)
    assert snapshot() == before


def test_the_command_reports_the_pairings(seeded, staff):
    line = figures_line(seeded)
    totals = selectors.help_totals(staff)["total"]
    assert f"{totals.funds:,.2f}" in line and f"{totals.goods_value:,.2f}" in line
    assert f"{Pairing.objects.count()}" in line


# --- the shape of the schemes ------------------------------------------------------------------


def test_one_plus_one_docking_is_like_822_of_827(seeded, staff):
    one = scheme("one_plus_one")
    line = next(d.total for d in selectors.docking(staff) if d.total.scheme == one)
    branches = Organization.objects.filter(kind=K.BRANCH).count()
    assert line.enrolled == branches
    assert line.docked >= 0.9 * branches  # most docked
    assert line.paired > line.docked  # a few planned
    assert line.paired < branches  # a few with no pairing at all
    assert selectors.unpaired_organizations(staff, one).exists()
    current = Pairing.objects.current().filter(scheme=one)
    assert current.filter(status=PairingStatus.PLANNED, docked_on__isnull=True).exists()
    # one branch changed village: the old pairing ended, the new one current
    ended = Pairing.objects.filter(scheme=one, status=PairingStatus.ENDED).first()
    assert ended is not None and ended.ended_on is not None
    assert current.filter(organization=ended.organization).exclude(partner=ended.partner).exists()
    # villages only, one per branch, but for the one shared by two branches (flagged)
    assert set(current.values_list("partner__kind", flat=True)) == {PartnerKind.VILLAGE}
    shared = current.values("partner").annotate(n=Count("pk")).filter(n__gt=1)
    assert shared.count() == 1
    assert current.filter(partner=shared[0]["partner"]).exclude(override_reason="").count() == 1
    assert selectors.flagged_pairings(staff).exists()
    # members pair with village members and key households
    pairs = MemberPair.objects.select_related("pairing", "member")
    assert {p.counterpart_kind for p in pairs} == {"village_member", "key_household"}
    for pair in pairs:
        assert pair.pairing.scheme.member_pairs
        assert Member.objects.under(pair.pairing.organization_id).filter(pk=pair.member_id).exists()
    assert not MemberPair.objects.exclude(pairing__scheme=one).exists()


def test_one_plus_two_communities_have_two_organizations_leading_projects(seeded, staff):
    two = scheme("one_plus_two")
    current = Pairing.objects.current().filter(scheme=two)
    per_partner = Counter(current.values_list("partner_id", flat=True))
    assert len(per_partner) >= 3
    assert sorted(per_partner.values()).count(1) == 1  # one community incomplete
    assert set(per_partner.values()) == {1, 2}
    incomplete = list(selectors.incomplete_partners(staff))
    assert [row["scheme_id"] for row in incomplete] == [two.pk]
    assert set(current.values_list("partner__kind", flat=True)) <= {
        PartnerKind.COMMUNITY,
        PartnerKind.NEIGHBOURHOOD_CENTRE,
    }
    # every organization leads a project, but one
    lacking = list(selectors.pairings_lacking_projects(staff))
    assert len(lacking) == 1 and lacking[0].scheme == two
    projects = Project.objects.filter(pairing__scheme=two)
    assert projects.exists()
    assert projects.filter(milestones__isnull=False).exists()
    assert selectors.overdue_projects(staff).exists()
    today = timezone.localdate()
    for project in Project.objects.all():
        assert isinstance(project.budget, Decimal) and project.budget >= 0
        assert project.due_on >= project.started_on
        assert (project.status == ProjectStatus.DONE) == (project.done_on is not None)
        if project.done_on:
            assert project.started_on <= project.done_on <= today


def test_other_schemes_and_partners(seeded):
    current = Pairing.objects.current()
    support = current.filter(scheme__code="village_support")
    assert support.exists()
    # a village helped by two organ organizations (82 organizations with 75 villages)
    assert support.values("partner").distinct().count() < support.count()
    assert current.filter(scheme__code="neighbourhood").exists()
    assert current.filter(scheme__code="co_creation").exists()
    partners = PartnerOrganization.objects.all()
    kinds = set(partners.values_list("kind", flat=True))
    assert {"village", "community", "neighbourhood_centre", "enterprise", "school"} <= kinds
    assert partners.filter(pairings__isnull=True).exists()  # registered, not paired yet
    assert not partners.filter(Q(contact_name="") | Q(contact_phone="") | Q(situation="")).exists()
    assert partners.filter(name__endswith="村党支部").exists()
    assert partners.filter(name__contains="社区").exists()
    for partner in partners:
        assert re.fullmatch(r"1\d\d\*{4}\d{4}", partner.contact_phone)
        assert partner.town and partner.district


# --- within the rules, nothing in the future ---------------------------------------------------


def test_the_demo_passes_the_scheme_rules(seeded):
    pairings = Pairing.objects.current().select_related("scheme", "organization", "partner")
    assert pairings.count() > 20
    for pairing in pairings:
        assert shape_errors(pairing.scheme, pairing.organization, pairing.partner) == {}
        if pairing.override_reason:
            continue
        # the scheme's limits hold among the pairings made without an override
        others = (
            Pairing.objects.current()
            .filter(scheme=pairing.scheme, override_reason="")
            .exclude(pk=pairing.pk)
        )
        assert rule_breaches(pairing.scheme, pairing.organization, pairing.partner, others) == {}
    for pairing in Pairing.objects.all():
        if pairing.status == PairingStatus.DOCKED:
            assert pairing.docked_on is not None
        if pairing.docked_on:
            assert pairing.started_on <= pairing.docked_on
        if pairing.status == PairingStatus.ENDED:
            assert pairing.started_on <= pairing.ended_on


def test_no_date_is_in_the_future(seeded):
    today = timezone.localdate()
    checks = [
        (Pairing, ["started_on", "docked_on", "ended_on"]),
        (Need, ["found_on", "met_on"]),
        (Measure, ["done_on"]),
        (Project, ["started_on", "done_on"]),
        (Milestone, ["done_on"]),
        (MemberPair, ["started_on"]),
        (HelpRecord, ["date"]),
    ]
    for model, fields in checks:
        assert model.objects.exists(), model
        for name in fields:
            assert not model.objects.filter(**{f"{name}__gt": today}).exists(), (model, name)
    assert not Need.objects.filter(met_on__lt=F("found_on")).exists()
    assert not Measure.objects.filter(done_on__lt=F("need__found_on")).exists()
    assert Need.objects.filter(met_on__isnull=False).exists()
    assert Need.objects.filter(met_on__isnull=True).exists()
    assert Measure.objects.exists()


# --- a year of help ----------------------------------------------------------------------------


def test_help_records_span_a_year_up_to_today(seeded, staff):
    today = timezone.localdate()
    helps = HelpRecord.objects.select_related("pairing")
    dates = sorted(helps.values_list("date", flat=True))
    assert dates[0] >= today - datetime.timedelta(days=HELP_DAYS)
    assert dates[0] <= today - datetime.timedelta(days=300)
    assert today - datetime.timedelta(days=30) <= dates[-1] <= today
    for record in helps:
        pairing = record.pairing
        assert pairing.status != PairingStatus.PLANNED
        assert pairing.docked_on <= record.date
        assert pairing.ended_on is None or record.date <= pairing.ended_on
    kinds = Counter(helps.values_list("kind", flat=True))
    assert kinds[HelpKind.VISIT] > kinds[HelpKind.GOODS] > 0 and kinds[HelpKind.FUNDS] > 0
    # who went: members of the organization (or of its branches)
    visits = HelpRecord.objects.filter(kind=HelpKind.VISIT).prefetch_related("participants")
    assert all(v.participants.all() for v in visits if v.activity_record_id is None)
    for visit in visits[:200]:
        ids = {m.pk for m in visit.participants.all()}
        under = Member.objects.under(visit.pairing.organization_id).filter(pk__in=ids).count()
        assert under == len(ids)
    # a few current pairings not visited for more than 90 days, planned ones aside
    unvisited = selectors.unvisited_pairings(staff).filter(status=PairingStatus.DOCKED)
    assert 1 <= unvisited.count() <= 0.2 * Pairing.objects.current().count()


def test_some_visits_are_the_branch_theme_day(seeded):
    linked = HelpRecord.objects.filter(activity_record__isnull=False).select_related(
        "pairing", "activity_record__activity_type"
    )
    assert linked.exists()
    for visit in linked:
        record = visit.activity_record
        assert visit.kind == HelpKind.VISIT
        assert record.activity_type.code == "theme_day"
        assert record.organization_id == visit.pairing.organization_id
        assert record.date == visit.date
        present = set(
            Attendance.objects.filter(record=record, status="present").values_list(
                "member_id", flat=True
            )
        )
        assert set(visit.participants.values_list("pk", flat=True)) == present
    # no theme day was filed twice: the visits point at records the activity step made
    assert ActivityRecord.objects.filter(help_record__isnull=False).count() == linked.count()


def test_money_is_exact_decimal(seeded, staff):
    funds = list(HelpRecord.objects.filter(kind=HelpKind.FUNDS).values_list("amount", flat=True))
    values = list(
        HelpRecord.objects.filter(kind=HelpKind.GOODS, value__isnull=False).values_list(
            "value", flat=True
        )
    )
    assert funds and values
    assert all(isinstance(v, Decimal) and v > 0 for v in funds)
    assert all(v == v.quantize(Decimal("0.01")) for v in funds + values)
    totals = selectors.help_totals(staff)
    assert totals["total"].funds == sum(funds, Decimal("0.00"))
    assert totals["total"].goods_value == sum(values, Decimal("0.00"))
    assert min(funds) >= 2000 and max(funds) <= 50000
    goods = HelpRecord.objects.filter(kind=HelpKind.GOODS)
    assert not goods.filter(Q(item="") | Q(unit_of_measure="") | Q(quantity__lte=0)).exists()
    assert {"床", "袋", "桶", "册", "套", "台", "件", "份"} & set(
        goods.values_list("unit_of_measure", flat=True)
    )


def test_the_demo_secretaries_have_a_full_ledger(seeded):
    for username in ("secretary1", "secretary2"):
        user = User.objects.get(username=username)
        (pairing,) = selectors.pairings_for_display(user).filter(scheme__code="one_plus_one")
        assert pairing.status == PairingStatus.DOCKED
        assert pairing.visit_count >= 4 and pairing.funds_fen > 0
        assert pairing.need_count >= 2 and 0 < pairing.open_need_count < pairing.need_count
        assert pairing.member_pairs.exists()
        assert pairing.help_records.filter(filed_by=user).exists()
        assert pairing.help_records.filter(activity_record__isnull=False).exists()
