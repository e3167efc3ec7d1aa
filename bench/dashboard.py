"""Benchmark: the dashboard's pages and data endpoints against a paginated `/api/members/?page=2`.

Each endpoint is requested in process through Django's test client (the whole stack: no
network, DEBUG off), round after round, interleaved with the members page so a noisy neighbour
slows them all alike, for staff, a unit inspector and a secretary. For staff each endpoint is
measured cold (the cache cleared just before) and warm (the cached city answer). It prints the
median of each, its query count and its ratio to the members page measured in the same run.
Target (issue 13): each endpoint at most 3x the members page, the city's cold answer included.

Against the database in DATABASE_URL (the project's SQLite file without it), seeded with
`seed_demo` at the scale to measure; it only reads (the cache it clears is the cache's):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiguan_city .venv/bin/python bench/dashboard.py
    DATABASE_URL=sqlite:////tmp/dash_city.sqlite3 .venv/bin/python bench/dashboard.py --rounds 9

Figures only, not a test: tests/dashboard/test_queries.py asserts the query counts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from branches.models import Member, Organization  # noqa: E402
from dashboard.selectors import PANELS  # noqa: E402


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def measured() -> list[tuple[str, Client, str, bool]]:
    """(name, client, url, clear the cache first)."""
    staff = User.objects.filter(is_superuser=True).first() or User.objects.get(role=Role.STAFF)
    unit = User.objects.filter(role=Role.INSPECTOR, city_wide=False).order_by("pk").first()
    secretary = (
        User.objects.filter(role=Role.SECRETARY, organization__isnull=False).order_by("pk").first()
    )
    clients = {"staff": client_for(staff), "unit": client_for(unit), "sec": client_for(secretary)}
    branch_of_staff = f"?organization={secretary.organization_id}"
    listed = [
        ("members page 2 (staff)", clients["staff"], reverse("member-list") + "?page=2", False)
    ]
    # The pages themselves: a shell whose script asks the endpoints below.
    for role, label in (("staff", "staff"), ("unit", "unit inspector"), ("sec", "secretary")):
        listed.append(
            (f"page /portal/dashboard/ ({label})", clients[role], "/portal/dashboard/", False)
        )
    listed.append(
        (
            "page /portal/dashboard/screen/ (staff)",
            clients["staff"],
            "/portal/dashboard/screen/",
            False,
        )
    )
    for panel in PANELS:
        path = reverse(f"dashboard-{panel}")
        staff_path = path + (branch_of_staff if panel == "branch" else "")
        unit_path = path + (branch_of_staff if panel == "branch" else "")
        listed += [
            (f"{panel} (staff, cold)", clients["staff"], staff_path, True),
            (f"{panel} (staff, warm)", clients["staff"], staff_path, False),
            (f"{panel} (unit inspector)", clients["unit"], unit_path, False),
            (f"{panel} (secretary)", clients["sec"], path, False),
        ]
    return listed


def request(client: Client, url: str, cold: bool) -> tuple[float, int, int]:
    if cold:
        cache.clear()  # the next city answer is computed, not read
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
    return elapsed, len(queries), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--only", default="", help="comma-separated words in the names to keep")
    args = parser.parse_args()
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]
    listed = measured()
    if args.only:
        words = args.only.split(",")
        listed = [listed[0]] + [m for m in listed[1:] if any(w in m[0] for w in words)]
    times: dict[str, list[float]] = {name: [] for name, *_ in listed}
    queries: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for _name, client, url, cold in listed:  # warm up
        request(client, url, cold)
    for _ in range(args.rounds):
        for name, client, url, cold in listed:
            elapsed, n, status = request(client, url, cold)
            times[name].append(elapsed)
            queries[name], statuses[name] = n, status
    print(
        f"{connection.vendor}: {Organization.objects.count()} organizations, "
        f"{Member.objects.count()} members; {args.rounds} rounds, median ms; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    cheap = statistics.median(times[listed[0][0]])
    print(f"{'page or endpoint':44} {'ms':>8} {'queries':>7} {'x members':>9}")
    for name, *_ in listed:
        median = statistics.median(times[name])
        flag = "" if statuses[name] == 200 else f"  (HTTP {statuses[name]})"
        over = "  OVER 3x" if median > 3 * cheap else ""
        print(
            f"{name:44} {median * 1000:8.1f} {queries[name]:7d} {median / cheap:9.2f}{flag}{over}"
        )


if __name__ == "__main__":
    main()
