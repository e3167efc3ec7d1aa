"""`manage.py seed_demo`: the small demo set is complete, consistent and reproducible."""

import datetime
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import Role, User
from branches import demo, selectors
from branches.compliance import COMMITTEE_MIN_SIZE, compute_compliance
from branches.dates import add_months
from branches.models import (
    COLLEGE_OR_ABOVE,
    COMMITTEE_DUTIES,
    ActivityRecord,
    Attendance,
    ComplianceRule,
    Member,
    MemberStatus,
    Organization,
    OrganizationKind,
    PartyDuty,
    Term,
    Unit,
    years_ago,
)
from branches.periods import Period
from branches.rules import branch_structure_warnings

K = OrganizationKind


def seed(*args, **options) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded(db, activity_types):
    return seed(scale="small", activity_months=2)


@pytest.fixture
def year_of_activity(db, activity_types):
    """Twelve full months of organizational life, and this month so far."""
    return seed(scale="small", activity_months=12)


def window_start(months: int) -> datetime.date:
    return add_months(timezone.localdate().replace(day=1), -months)


def test_small_scale_counts(seeded):
    assert Unit.objects.count() == 6
    assert 30 <= Organization.objects.count() <= 60
    assert 350 <= Member.objects.count() <= 500
    for kind in K.values:
        assert Organization.objects.filter(kind=kind).exists(), kind
    assert set(Organization.objects.values_list("host_type", flat=True)) == {
        "organ",
        "public_institution",
        "enterprise",
    }
    assert "演示数据已生成" in seeded  # the command speaks the default language, zh-hans


def test_tree_is_consistent(seeded):
    orgs = {o.pk: o for o in Organization.objects.all()}
    assert len({o.code for o in orgs.values()}) == len(orgs)
    for org in orgs.values():
        parent = orgs.get(org.parent_id)
        parent_path = parent.path if parent else "/"
        assert org.path == Organization.build_path(parent_path, org.pk)
        assert org.depth == (parent.depth + 1 if parent else 0)
        if org.kind == K.GROUP:
            assert parent.kind == K.BRANCH
        if org.kind == K.GENERAL_BRANCH:
            assert parent.kind == K.COMMITTEE
    # Subtree lookups work on the computed paths.
    committee = Organization.objects.filter(kind=K.COMMITTEE, parent=None).first()
    assert Organization.objects.subtree_of(committee).count() > 1


def test_members_are_plausible(seeded):
    members = list(Member.objects.select_related("branch", "group"))
    assert len({m.member_no for m in members}) == len(members)
    for m in members:
        assert m.branch.kind == K.BRANCH
        if m.group_id:
            assert m.group.kind == K.GROUP and m.group.parent_id == m.branch_id
        assert m.joined_on >= years_ago(m.birth_date, -18)
        if m.status == MemberStatus.FULL:
            assert m.full_member_on == add_months(m.joined_on, 12)
        else:
            assert m.full_member_on is None
            assert m.joined_on > years_ago(timezone.localdate(), 1)
    assert {m.birth_date.year // 10 * 10 for m in members} >= {1950, 1960, 1970, 1980, 1990}
    probationary = sum(m.status == MemberStatus.PROBATIONARY for m in members)
    assert 0.02 < probationary / len(members) < 0.1
    college = sum(m.education in COLLEGE_OR_ABOVE for m in members)
    assert college / len(members) > 0.8
    female = sum(m.sex == "female" for m in members)
    assert 0.3 < female / len(members) < 0.6
    assert any(m.community for m in members)
    assert any(m.first_secretary_village for m in members)
    assert any(m.is_hardship for m in members)
    assert any(m.is_party_worker for m in members)
    assert Member.objects.filter(group__isnull=False).exists()


def test_duties_secretaries_and_structure_warnings(seeded):
    staff = User(role=Role.STAFF)  # counts of the whole tree
    branches = selectors.with_member_counts(Organization.objects.filter(kind=K.BRANCH), staff)
    warnings = []
    for branch in branches:
        secretaries = Member.objects.filter(branch=branch, duty=PartyDuty.SECRETARY)
        assert secretaries.count() <= 1
        if branch.secretary_id:
            assert secretaries.get().pk == branch.secretary_id
        warnings += branch_structure_warnings(
            branch.kind,
            branch.member_count,
            branch.full_member_count,
            branch.committee_size,
            bool(branch.secretary_id),
        )
    # The deliberate breaches show up: too few full members, too many members, no committee,
    # no secretary.
    assert len(warnings) >= 4
    assert any(b.full_member_count < 3 for b in branches)
    assert any(b.member_count > 50 for b in branches)
    assert any(b.full_member_count >= 7 and b.committee_size < 3 for b in branches)
    assert any(not b.secretary_id for b in branches)
    # The others with 7+ full members have a committee of 3 to 5.
    committees = [
        b.committee_size for b in branches if b.full_member_count >= 7 and b.committee_size > 1
    ]
    assert committees and all(3 <= size <= 5 for size in committees)
    assert Organization.objects.filter(kind=K.COMMITTEE, secretary__isnull=False).exists()


def test_joint_committee_spans_two_units(seeded):
    joint = Organization.objects.get(joint_units__isnull=False)
    assert joint.kind == K.COMMITTEE
    assert joint.unit.name == "市统计局"
    assert "联合党委" in joint.name
    other = joint.joint_units.get()
    assert "调查队" in other.name
    assert joint.children.filter(unit=other).exists()


def test_terms(seeded):
    elected = Organization.objects.exclude(kind=K.GROUP)
    assert Term.objects.filter(ended_on__isnull=True).count() == elected.count()
    assert not Term.objects.filter(organization__kind=K.GROUP).exists()
    for term in Term.objects.all():
        assert term.due_on == Term.compute_due_on(
            term.started_on, term.length_years, term.extension_months
        )
    assert selectors.overdue_elections(Organization.objects.all()).exists()
    assert selectors.elections_due_soon(Organization.objects.all()).exists()
    extended = Term.objects.exclude(extension_months=0)
    assert extended.exists()
    assert not extended.filter(extension_approval="").exists()
    committee_term = Term.objects.filter(organization__kind=K.COMMITTEE).first()
    assert committee_term.length_years == 5
    assert not Term.objects.filter(ended_on__lt=F("started_on")).exists()


def test_demo_accounts(seeded):
    staff = User.objects.get(username="admin")
    assert staff.role == Role.STAFF and staff.is_staff and staff.is_superuser
    assert staff.check_password(demo.DEMO_PASSWORD)

    secretaries = User.objects.filter(role=Role.SECRETARY)
    assert secretaries.count() == 2
    assert secretaries.values("organization__unit").distinct().count() == 2
    for user in secretaries:
        assert user.organization.kind == K.BRANCH
        scope = selectors.visible_organizations(user)
        assert scope.filter(pk=user.organization_id).exists()
        assert selectors.visible_members(user).exists()

    inspector = User.objects.get(role=Role.INSPECTOR, city_wide=False)
    assert inspector.units.count() == 1
    assert selectors.visible_organizations(inspector).exists()
    city = User.objects.get(role=Role.INSPECTOR, city_wide=True)
    assert selectors.visible_organizations(city).count() == Organization.objects.count()

    for username in ("admin", "secretary1", "secretary2", "inspector1", "inspector_city"):
        assert username in seeded
    assert demo.DEMO_PASSWORD in seeded
    assert "/admin/" in seeded and "/portal/" in seeded


def _snapshot():
    return list(
        Member.objects.order_by("member_no").values_list(
            "member_no", "name", "birth_date", "branch__name", "duty"
        )
    )


def _records_snapshot():
    records = ActivityRecord.objects.order_by("organization__code", "activity_type__code", "date")
    rows = list(
        records.values_list(
            "organization__code",
            "activity_type__code",
            "date",
            "topic",
            "place",
            "present_count",
            "excused_count",
            "absent_count",
            "counts_for_compliance",
            "filed_at",
        )
    )
    attendance = list(
        Attendance.objects.order_by(
            "record__organization__code", "record__date", "member__member_no"
        ).values_list("record__activity_type__code", "member__member_no", "status")
    )
    return rows, attendance


def test_deterministic(db, activity_types):
    seed(scale="small", seed=5, activity_months=3)
    first, first_records = _snapshot(), _records_snapshot()
    assert first_records[0] and first_records[1]
    seed(scale="small", seed=5, activity_months=3, flush=True)
    assert _snapshot() == first
    assert _records_snapshot() == first_records
    assert User.objects.filter(username="admin").count() == 1
    seed(scale="small", seed=6, activity_months=3, flush=True)
    assert [row[1] for row in _snapshot()] != [row[1] for row in first]
    assert _records_snapshot() != first_records


def test_activity_records_do_not_change_the_rest(db, activity_types):
    """Activity records draw from their own random stream: the tree and members stay put."""
    seed(scale="small", seed=5, activity_months=0)
    without = _snapshot()
    assert not ActivityRecord.objects.exists()
    seed(scale="small", seed=5, activity_months=2, flush=True)
    assert _snapshot() == without
    assert ActivityRecord.objects.exists()


# --- organizational life ----------------------------------------------------------------------


def test_activity_records_for_branches_and_groups(year_of_activity):
    today = timezone.localdate()
    records = ActivityRecord.objects.select_related("organization", "activity_type")
    assert f"{records.count()}" in year_of_activity  # the command reports how many
    by_kind = Counter(records.values_list("organization__kind", "activity_type__code"))
    # Groups hold 党小组会 and nothing else; branches hold the rest.
    assert by_kind[(K.GROUP, "group_meeting")] > 0
    assert {code for kind, code in by_kind if kind == K.GROUP} == {"group_meeting"}
    branch_codes = {code for kind, code in by_kind if kind == K.BRANCH}
    assert branch_codes == {
        "general_meeting",
        "committee_meeting",
        "party_lecture",
        "theme_day",
        "life_meeting",
        "democratic_appraisal",
    }
    assert not records.exclude(organization__kind__in=[K.BRANCH, K.GROUP]).exists()
    # Every group and every branch with members founded before the window held something.
    start = window_start(12)
    for org in Organization.objects.filter(kind__in=[K.BRANCH, K.GROUP], founded_on__lt=start):
        assert records.filter(organization=org).exists(), org.name
    # Within the window, never in the future, never before the organization was founded.
    assert not records.filter(date__gte=today).exists()  # filed in the evening
    assert not records.filter(date__lt=start).exists()
    assert not records.filter(date__lt=F("organization__founded_on")).exists()
    # No duplicates (the unique constraint holds), and each carries its type's name.
    dupes = records.values("organization", "activity_type", "date").annotate(n=Count("id"))
    assert not dupes.filter(n__gt=1).exists()
    assert not records.exclude(type_name=F("activity_type__name")).exists()
    assert not records.filter(Q(topic="") | Q(place="") | Q(content="")).exists()
    # Two theme days in a month happen, now and then.
    theme_days = Counter(
        (r.organization_id, r.date.year, r.date.month)
        for r in records.filter(activity_type__code="theme_day")
    )
    assert any(n == 2 for n in theme_days.values())
    assert sum(n == 1 for n in theme_days.values()) > 0.8 * len(theme_days)


def test_committee_meetings_only_where_a_committee_was_elected(year_of_activity):
    committee_sizes = dict(
        Member.objects.filter(duty__in=COMMITTEE_DUTIES)
        .values("branch")
        .annotate(n=Count("id"))
        .values_list("branch", "n")
    )
    holding = set(
        ActivityRecord.objects.filter(activity_type__code="committee_meeting").values_list(
            "organization", flat=True
        )
    )
    assert holding
    assert all(committee_sizes.get(pk, 0) >= COMMITTEE_MIN_SIZE for pk in holding)
    # ...and those without one are not forgotten by mistake: most with a committee held some.
    with_committee = {pk for pk, n in committee_sizes.items() if n >= COMMITTEE_MIN_SIZE}
    assert len(holding) >= 0.8 * len(with_committee)


def test_attendance_rows_match_the_counts(year_of_activity):
    records = ActivityRecord.objects.annotate(
        present=Count("attendances", filter=Q(attendances__status="present")),
        excused=Count("attendances", filter=Q(attendances__status="excused")),
        absent=Count("attendances", filter=Q(attendances__status="absent")),
        rows=Count("attendances"),
    )
    assert not records.exclude(
        present=F("present_count"), excused=F("excused_count"), absent=F("absent_count")
    ).exists()
    assert not records.filter(rows=0).exists()
    totals = Counter(Attendance.objects.values_list("status", flat=True))
    total = sum(totals.values())
    assert 0.85 < totals["present"] / total < 0.95
    assert totals["excused"] > totals["absent"] > 0
    # The right people were expected: the group, the committee, or the branch.
    rows = Attendance.objects.values_list(
        "record__organization__kind",
        "record__organization_id",
        "record__activity_type__committee_only",
        "member__branch_id",
        "member__group_id",
        "member__duty",
    )
    for kind, org_id, committee_only, branch_id, group_id, duty in rows:
        if kind == K.GROUP:
            assert group_id == org_id
        else:
            assert branch_id == org_id
            if committee_only:
                assert duty in COMMITTEE_DUTIES
    # A committee meeting counts when more than half of the committee came; a few did not.
    committee = ActivityRecord.objects.filter(activity_type__committee_only=True)
    for r in committee:
        assert r.counts_for_compliance == (r.present_count * 2 > r.expected_count)
    assert committee.filter(counts_for_compliance=False).exists()
    assert not ActivityRecord.objects.filter(
        activity_type__committee_only=False, counts_for_compliance=False
    ).exists()


def test_records_are_filed_by_the_demo_secretaries_that_evening(year_of_activity):
    tz = timezone.get_current_timezone()
    now = timezone.now()
    secretaries = {u.organization_id: u.pk for u in User.objects.filter(role=Role.SECRETARY)}
    assert secretaries
    for r in ActivityRecord.objects.select_related("organization"):
        org = r.organization
        branch_id = org.parent_id if org.kind == K.GROUP else org.pk
        assert r.filed_by_id == secretaries.get(branch_id)
        local = timezone.localtime(r.filed_at, tz)
        assert r.filed_at <= now
        assert local.date() == r.date and 18 <= local.hour <= 22
    assert ActivityRecord.objects.filter(filed_by__isnull=False).exists()


def test_compliance_over_the_last_twelve_months_looks_true(year_of_activity):
    """Asked of the compliance engine itself: 85-95% of what was owed held overall, a few
    branches chronically behind, most near-perfect."""
    today = timezone.localdate()
    month = Period.containing("month", today)
    owed = held = 0
    per_branch: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for _ in range(12):
        month = month.previous()
        results = compute_compliance(Organization.objects.all(), month, today=today)
        for result in results.values():
            if result.kind == K.GROUP:
                continue  # counted in its branch's 党小组会 line
            owed += result.owed
            held += result.held
            if result.kind == K.BRANCH:
                per_branch[result.organization_id][0] += result.owed
                per_branch[result.organization_id][1] += result.held
    assert owed > 0
    assert 0.85 <= held / owed <= 0.95, held / owed
    rates = [h / o for o, h in per_branch.values() if o]
    assert any(rate < 0.75 for rate in rates)
    assert sum(rate >= 0.9 for rate in rates) >= 0.6 * len(rates)
    # The command checked the same with the engine, and said so.
    summary = demo.compliance_summary(12)
    assert (summary.owed, summary.held) == (owed, held)
    assert f"{held}" in year_of_activity and f"{owed}" in year_of_activity


def test_rules_come_from_the_database(db, activity_types):
    """Nothing is hard-coded: two theme days a month owed, two theme days a month held."""
    ComplianceRule.objects.filter(activity_type__code="theme_day").update(minimum_count=2)
    ComplianceRule.objects.filter(activity_type__code="life_meeting").delete()
    seed(scale="small", activity_months=3)
    assert not ActivityRecord.objects.filter(activity_type__code="life_meeting").exists()
    start = window_start(3)
    end = timezone.localdate().replace(day=1)
    theme_days = Counter(
        (r.organization_id, r.date.year, r.date.month)
        for r in ActivityRecord.objects.filter(
            activity_type__code="theme_day", date__gte=start, date__lt=end
        )
    )
    assert sum(n >= 2 for n in theme_days.values()) > 0.7 * len(theme_days)


def test_no_activity_records_when_asked_for_none(db, activity_types):
    seed(scale="small", activity_months=0)
    assert not ActivityRecord.objects.exists()
    assert Member.objects.exists()


def test_negative_activity_months_are_refused(db):
    with pytest.raises(CommandError):
        seed(scale="small", activity_months=-1)


def test_flush_deletes_the_organizational_life(seeded):
    assert ActivityRecord.objects.exists() and Attendance.objects.exists()
    deleted = demo.flush()
    assert deleted["activity_records"] > 0 and deleted["attendance"] > 0
    assert not ActivityRecord.objects.exists()
    assert not Attendance.objects.exists()
    assert not ActivityRecord.history.exists()
    assert not Unit.objects.exists()


def test_if_empty_is_a_no_op_on_seeded_data(seeded):
    before = (Unit.objects.count(), Member.objects.count(), User.objects.count())
    out = seed(scale="small", if_empty=True)
    assert "已有" in out  # "already holds units", in the default language
    assert (Unit.objects.count(), Member.objects.count(), User.objects.count()) == before


def test_second_run_refuses_without_flags(seeded):
    with pytest.raises(CommandError, match="--flush"):
        seed(scale="small")


def test_if_empty_builds_on_an_empty_database(db):
    seed(scale="small", if_empty=True, activity_months=1)
    assert Unit.objects.exists()


def test_flush_keeps_other_accounts(tree, staff, secretary_a):
    """Flush deletes all organization data, but only the accounts the demo itself made."""
    with pytest.raises(CommandError):
        seed(scale="small")
    seed(scale="small", flush=True, activity_months=1)
    assert not Unit.objects.filter(name="市水务局", organizations__code="B").exists()
    staff.refresh_from_db()
    secretary_a.refresh_from_db()
    assert staff.is_active
    assert secretary_a.organization is None and not secretary_a.is_active
    assert User.objects.filter(username="admin").exists()


def test_recent_bulletins_are_built_and_a_flush_removes_them(seeded):
    from reports.models import Bulletin
    from reports.services import previous_month

    last = previous_month()
    months = [b.month for b in Bulletin.objects.order_by("-month")]
    assert months == [last.start, last.previous().start]  # activity_months=2: two bulletins
    assert Bulletin.objects.get(month=last.start).rows.exists()
    seed(scale="small", activity_months=0, flush=True)
    assert not Bulletin.objects.exists()


def test_the_demo_leaves_this_mornings_reminders_once(seeded):
    """The secretaries' bell has something from the first login: the daily reminders, as beat
    would have left them, each to its organization's secretaries; seeding again adds none."""
    from accounts.models import Notice
    from reminders.models import Reminder
    from reminders.services import build_daily_reminders

    reminders = Reminder.objects.count()
    assert reminders > 0
    notices = Notice.objects.filter(kind__in=Reminder.objects.values_list("kind", flat=True))
    assert notices.exists()
    assert all(n.user.organization_id is not None for n in notices.select_related("user"))
    assert build_daily_reminders() == []  # built already: nothing new
    assert Reminder.objects.count() == reminders
