"""Benchmark: the compliance engine over every organization, for one month and one year.

Setup: the city-scale demo with three years of activity records (about 840 organizations,
65,000 records, 1.4 million attendance rows), so that last year is covered in full:

    .venv/bin/python manage.py seed_demo --scale city --flush --activity-months 36

Then run it against the same database:

    .venv/bin/python bench/compliance.py              # SQLite file of the project

On PostgreSQL, in a private database (set DATABASE_URL for the migrate, the seed and the run):

    psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE IF EXISTS jiguan_bench' \\
        -c 'CREATE DATABASE jiguan_bench'
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiguan_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --scale city --flush --activity-months 36
    .venv/bin/python bench/compliance.py

Target: a month for every organization in under a second on PostgreSQL.

Reports figures only; the tests assert the query count, this says how long it takes.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from branches.compliance import compute_compliance  # noqa: E402
from branches.models import ActivityRecord, Organization  # noqa: E402
from branches.periods import Period  # noqa: E402


def measure(period: Period, repeat: int) -> tuple[float, float, int, int, int, float]:
    timings, queries, result = [], 0, {}
    for _ in range(repeat):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            result = compute_compliance(Organization.objects.all(), period)
            timings.append(time.perf_counter() - start)
        queries = len(ctx.captured_queries)
    compliant = sum(r.compliant for r in result.values())
    held = sum(r.held for r in result.values() if r.kind != "group")  # groups roll up into
    owed = sum(r.owed for r in result.values() if r.kind != "group")  # their branch's line
    rate = held / owed if owed else 0.0
    return min(timings), statistics.median(timings), queries, len(result), compliant, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    today = timezone.localdate()
    month = Period.containing("month", today).previous()
    year = Period.year(today.year - 1)
    print(
        f"database: {connection.vendor}  organizations: {Organization.objects.count()}  "
        f"activity records: {ActivityRecord.objects.count()}"
    )
    for label, period in (("month", month), ("year", year)):
        best, median, queries, orgs, compliant, rate = measure(period, args.repeat)
        print(
            f"{label:5} {period.code:8} best {best:.3f}s  median {median:.3f}s  "
            f"queries {queries}  organizations {orgs}  compliant {compliant}  held {rate:.1%}"
        )


if __name__ == "__main__":
    main()
