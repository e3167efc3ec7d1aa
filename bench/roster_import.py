"""Benchmark: importing a whole-city roster (党员名册) of 20,000 rows, on PostgreSQL.

Runs what the admin runs for a large file, as the Celery worker runs it
(`branches.roster_jobs.run_roster_import` over a stored upload):
  check: read the file, check every row (the admin's preview);
  save:  read it again, check it again inside the transaction (the data may have changed since
         the preview), then insert / update every member with its history row and the admin's
         log entry, all or nothing; committed.
Target: check + save of 20,000 rows within 30 s (the worker's timeout was 120 s; users saw a
10,000-row preview take 64 s and the confirm 59 s with django-import-export's row-by-row path).

Scenarios (--scenario):
  new     20,000 new members spread over the existing branches (and some of their groups);
  update  the existing members re-imported from the admin's export with one in five changed
          (--every 1: all of them), their position and community (`seed_demo --scale city`
          has about 20,000 members; the script adds bench members up to --rows).
Organizations: the city's from `seed_demo --scale city`; with none, the script creates a unit,
a committee and 100 branches with a group each (--create-orgs is then implied).
Afterwards the database is put back: new members are deleted, changed ones re-imported as they
were (not timed), and the bench's history rows and log entries removed (--keep: leave them).
--old N also times django-import-export's dry run (MemberResource, the old preview) of the
first N rows of the same file, for comparison.

    createdb -h 127.0.0.1 -U postgres jiguan_roster_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiguan_roster_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --scale city --flush --activity-months 0
    .venv/bin/python bench/roster_import.py                     # 20,000 new members
    .venv/bin/python bench/roster_import.py --scenario update   # 20,000 existing, 4,000 changed
    .venv/bin/python bench/roster_import.py --old 2000          # and the old path on 2,000 rows

Figures only, not a test: the tests check the query counts, this says how long.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.admin.models import LogEntry  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone, translation  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402
from openpyxl import Workbook, load_workbook  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from branches.models import (  # noqa: E402
    Education,
    Member,
    MemberStatus,
    Organization,
    OrganizationKind,
    Sex,
    Unit,
)
from branches.resources import MemberResource, roster_headers  # noqa: E402
from branches.roster import read_roster, save_roster  # noqa: E402
from branches.roster_jobs import RosterImport, RosterImportStatus, run_roster_import  # noqa: E402
from branches.services import export_roster  # noqa: E402

PREFIX = "BENCH-"
IMPORT_COLUMNS = [name for name in MemberResource.Meta.import_order if name != "branch_name"]


def bench_user() -> User:
    """A committee staff account: the whole city in scope."""
    user = User.objects.filter(role=Role.STAFF, is_active=True).order_by("pk").first()
    if user is None:
        user = User.objects.create(
            username="roster_bench", role=Role.STAFF, is_staff=True, is_superuser=True
        )
    return user


def ensure_organizations(create: bool) -> list[tuple[str, str | None]]:
    """(branch code, one of its group codes or None) of the branches to put members in."""
    if create or not Organization.objects.filter(kind=OrganizationKind.BRANCH).exists():
        unit, _ = Unit.objects.get_or_create(name="基准测试局", defaults={"sort_order": 999})
        committee, _ = Organization.objects.get_or_create(
            code="BENCH",
            defaults=dict(name="基准测试局机关党委", kind=OrganizationKind.COMMITTEE, unit=unit),
        )
        for i in range(100):
            branch, _ = Organization.objects.get_or_create(
                code=f"BENCH-{i:03d}",
                defaults=dict(
                    name=f"基准测试第{i + 1}党支部",
                    kind=OrganizationKind.BRANCH,
                    unit=unit,
                    parent=committee,
                ),
            )
            Organization.objects.get_or_create(
                code=f"BENCH-{i:03d}-1",
                defaults=dict(
                    name=f"基准测试第{i + 1}党小组",
                    kind=OrganizationKind.GROUP,
                    unit=unit,
                    parent=branch,
                ),
            )
    groups: dict[int, str] = {}
    for code, parent_id in Organization.objects.filter(kind=OrganizationKind.GROUP).values_list(
        "code", "parent_id"
    ):
        groups.setdefault(parent_id, code)
    return [
        (code, groups.get(pk))
        for pk, code in Organization.objects.filter(kind=OrganizationKind.BRANCH)
        .order_by("path")
        .values_list("pk", "code")
    ]


def new_members_file(rows: int, branches: list[tuple[str, str | None]]) -> bytes:
    """A roster of `rows` new members as staff would fill it in Excel (labels, 是/否, dates
    as Excel dates and as text), written with openpyxl."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("党员名册")
    sheet.append(roster_headers())
    today = timezone.localdate()
    sexes = [str(Sex.MALE.label), str(Sex.FEMALE.label)]
    statuses = [str(MemberStatus.FULL.label)] * 3 + [str(MemberStatus.PROBATIONARY.label)]
    educations = [str(e.label) for e in Education]
    yes, no = str(_("Yes")), str(_("No"))
    for i in range(rows):
        branch, group = branches[i % len(branches)]
        birth = datetime.date(1960 + i % 40, 1 + i % 12, 1 + i % 28)
        joined = datetime.date(birth.year + 22 + i % 10, 7, 1)
        full = i % 4 != 3
        values = {
            "member_no": f"{PREFIX}{i:06d}",
            "name": f"党员{i}",
            "sex": sexes[i % 2],
            "birth_date": birth if i % 2 else birth.isoformat(),
            "joined_on": min(joined, today),
            "status": statuses[i % 4],
            "full_member_on": min(joined.replace(year=joined.year + 1), today) if full else None,
            "education": educations[i % len(educations)],
            "position": f"科员{i % 50}",
            "branch": branch,
            "branch_name": None,
            "group": group if i % 3 == 0 else None,
            "duty": "",
            "is_party_worker": no if i % 7 else yes,
            "community": "东街社区" if i % 11 == 0 else "",
            "first_secretary_village": "",
            "is_hardship": no,
            "phone": f"138{i:08d}",
        }
        sheet.append([values[name] for name in MemberResource.Meta.export_order])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def update_file(user: User, rows: int, every: int) -> tuple[bytes, bytes, int]:
    """The admin's export of `rows` existing members, and the same with one in `every`
    changed (position and community)."""
    members = Member.objects.order_by("member_no").values_list("pk", flat=True)[:rows]
    original = export_roster(user, Member.objects.filter(pk__in=list(members)))
    book = load_workbook(io.BytesIO(original))
    sheet = book.active
    headers = roster_headers()
    position = headers.index(str(MemberResource.fields["position"].column_name))
    community = headers.index(str(MemberResource.fields["community"].column_name))
    changed = 0
    for index, row in enumerate(sheet.iter_rows(min_row=5)):
        if index % every == 0:
            row[position].value = f"调研员{index}"
            row[community].value = f"新区社区{index % 30}"
            changed += 1
    out = io.BytesIO()
    book.save(out)
    return original, out.getvalue(), changed


def run_job(user: User, content: bytes) -> tuple[RosterImport, tuple, tuple]:
    """Check then save a stored upload the way the worker does: (job, (check wall s, CPU s),
    (save wall s, CPU s)). CPU seconds are this process's (PostgreSQL's own work is in the
    wall time only); on a shared machine they are the steadier figure."""
    job = RosterImport.objects.create(
        owner=user, original_name="党员名册.xlsx", file_format="xlsx", rows_total=0
    )
    job.file.save("党员名册.xlsx", ContentFile(content), save=True)
    started, cpu = time.perf_counter(), time.process_time()
    job = run_roster_import(job.pk)
    check = (time.perf_counter() - started, time.process_time() - cpu)
    if job.status != RosterImportStatus.CHECKED:
        problems = job.errors[:5] or job.failure
        raise SystemExit(f"The check did not pass ({job.status}): {problems}")
    RosterImport.objects.filter(pk=job.pk).update(status=RosterImportStatus.SAVING)
    started, cpu = time.perf_counter(), time.process_time()
    job = run_roster_import(job.pk)
    save = (time.perf_counter() - started, time.process_time() - cpu)
    if job.status != RosterImportStatus.DONE:
        raise SystemExit(f"The save did not pass ({job.status}): {job.errors[:5] or job.failure}")
    return job, check, save


def time_old_dry_run(rows: int) -> float:
    """django-import-export's preview (MemberResource.import_data, dry run) of `rows` new
    members: the path the admin took before."""
    from import_export.formats import base_formats

    content = new_members_file(rows, ensure_organizations(False))
    dataset = base_formats.XLSX().create_dataset(content)
    started = time.perf_counter()
    result = MemberResource().import_data(dataset, dry_run=True)
    elapsed = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit("the old path found errors in the bench file")
    return elapsed


def clean_up(user: User, since: datetime.datetime, original: bytes | None) -> None:
    if original is not None:
        assert save_roster(read_roster(original), user).ok  # the changed members as they were
    Member.objects.filter(member_no__startswith=PREFIX).delete()
    Member.history.filter(history_date__gte=since).delete()
    LogEntry.objects.filter(user=user, action_time__gte=since).delete()
    RosterImport.objects.filter(owner=user, created_at__gte=since).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--scenario", choices=["new", "update"], default="new")
    parser.add_argument(
        "--every", type=int, default=5, help="update: change one member in EVERY (1: all)"
    )
    parser.add_argument("--create-orgs", action="store_true")
    parser.add_argument("--old", type=int, default=0, metavar="N", help="also time the old path")
    parser.add_argument("--keep", action="store_true", help="leave the imported data")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print(f"Warning: the target is for PostgreSQL; this database is {connection.vendor}.")
    user = bench_user()
    since = timezone.now()
    original = None
    with translation.override(settings.LANGUAGE_CODE):
        if args.scenario == "new":
            branches = ensure_organizations(args.create_orgs)
            content = new_members_file(args.rows, branches)
            what = f"{args.rows} new members over {len(branches)} branches"
        else:
            missing = args.rows - Member.objects.count()
            if missing > 0:  # top the city up with bench members (removed afterwards)
                top_up = new_members_file(missing, ensure_organizations(args.create_orgs))
                assert save_roster(read_roster(top_up), user).ok
            original, content, changed = update_file(user, args.rows, args.every)
            what = f"{args.rows} existing members, {changed} changed"
        print(f"File: {what}, {len(content) / 1e6:.1f} MB ({connection.vendor})")
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            try:
                job, check, save = run_job(user, content)
                print(
                    f"            wall    CPU\n"
                    f"check   {check[0]:6.1f} s {check[1]:5.1f} s  "
                    "read and check every row (the admin's preview)\n"
                    f"save    {save[0]:6.1f} s {save[1]:5.1f} s  "
                    "read and check again, write all or nothing, commit\n"
                    f"total   {check[0] + save[0]:6.1f} s {check[1] + save[1]:5.1f} s  "
                    f"{job.rows_total} rows: {job.created_count} new, {job.updated_count} "
                    f"changed, {job.unchanged_count} unchanged (target: at most 30 s)"
                )
                print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
                if args.old:
                    old = time_old_dry_run(args.old)
                    print(
                        f"old   {old:6.1f} s  django-import-export's dry run of {args.old} rows "
                        f"(~{old * args.rows / args.old:.0f} s for {args.rows})"
                    )
            finally:
                if not args.keep:
                    clean_up(user, since, original)


if __name__ == "__main__":
    main()
