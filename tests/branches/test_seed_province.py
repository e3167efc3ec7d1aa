"""`seed_demo --scale province` and what makes it fast, checked without building it: the option,
the plan (units, organizations, members), the writers and the bulk load, ANALYZE at the end."""

import datetime
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from branches import demo
from branches.management.commands.seed_demo import Command
from branches.models import ActivityRecord, Attendance, Member, Organization, Term, Unit

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the bulk load changes the schema on PostgreSQL only"
)


def parse(*argv: str):
    return Command().create_parser("manage.py", "seed_demo").parse_args(list(argv))


def test_province_scale_is_an_option_with_two_years_of_activity():
    options = parse("--scale", "province", "--flush")
    assert options.scale == "province"
    assert options.activity_months == 24
    assert options.flush


def test_province_units_repeat_the_catalogue_per_city():
    specs = demo.unit_specs(demo.SCALES["province"])
    assert len(specs) == 10 * len(demo.UNIT_CATALOGUE)
    names = [s.name for s in specs]
    assert len(set(names)) == len(names)  # Unit.name is unique
    assert {"江城市统计局", "临州市统计局", "共青团临州市委", "国家统计局临州调查队"} <= set(names)
    for i, spec in enumerate(specs):
        if spec.joint_with:  # the host comes first, in the same city
            assert spec.joint_with in names[:i]
            assert spec.name.removeprefix("国家统计局")[:2] == spec.joint_with[:2]
    assert max(len(s.short) for s in specs) <= Unit._meta.get_field("short_name").max_length
    # the city and small scales keep the catalogue's own names
    assert demo.unit_specs(demo.SCALES["city"]) == demo.UNIT_CATALOGUE
    assert demo.unit_specs(demo.SCALES["small"]) == demo.UNIT_CATALOGUE[:6]


def test_province_plan_has_the_size_asked_for():
    """About 8,000 organizations and 200,000 members, planned in memory (only the units are
    written, and rolled back)."""
    with transaction.atomic():
        builder = demo.DemoBuilder("province")
        builder.build_units()
        plans = builder.plan_organizations()
        transaction.set_rollback(True)
    assert len(builder.units) == 600
    assert 7500 <= len(plans) <= 9000
    assert 190_000 <= sum(p.size for p in plans if p.kind == "branch") <= 210_000
    assert len({p.name for p in plans if p.kind == "committee"}) == len(
        [p for p in plans if p.kind == "committee"]
    )
    assert max(len(p.name) for p in plans) <= Organization._meta.get_field("name").max_length


def test_seeding_ends_with_analyze(activity_types):
    with mock.patch.object(demo, "analyze", wraps=demo.analyze) as analyze:
        call_command("seed_demo", scale="small", activity_months=1, stdout=StringIO())
    assert analyze.call_args_list[0] == mock.call()  # the whole database, after the build
    bulletin_tables = {m._meta.db_table for m in analyze.call_args_list[1].args}
    assert bulletin_tables == {"reports_bulletin", "reports_bulletinrow", "reports_bulletinunitrow"}
    with connection.cursor() as cursor:  # the planner has statistics for the new rows
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'branches_member'")
            assert cursor.fetchone()[0] == Member.objects.count()
        else:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'branches_member'")
            assert cursor.fetchone()[0] > 0


def test_progress_lines_only_when_asked(activity_types):
    quiet = StringIO()
    call_command("seed_demo", scale="small", activity_months=1, stdout=quiet)
    assert "[" not in quiet.getvalue()
    loud = StringIO()
    call_command(
        "seed_demo", scale="small", activity_months=1, flush=True, verbosity=2, stdout=loud
    )
    lines = [line for line in loud.getvalue().splitlines() if line.startswith("[")]
    assert any("members:" in line for line in lines)
    assert any("attendance rows:" in line for line in lines)
    assert any(line.endswith("] flush: done") for line in lines)
    assert any(line.endswith("] analyze") for line in lines)
    assert lines[-1].endswith("] compliance check")


def test_save_objects_and_update_objects_write_what_bulk_create_would(tree):
    org = tree.branch_a
    day = datetime.date
    terms = [
        Term(
            organization=org,
            started_on=day(year, 1, 1),
            length_years=3,
            due_on=day(year + 3, 1, 1),
            ended_on=day(year + 3, 1, 1),
        )
        for year in (2010, 2013)
    ]
    demo.save_objects(Term, terms)
    assert all(t.pk and not t._state.adding for t in terms)
    saved = Term.objects.filter(pk__in=[t.pk for t in terms]).order_by("started_on")
    assert [(t.organization_id, t.started_on) for t in saved] == [
        (org.pk, day(2010, 1, 1)),
        (org.pk, day(2013, 1, 1)),
    ]
    # A key assigned before its object was saved is written with the pk it got since.
    secretary = Member(
        member_no="A9999",
        name="赵敏",
        sex="female",
        birth_date=day(1980, 1, 1),
        joined_on=day(2005, 1, 1),
        status="full",
        full_member_on=day(2006, 1, 1),
        education="bachelor",
        branch=org,
    )
    org.secretary = secretary
    org.founded_on = day(1999, 7, 1)
    demo.save_objects(Member, [secretary])
    assert demo.update_objects(Organization, [org], ["founded_on", "secretary"]) == 1
    org.refresh_from_db()
    assert (org.founded_on, org.secretary_id) == (day(1999, 7, 1), secretary.pk)


def test_rows_stream_through_in_batches(tree, activity_types):
    theme_day = activity_types["theme_day"]
    filed = timezone.now()
    row = (tree.branch_a.pk, theme_day.pk, theme_day.name, datetime.date(2025, 3, 5))
    text = ("a\tb\\c\nd", "会议室", "内容\r\n第二行", True, None, filed, filed, 2, 0, 0)
    assert demo.insert_rows(ActivityRecord, demo.RECORD_FIELDS, [row + text]) == 1
    record = ActivityRecord.objects.get(organization=tree.branch_a, date=row[3])
    assert (record.topic, record.content) == ("a\tb\\c\nd", "内容\r\n第二行")
    assert (record.filed_by_id, record.filed_at, record.present_count) == (None, filed, 2)
    members = list(Member.objects.filter(branch=tree.branch_a).order_by("pk"))
    with demo.RowWriter(Attendance, ["record", "member", "status"], batch=2) as writer:
        writer.extend((record.pk, m.pk, "present") for m in members)
    assert writer.count == len(members) == Attendance.objects.filter(record=record).count()


@postgresql_only
def test_bulk_loading_puts_the_schema_back_word_for_word():
    def schema():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = ANY(%s::regclass[]) UNION ALL "
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "ORDER BY 1, 2",
                [tables, tables],
            )
            return cursor.fetchall()

    tables = ["branches_activityrecord", "branches_attendance", "branches_member"]
    before = schema()
    with demo.bulk_loading(ActivityRecord, Attendance, Member):
        during = {name for name, _definition in schema()}
        assert "attendance_once_per_member" not in during  # dropped while loading...
        assert "branches_activityrecord_pkey" in during  # ...but not what a key points at
        assert "branches_member_pkey" in during
        assert not any(
            name.endswith("_fk_branches_member_id") for name in during if "attendance" in name
        )
    assert schema() == before
