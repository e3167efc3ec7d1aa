"""Benchmark: the activity ledger (组织生活台账) with 200,000 rows, on PostgreSQL.

Measures, each in a fresh subprocess so that peaks never mix:
  (a) ours: `write_xlsx(ActivityLedger(staff), file)`, the query included (xlsxwriter,
      constant_memory, by `reports.xlsx`);
  (b) the floor we measure against: openpyxl write-only (what the ledgers used before) writing
      the same rows (same values, number formats on the date, percent and datetime columns)
      from a list already in memory (built by running our ledger's rows() before the clock
      starts);
  (b2) xlsxwriter's floor: the same list written by xlsxwriter in constant_memory mode, one
      typed call per cell (write_string / write_number / write_datetime), nothing else: what
      (a) would cost with a free database and free columns;
  (c) django-import-export: a ModelResource over ActivityRecord with the same columns
      (attendance names by dehydrate methods over a prefetch, attachment counts annotated),
      `resource.export(queryset)` then `.xlsx`: what a Django team would reach for;
  (r) with --only r: our query and rows() alone, nothing written (what (a) spends before the
      writer).
Wall and CPU time come from runs without tracemalloc (it slows Python down); the tracemalloc peak
from a separate run. RSS is the child's `ru_maxrss` (Django itself included) and, as a check,
VmHWM; "RSS before" is the RSS just before the clock starts ((b) holds its list by then). The
machine may be shared: the load average is printed, and CPU seconds are steadier than wall ones.

Run it against a database of its own. The first run adds activity records and attendance until
there are --rows records (bulk inserts and COPY: about 5 million attendance rows at city scale,
some 3 to 4 minutes). (c) takes about ten minutes, its tracemalloc run longer (--no-trace skips
the tracemalloc runs):

    createdb -h 127.0.0.1 -U postgres jiguan_ledger_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiguan_ledger_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --scale city --flush --activity-months 0
    .venv/bin/python bench/ledger.py                      # fills up to 200,000, then measures
    .venv/bin/python bench/ledger.py --repeat 3           # best of three for the timings
    .venv/bin/python bench/ledger.py --only r,a,b,b2      # skip the slow one
    .venv/bin/python bench/ledger.py --profile            # cProfile of (a), top functions

Figures only, not a test: the tests assert query counts, this says how long and how big.
Targets: a/b <= 0.8 (wall, and CPU: on a shared machine the CPU ratio is the steadier), RSS peak
of (a) <= 150 MB, (a) at least 3x faster than (c).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import xlsxwriter  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Prefetch  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.translation import gettext  # noqa: E402
from import_export import fields, resources  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from openpyxl.cell import WriteOnlyCell  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from branches.demo import insert_rows  # noqa: E402
from branches.ledgers import ActivityLedger  # noqa: E402
from branches.models import (  # noqa: E402
    COMMITTEE_DUTIES,
    ActivityRecord,
    ActivityType,
    Attachment,
    Attendance,
    AttendanceStatus,
    Member,
    Organization,
    OrganizationKind,
)
from reports.ledgers import (  # noqa: E402
    BOOL,
    DATE,
    DATETIME,
    INT,
    NUMBER_FORMATS,
    PERCENT,
    write_xlsx,
)
from reports.xlsx import WORKBOOK_OPTIONS  # noqa: E402

BATCH = 10_000  # records per bulk insert while filling
LABELS = {
    "a": "ours (write_xlsx)",
    "b": "floor (openpyxl, list)",
    "b2": "floor (xlsxwriter, list)",
    "c": "django-import-export",
    "r": "our rows() only, unwritten",
}


# -- data ---------------------------------------------------------------------------------------


def fill(target: int, seed: int = 2026) -> None:
    """Add records (and their attendance) until there are `target` activity records.

    Round robin over branches and groups, one record every third day back from yesterday per
    organization, so (organization, type, day) never repeats. Everyone expected is in the
    attendance: 85% present, 11% excused, 4% absent; one record in five has an attachment.
    """
    have = ActivityRecord.objects.count()
    if have >= target:
        return
    if not Organization.objects.exists():
        sys.exit("No organizations: run seed_demo first (see the docstring).")
    rng = random.Random(seed)
    types = {t.code: t for t in ActivityType.objects.all()}
    branch_cycle = [
        types["theme_day"],
        types["committee_meeting"],
        types["party_lecture"],
        types["general_meeting"],
        types["life_meeting"],
        types["democratic_appraisal"],
    ]
    orgs = list(
        Organization.objects.filter(kind__in=[OrganizationKind.BRANCH, OrganizationKind.GROUP])
        .order_by("path")
        .only("pk", "kind")
    )
    members: dict[int, list[int]] = {o.pk: [] for o in orgs}
    committee: dict[int, list[int]] = {o.pk: [] for o in orgs}
    for pk, branch_id, group_id, duty in Member.objects.values_list(
        "pk", "branch_id", "group_id", "duty"
    ):
        members[branch_id].append(pk)
        if group_id in members:
            members[group_id].append(pk)
        if duty in COMMITTEE_DUTIES:
            committee[branch_id].append(pk)
    orgs = [o for o in orgs if members[o.pk]]
    filer = bench_user()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    # Continue after what is there: a previous partial fill used the first `have` slots.
    slots = range(have, target)
    print(f"filling: {len(slots):,} records over {len(orgs)} organizations", flush=True)
    started = time.perf_counter()
    for first in range(slots.start, slots.stop, BATCH):
        records, expected = [], []
        for i in range(first, min(first + BATCH, slots.stop)):
            org, k = orgs[i % len(orgs)], i // len(orgs)
            day = yesterday - datetime.timedelta(days=3 * k)
            if org.kind == OrganizationKind.GROUP:
                activity_type, who = types["group_meeting"], members[org.pk]
            else:
                activity_type = branch_cycle[k % len(branch_cycle)]
                who = members[org.pk]
                if activity_type.committee_only:
                    if len(committee[org.pk]) >= 3:
                        who = committee[org.pk]
                    else:
                        activity_type = types["theme_day"]
            statuses = [
                "present" if r < 0.85 else "excused" if r < 0.96 else "absent"
                for r in (rng.random() for _ in who)
            ]
            records.append(
                ActivityRecord(
                    organization_id=org.pk,
                    activity_type=activity_type,
                    type_name=activity_type.name,
                    date=day,
                    topic=f"{activity_type.name}：学习贯彻党的二十届四中全会精神（第{k + 1}次）",
                    place="机关三楼党员活动室",
                    content="会议由支部书记主持，传达学习有关精神，结合工作实际开展讨论。",
                    filed_by=filer,
                    present_count=statuses.count("present"),
                    excused_count=statuses.count("excused"),
                    absent_count=statuses.count("absent"),
                )
            )
            expected.append(list(zip(who, statuses, strict=True)))
        with transaction.atomic():
            ActivityRecord.objects.bulk_create(records, batch_size=2000)
            insert_rows(
                Attendance,
                ["record", "member", "status"],
                [(r.pk, m, s) for r, e in zip(records, expected, strict=True) for m, s in e],
            )
            Attachment.objects.bulk_create(
                [
                    Attachment(
                        record=r,
                        file=f"activity/bench/{r.pk}.jpg",
                        original_name="合影.jpg",
                        content_type="image/jpeg",
                        size=120_000,
                    )
                    for r in records[::5]
                ]
            )
        done = first + len(records) - slots.start
        print(f"  {done:,} / {len(slots):,}  ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        for model in (ActivityRecord, Attendance, Attachment):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def bench_user() -> User:
    """A committee staff account: the whole city in scope."""
    user = User.objects.filter(role=Role.STAFF, is_active=True).order_by("pk").first()
    if user is None:
        user = User.objects.create(
            username="ledger_bench", role=Role.STAFF, is_staff=True, is_superuser=True
        )
    return user


# -- the three contenders ------------------------------------------------------------------------


def floor_rows(user: User) -> list[list]:
    """Our ledger's rows, read by its columns and made final (yes/no words, local naive
    datetimes, empty text as an empty cell) before the clock."""
    ledger = ActivityLedger(user)
    columns = ledger.columns
    readers = [column.source.reader(ledger) for column in columns]
    yes, no = gettext("Yes"), gettext("No")
    out = []
    for row in ledger.rows():
        values = [read(row) for read in readers]
        for i, column in enumerate(columns):
            value = values[i]
            if value is None:
                continue
            if value == "":
                values[i] = None
            if column.type == BOOL:
                values[i] = yes if value else no
            elif column.type == DATETIME and value.tzinfo:
                values[i] = timezone.localtime(value).replace(tzinfo=None)
        out.append(values)
    return out


def run_ours(user: User, path: str, _prepared) -> int:
    with open(path, "wb") as f:
        return write_xlsx(ActivityLedger(user), f)


def run_floor(user: User, path: str, prepared: list[list]) -> int:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("floor")
    columns = ActivityLedger(user).columns
    ws.append([str(c.header) for c in columns])
    formats = {
        i: NUMBER_FORMATS[c.type]
        for i, c in enumerate(columns)
        if c.type in (DATE, PERCENT, DATETIME)
    }
    for values in prepared:
        row = list(values)
        for i, number_format in formats.items():
            if row[i] is not None:
                cell = WriteOnlyCell(ws, value=row[i])
                cell.number_format = number_format
                row[i] = cell
        ws.append(row)
    wb.save(path)
    return len(prepared)


def run_xlsxwriter_floor(user: User, path: str, prepared: list[list]) -> int:
    book = xlsxwriter.Workbook(path, WORKBOOK_OPTIONS)
    sheet = book.add_worksheet("floor")
    columns = ActivityLedger(user).columns
    for i, c in enumerate(columns):
        sheet.write_string(0, i, str(c.header))
    formats = {
        t: book.add_format({"num_format": NUMBER_FORMATS[t]}) for t in (DATE, DATETIME, PERCENT)
    }
    writers = []
    for i, c in enumerate(columns):
        if c.type in (DATE, DATETIME):
            writers.append((i, sheet.write_datetime, formats[c.type]))
        elif c.type in (INT, PERCENT):
            writers.append((i, sheet.write_number, formats.get(c.type)))
        else:
            writers.append((i, sheet.write_string, None))
    for r, values in enumerate(prepared, start=1):
        for i, write, cell_format in writers:
            value = values[i]
            if value is not None:
                write(r, i, value, cell_format)
    book.close()
    return len(prepared)


class ActivityRecordResource(resources.ModelResource):
    """The activity ledger as django-import-export would do it, with the usual care: related
    names by select_related, attendance by one prefetch per page, attachments annotated."""

    date = fields.Field(attribute="date", column_name="Date")
    unit = fields.Field(attribute="organization__unit__name", column_name="Unit")
    organization_name = fields.Field(attribute="organization__name", column_name="Organization")
    type_name = fields.Field(attribute="type_name", column_name="Activity type")
    topic = fields.Field(attribute="topic", column_name="Topic")
    place = fields.Field(attribute="place", column_name="Place")
    expected = fields.Field(column_name="Expected")
    present_count = fields.Field(attribute="present_count", column_name="Present")
    excused_count = fields.Field(attribute="excused_count", column_name="Excused")
    absent_count = fields.Field(attribute="absent_count", column_name="Absent")
    attendance_rate = fields.Field(column_name="Attendance rate")
    excused_members = fields.Field(column_name="Excused members")
    absent_members = fields.Field(column_name="Absent members")
    attachments = fields.Field(attribute="attachment_count", column_name="Attachments")
    counts = fields.Field(column_name="Counts for compliance")
    filed_by_name = fields.Field(column_name="Filed by")
    filed_at = fields.Field(attribute="filed_at", column_name="Filed at")

    class Meta:
        model = ActivityRecord
        fields = (
            "date",
            "unit",
            "organization_name",
            "type_name",
            "topic",
            "place",
            "expected",
            "present_count",
            "excused_count",
            "absent_count",
            "attendance_rate",
            "excused_members",
            "absent_members",
            "attachments",
            "counts",
            "filed_by_name",
            "filed_at",
        )
        export_order = fields
        chunk_size = ActivityLedger.chunk_size  # the default (100) pages 2,000 times

    def dehydrate_expected(self, record):
        return record.present_count + record.excused_count + record.absent_count

    def dehydrate_attendance_rate(self, record):
        expected = self.dehydrate_expected(record)
        return record.present_count / expected if expected else None

    def _names(self, record, status):
        return "、".join(a.member.name for a in record.non_present if a.status == status)

    def dehydrate_excused_members(self, record):
        return self._names(record, AttendanceStatus.EXCUSED)

    def dehydrate_absent_members(self, record):
        return self._names(record, AttendanceStatus.ABSENT)

    def dehydrate_counts(self, record):
        return gettext("Yes") if record.counts_for_compliance else gettext("No")

    def dehydrate_filed_by_name(self, record):
        user = record.filed_by
        return (user.get_full_name() or user.get_username()) if user else ""


def run_import_export(user: User, path: str, _prepared) -> int:
    non_present = (
        Attendance.objects.exclude(status=AttendanceStatus.PRESENT)
        .select_related("member")
        .order_by("member__member_no")
    )
    queryset = (
        ActivityLedger(user)
        .queryset()
        .select_related("organization__unit", "filed_by")
        .annotate(attachment_count=Count("attachments"))
        .prefetch_related(Prefetch("attendances", queryset=non_present, to_attr="non_present"))
    )
    # force_native_type: what the admin's export passes for binary formats (dates stay dates).
    dataset = ActivityRecordResource().export(queryset, force_native_type=True)
    with open(path, "wb") as f:
        f.write(dataset.xlsx)
    return len(dataset)


def run_rows_only(user: User, _path: str, _prepared) -> int:
    """The query and our rows() (dicts, with the chunk's names added) without reading the
    columns or writing: what (a) spends on the database side."""
    return sum(1 for _row in ActivityLedger(user).rows())


RUNNERS = {
    "a": run_ours,
    "b": run_floor,
    "b2": run_xlsxwriter_floor,
    "c": run_import_export,
    "r": run_rows_only,
}


# -- measuring ------------------------------------------------------------------------------------


def proc_status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak of this process image) from /proc, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(variant: str, trace: bool) -> dict:
    """In the child: one run of one contender; returns what it saw."""
    user = bench_user()
    prepared = floor_rows(user) if variant in ("b", "b2") else None
    rss_before = proc_status_mb("VmRSS")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ledger.xlsx")
        if trace:
            tracemalloc.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        rows = RUNNERS[variant](user, path, prepared)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
        if trace:
            tracemalloc.stop()
        size = os.path.getsize(path) if os.path.exists(path) else 0
    return {
        "variant": variant,
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "traced_peak_mb": peak,
        # Linux keeps ru_maxrss across exec (the parent's peak at fork counts): the parent
        # stays small for that reason (it fills in a child too). VmHWM is this image's own.
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "hwm_mb": proc_status_mb("VmHWM"),
        "rss_before_mb": rss_before,
        "file_mb": size / 2**20,
    }


def child(variant: str, trace: bool) -> dict:
    command = [sys.executable, __file__, "--measure", variant]
    if trace:
        command.append("--trace")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"({variant}) failed:\n{done.stderr}")
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line.removeprefix("RESULT "))


def profile() -> None:
    import cProfile
    import pstats

    user = bench_user()
    profiler = cProfile.Profile()
    with tempfile.TemporaryDirectory() as tmp:
        profiler.enable()
        run_ours(user, os.path.join(tmp, "ledger.xlsx"), None)
        profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="activity records wanted")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per contender (best)")
    parser.add_argument("--only", default="a,b,b2,c", help="contenders, e.g. a,b")
    parser.add_argument("--profile", action="store_true", help="cProfile (a) and stop")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--measure", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        print("RESULT " + json.dumps(measure(args.measure, args.trace)))
        return
    if args.fill:
        fill(args.rows)
        return
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL; the figures asked for are PostgreSQL ones", flush=True)
    # In a child, so that this process stays small (see measure()).
    subprocess.run([sys.executable, __file__, "--fill", "--rows", str(args.rows)], check=True)
    if args.profile:
        profile()
        return
    records = ActivityRecord.objects.count()
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}  "
        f"activity records: {records:,}  attendance rows: {Attendance.objects.count():,}",
        flush=True,
    )
    results = {}
    for variant in args.only.split(","):
        runs = [child(variant, trace=False) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        best["rss_peak_mb"] = max(r["rss_peak_mb"] for r in runs)
        best["hwm_mb"] = max(r["hwm_mb"] for r in runs)
        if not args.no_trace:
            best["traced_peak_mb"] = child(variant, trace=True)["traced_peak_mb"]
        results[variant] = best
        print(f"  ({variant}) {LABELS[variant]}: {best['seconds']:.1f} s", flush=True)

    print()
    print(
        f"{'':33} {'rows':>8} {'wall s':>7} {'CPU s':>7} {'traced MB':>9} {'RSS MB':>7} "
        f"{'VmHWM MB':>8} {'RSS before':>10} {'file MB':>7}"
    )
    for variant, r in results.items():
        traced = f"{r['traced_peak_mb']:.1f}" if r["traced_peak_mb"] is not None else "-"
        print(
            f"{'(' + variant + ')':4} {LABELS[variant]:28} {r['rows']:>8,} {r['seconds']:>7.1f} "
            f"{r['cpu_seconds']:>7.1f} {traced:>9} {r['rss_peak_mb']:>7.0f} {r['hwm_mb']:>8.0f} "
            f"{r['rss_before_mb']:>10.0f} {r['file_mb']:>7.1f}"
        )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print()

    def ratio(x: str, y: str) -> str:
        wall = results[x]["seconds"] / results[y]["seconds"]
        cpu = results[x]["cpu_seconds"] / results[y]["cpu_seconds"]
        return f"{x}/{y} = {wall:.2f} wall, {cpu:.2f} CPU"

    if "a" in results and "b" in results:
        a, b = results["a"], results["b"]
        met = a["seconds"] <= 0.8 * b["seconds"] and a["cpu_seconds"] <= 0.8 * b["cpu_seconds"]
        print(f"{ratio('a', 'b')}  (target <= 0.8: {'met' if met else 'MISSED'})")
    if "a" in results and "b2" in results:
        print(f"{ratio('a', 'b2')}  (ours over xlsxwriter's own floor: the query and columns)")
    if "a" in results:
        rss = results["a"]["rss_peak_mb"]
        print(
            f"RSS peak of (a) = {rss:.0f} MB  (target <= 150: {'met' if rss <= 150 else 'MISSED'})"
        )
    if "a" in results and "c" in results:
        met = results["c"]["seconds"] >= 3 * results["a"]["seconds"]
        print(f"{ratio('c', 'a')}  (target >= 3: {'met' if met else 'MISSED'})")


if __name__ == "__main__":
    main()
