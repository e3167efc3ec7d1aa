"""The monthly compliance bulletin: built once per month, kept as built, scheduled by beat."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from branches.models import ComplianceRule, Organization, Term
from branches.periods import Period
from reports.models import Bulletin, BulletinRow
from reports.services import build_bulletin, previous_month
from reports.tasks import build_previous_month_bulletin
from tests.conftest import add_record

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
MAY = Period.month(2026, 5)
JUNE = Period.month(2026, 6)


@pytest.fixture
def june(tree, activity_types):
    """In May and June branch_a holds its theme day and group meeting; the others nothing."""
    for month in (5, 6):
        add_record(tree.branch_a, activity_types["theme_day"], D(2026, month, 5))
        add_record(tree.group_a, activity_types["group_meeting"], D(2026, month, 6))
    Term.objects.create(organization=tree.branch_b, started_on=D(2022, 1, 1))  # due 2025
    return tree


def lines(bulletin):
    return {r.organization_code: r for r in bulletin.rows.all()}


def test_bulletin_lists_who_missed_what_and_ranks_units(june):
    bulletin = build_bulletin(MAY, today=D(2026, 7, 1))
    rows = lines(bulletin)
    assert set(rows) == {"A-1", "A-2", "B-1"}  # committees owe nothing; the group rolls up
    assert rows["A-1"].missing == 0 and rows["A-1"].owed == 2  # theme day + group meeting
    assert rows["A-2"].missing_detail == "主题党日×1"
    assert rows["B-1"].election_overdue and rows["B-1"].election_due_on == D(2025, 1, 1)
    assert (bulletin.organization_count, bulletin.compliant_count) == (3, 1)
    assert bulletin.overdue_election_count == 1
    ranking = [(u.rank, u.unit_name, str(u.compliance_rate)) for u in bulletin.unit_rows.all()]
    assert ranking == [(1, "市统计局", "0.5000"), (2, "市水务局", "0.0000")]


def test_june_closes_a_quarter_so_quarterly_rules_fall_due(june):
    rows = lines(build_bulletin(JUNE, today=D(2026, 7, 1)))
    assert rows["A-1"].missing_detail == "支部党员大会×1、党课×1"
    assert rows["A-1"].owed == 4
    may = lines(build_bulletin(MAY, today=D(2026, 7, 1)))
    assert may["A-1"].missing_detail == "" and may["A-1"].owed == 2


def test_building_a_month_twice_leaves_one_bulletin_the_newer(june, activity_types):
    first = build_bulletin(JUNE, today=D(2026, 7, 1))
    assert lines(first)["A-2"].missing_detail == "主题党日×1、支部党员大会×1、党课×1"
    add_record(june.branch_a2, activity_types["theme_day"], D(2026, 6, 9))
    second = build_bulletin(JUNE, today=D(2026, 7, 1))
    assert Bulletin.objects.filter(month=D(2026, 6, 1)).count() == 1
    assert second.pk == first.pk
    assert lines(second)["A-2"].missing_detail == "支部党员大会×1、党课×1"
    assert BulletinRow.objects.filter(bulletin=second).count() == 3  # old lines replaced


def test_a_rule_edited_afterwards_does_not_change_the_stored_bulletin(june, activity_types):
    bulletin = build_bulletin(JUNE, today=D(2026, 7, 1))
    before = [(r.organization_code, r.owed, r.missing_detail) for r in bulletin.rows.all()]
    rule = ComplianceRule.objects.get(activity_type=activity_types["theme_day"])
    rule.minimum_count = 3
    rule.save()
    Organization.objects.filter(pk=june.branch_a2.pk).update(name="改名后的支部")
    stored = Bulletin.objects.get(pk=bulletin.pk)
    after = [(r.organization_code, r.owed, r.missing_detail) for r in stored.rows.all()]
    assert after == before
    assert stored.rows.get(organization_code="A-2").organization_name == "统计局第二党支部"


def test_previous_month_is_taken_in_shanghai_time():
    shanghai = ZoneInfo("Asia/Shanghai")
    # 00:30 on 1 December in Shanghai is still 30 November in UTC: the bulletin is November's.
    moment = datetime.datetime(2026, 12, 1, 0, 30, tzinfo=shanghai)
    assert moment.astimezone(datetime.UTC).day == 30
    assert previous_month(moment) == Period.month(2026, 11)
    assert previous_month(datetime.datetime(2027, 1, 1, 0, 30, tzinfo=shanghai)) == Period.month(
        2026, 12
    )


def test_the_beat_task_builds_the_previous_month(june, monkeypatch):
    from django.utils import timezone

    moment = datetime.datetime(2026, 7, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(timezone, "now", lambda: moment)
    pk = build_previous_month_bulletin.delay().get()
    assert Bulletin.objects.get(pk=pk).month == D(2026, 6, 1)


def test_beat_schedule_exists_after_migrate(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="reports.build_previous_month_bulletin")
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month) == ("0", "2", "1")
    assert str(crontab.timezone) == "Asia/Shanghai"
    assert task.enabled
    assert PeriodicTask.objects.filter(task="reports.remove_old_exports", enabled=True).exists()


def test_management_command_builds_a_month_and_refuses_nonsense(june):
    out = io.StringIO()
    call_command("build_bulletin", "2026-06", stdout=out)
    assert Bulletin.objects.filter(month=D(2026, 6, 1)).exists()
    assert "2026-06" in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("build_bulletin", "2026-Q2")


def test_admin_builds_and_rebuilds_a_month(client, staff, june):
    client.force_login(staff)
    response = client.post("/admin/reports/bulletin/build/", {"month": "2026-06"})
    assert response.status_code == 302
    bulletin = Bulletin.objects.get(month=D(2026, 6, 1))
    response = client.post(
        "/admin/reports/bulletin/",
        {"action": "rebuild", "_selected_action": [bulletin.pk]},
    )
    assert response.status_code == 302
    assert Bulletin.objects.count() == 1
    assert client.post("/admin/reports/bulletin/build/", {"month": "junk"}).status_code == 200
    assert Bulletin.objects.count() == 1


def test_bulletin_build_is_a_constant_number_of_queries(tree, activity_types):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from branches.models import OrganizationKind

    def queries_to_build():
        with CaptureQueriesContext(connection) as ctx:
            build_bulletin(JUNE, today=D(2026, 7, 1))
        return len(ctx.captured_queries)

    queries_to_build()  # the first build inserts, later ones update: compare like with like
    few = queries_to_build()
    for i in range(40):
        Organization.objects.create(
            code=f"X{i}",
            name=f"支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_b,
            parent=tree.committee_b,
        )
    # The engine (6 queries for each of month and quarter), the organizations' names, the
    # upsert, two deletes and two bulk inserts: none of it per organization.
    assert queries_to_build() == few
