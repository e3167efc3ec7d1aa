"""The compliance engine: every rule boundary, and a constant number of queries."""

import datetime

import pytest

from branches.compliance import compute_compliance
from branches.models import ComplianceRule, Organization, OrganizationKind
from branches.periods import Period
from tests.conftest import add_record, make_member

D = datetime.date
TODAY = D(2026, 11, 27)


@pytest.fixture
def branch(tree, activity_types):
    """branch_a2 alone: one member, no committee, no groups."""
    return tree.branch_a2


def result_for(org, period, **kw):
    qs = Organization.objects.filter(pk=org.pk)
    return compute_compliance(qs, period, today=TODAY, **kw)[org.pk]


def missing(result):
    return {name: m for name, _owed, _held, m in result.by_type() if m}


def test_a_quarterly_lecture_on_31_march_counts_for_q1_not_q2(branch, activity_types):
    add_record(branch, activity_types["party_lecture"], D(2026, 3, 31))
    q1 = result_for(branch, Period.quarter(2026, 1))
    q2 = result_for(branch, Period.quarter(2026, 2))
    assert "党课" not in missing(q1)
    assert missing(q2)["党课"] == 1


def test_monthly_rules_are_owed_once_per_month_of_a_quarter(branch, activity_types):
    theme = activity_types["theme_day"]
    add_record(branch, theme, D(2026, 1, 5))
    add_record(branch, theme, D(2026, 1, 25))  # a second January day cannot cover February
    add_record(branch, theme, D(2026, 3, 1))
    q1 = result_for(branch, Period.quarter(2026, 1))
    line = [row for row in q1.by_type() if row[0] == "主题党日"][0]
    assert line == ("主题党日", 3, 2, 1)


def test_yearly_rules_are_not_owed_by_a_month(branch, activity_types):
    month = result_for(branch, Period.month(2026, 5))
    names = {name for name, *_ in month.by_type()}
    assert "组织生活会" not in names and "党课" not in names
    assert "主题党日" in names
    year = result_for(branch, Period.year(2026))
    assert {"组织生活会", "民主评议党员", "党课", "支部党员大会"} <= {n for n, *_ in year.by_type()}


def test_founded_on_20_may_owes_nothing_for_april_or_may(branch, activity_types):
    branch.founded_on = D(2026, 5, 20)
    branch.save()
    assert result_for(branch, Period.month(2026, 4)).owed == 0
    assert result_for(branch, Period.month(2026, 5)).owed == 0
    assert result_for(branch, Period.month(2026, 6)).owed > 0


def test_a_group_missing_its_meeting_makes_its_branch_non_compliant(tree, activity_types):
    branch = tree.branch_a
    second_group = Organization.objects.create(
        code="A-1-2",
        name="第二党小组",
        kind=OrganizationKind.GROUP,
        unit=tree.unit_a,
        parent=branch,
    )
    group_meeting = activity_types["group_meeting"]
    add_record(tree.group_a, group_meeting, D(2026, 6, 10))
    add_record(tree.group_a, group_meeting, D(2026, 6, 20))  # surplus does not cover the other
    result = result_for(branch, Period.month(2026, 6))
    assert missing(result)["党小组会"] == 1
    add_record(second_group, group_meeting, D(2026, 6, 11))
    result = result_for(branch, Period.month(2026, 6))
    assert "党小组会" not in missing(result)
    # The group itself is judged on its own meeting when asked about.
    groups = compute_compliance(
        Organization.objects.filter(kind=OrganizationKind.GROUP),
        Period.month(2026, 7),
        today=TODAY,
    )
    assert groups[tree.group_a.pk].missing == 1


def test_committee_meeting_owed_only_with_a_committee_and_counted_with_quorum(tree, activity_types):
    branch = tree.branch_a2
    assert "支部委员会" not in {n for n, *_ in result_for(branch, Period.month(2026, 6)).by_type()}
    for i, duty in enumerate(["secretary", "deputy_secretary", "committee_member"]):
        make_member(branch, f"C{i}", duty=duty)
    add_record(
        branch, activity_types["committee_meeting"], D(2026, 6, 3), counts_for_compliance=False
    )  # no quorum
    assert missing(result_for(branch, Period.month(2026, 6)))["支部委员会"] == 1
    add_record(branch, activity_types["committee_meeting"], D(2026, 6, 4))
    assert "支部委员会" not in missing(result_for(branch, Period.month(2026, 6)))


def test_a_rule_changed_in_june_applies_from_june_not_backwards(branch, activity_types):
    old = ComplianceRule.objects.get(activity_type=activity_types["theme_day"])
    old.active_to = D(2026, 5, 31)
    old.save()
    ComplianceRule.objects.create(
        activity_type=activity_types["theme_day"],
        period="month",
        minimum_count=2,
        organization_kinds=["branch"],
        active_from=D(2026, 6, 1),
    )
    theme = activity_types["theme_day"]
    add_record(branch, theme, D(2026, 5, 8))
    add_record(branch, theme, D(2026, 6, 8))
    assert "主题党日" not in missing(result_for(branch, Period.month(2026, 5)))
    assert missing(result_for(branch, Period.month(2026, 6)))["主题党日"] == 1
    year = result_for(branch, Period.year(2026))
    theme_line = [row for row in year.by_type() if row[0] == "主题党日"][0]
    assert theme_line[1] == 5 * 1 + 7 * 2  # Jan-May one a month, Jun-Dec two


def test_records_of_a_deleted_type_count_for_nothing_and_break_nothing(branch, activity_types):
    add_record(branch, activity_types["theme_day"], D(2026, 6, 8))
    activity_types["theme_day"].delete()
    result = result_for(branch, Period.month(2026, 6))
    assert "主题党日" not in {n for n, *_ in result.by_type()}
    assert branch.activity_records.get().type_name == "主题党日"  # the record is kept


def test_overdue_elections_are_reported(tree, activity_types):
    from branches.models import Term

    Term.objects.create(organization=tree.branch_a2, started_on=D(2022, 1, 10))  # due 2025-01-10
    result = result_for(tree.branch_a2, Period.month(2026, 6))
    assert result.election_overdue and result.election_due_on == D(2025, 1, 10)
    # Judged as of the period's end: in 2024 it was not overdue yet.
    assert not result_for(tree.branch_a2, Period.month(2024, 6)).election_overdue


def test_period_parsing_and_bounds():
    assert Period.parse("2026-02").end == D(2026, 2, 28)
    assert Period.parse("2024-Q1").end == D(2024, 3, 31)
    assert Period.parse("2026").subperiods("quarter")[-1] == Period.quarter(2026, 4)
    assert D(2026, 3, 31) in Period.quarter(2026, 1)
    assert D(2026, 4, 1) not in Period.quarter(2026, 1)
    with pytest.raises(ValueError):
        Period.parse("2026-13")


def _build_branches(unit, parent, n, start=0):
    orgs = []
    for i in range(start, start + n):
        orgs.append(
            Organization.objects.create(
                code=f"P{i}",
                name=f"支部{i}",
                kind=OrganizationKind.BRANCH,
                unit=unit,
                parent=parent,
            )
        )
    return orgs


def test_query_count_is_the_same_for_10_and_500_organizations(
    tree, activity_types, django_assert_num_queries
):
    # 1 organizations, 2 their groups, 3 rules, 4 committee sizes, 5 record counts, 6 terms.
    first = _build_branches(tree.unit_b, tree.committee_b, 10)
    for org in first:
        add_record(org, activity_types["theme_day"], D(2026, 6, 8))
    ids = [o.pk for o in first]
    with django_assert_num_queries(6):
        small = compute_compliance(
            Organization.objects.filter(pk__in=ids), Period.year(2026), today=TODAY
        )
    assert len(small) == 10
    more = _build_branches(tree.unit_b, tree.committee_b, 490, start=10)
    ids += [o.pk for o in more]
    with django_assert_num_queries(6):
        large = compute_compliance(
            Organization.objects.filter(pk__in=ids), Period.year(2026), today=TODAY
        )
    assert len(large) == 500


def test_the_card_owes_only_periods_that_have_begun(branch, activity_types):
    from branches.compliance import what_we_still_owe

    add_record(branch, activity_types["theme_day"], D(2026, 11, 3))
    month, quarter, year = what_we_still_owe(branch, today=TODAY)  # 27 November 2026
    assert (month.period.code, quarter.period.code, year.period.code) == (
        "2026-11",
        "2026-Q4",
        "2026",
    )
    assert dict(month.still_owed).get("主题党日") is None  # November's is done
    assert dict(quarter.still_owed)["主题党日"] == 1  # October's was missed
    assert dict(year.still_owed)["主题党日"] == 10  # January to October; December not begun


@pytest.mark.parametrize("month", [Period.month(2025, 12), Period.month(2025, 9)])
def test_a_month_that_closes_a_quarter_or_the_year_is_the_sum_of_its_parts(
    tree, activity_types, month
):
    """`compliance_due_in_month` reads once what the month, its quarter and its year each
    read: the same obligations, in the same order, as three runs of the engine."""
    from branches.compliance import compliance_due_in_month

    branch = tree.branch_a
    year = month.start.year
    add_record(branch, activity_types["theme_day"], D(year, month.start.month, 3))
    add_record(branch, activity_types["theme_day"], D(year, 2, 3))  # the year's, not the month's
    add_record(branch, activity_types["party_lecture"], D(year, 3, 10))
    add_record(branch, activity_types["party_lecture"], D(year, month.start.month - 1, 10))
    add_record(branch, activity_types["general_meeting"], D(year, 1, 20))
    orgs = Organization.objects.exclude(kind=OrganizationKind.GROUP)
    merged = compliance_due_in_month(orgs, month, today=D(2026, 11, 27))

    parts = [(month, {"month"}), (Period.containing("quarter", month.start), {"quarter"})]
    if month.start.month == 12:
        parts.append((Period.year(year), {"year"}))
    expected: dict = {}
    for period, kinds in parts:
        for pk, result in compute_compliance(
            orgs, period, today=D(2026, 11, 27), rule_periods=kinds
        ).items():
            expected.setdefault(pk, []).extend(result.obligations)
    assert set(merged) == set(expected)
    for pk, obligations in expected.items():
        assert merged[pk].obligations == obligations
    # Something was held and something is owed: the comparison is not of empty lists.
    lines = merged[branch.pk].by_type()
    assert any(held for _name, _owed, held, _missing in lines)
    assert any(missing for *_rest, missing in lines)
