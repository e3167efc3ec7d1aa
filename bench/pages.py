"""Benchmark: the pages that show member counts, against a paginated `/api/members/` page.

Each page is requested in process through Django's test client (the whole stack: middleware,
session, scoping, templates or serializers; no network, DEBUG off), round after round, the
pages interleaved so a noisy neighbour slows them all alike. It prints the median of each page,
its query count and its ratio to the cheap list measured in the same run. Target (issue 9):
every page at most 3x the cheap list, on PostgreSQL and on SQLite.

With --before, each page is also measured with the counts as they were before issue 9
(correlated subqueries over every member for each organization shown), side by side.

Against the database in DATABASE_URL (the project's SQLite file without it), seeded with
`seed_demo` at the scale to measure:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiguan_city
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --scale city --flush
    .venv/bin/python bench/pages.py --rounds 15
    .venv/bin/python bench/pages.py --rounds 3 --before --only "home (city,?o=5"

Figures only, not a test: tests assert the query counts, this says how long.
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
from django.db import connection  # noqa: E402
from django.db.models import Count, OuterRef, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from branches import selectors  # noqa: E402
from branches.models import (  # noqa: E402
    COMMITTEE_DUTIES,
    Member,
    MemberStatus,
    Organization,
    OrganizationKind,
)
from branches.selectors import SubqueryCount  # noqa: E402
from campaigns.models import Campaign, Problem  # noqa: E402
from evaluations.models import Application  # noqa: E402
from pairings.models import Pairing  # noqa: E402


def before_with_member_counts(qs, user):
    """The counts as they were before issue 9 (kept here to measure against)."""
    members = selectors.visible_members(user).filter(
        Q(branch__path__startswith=OuterRef("path")) | Q(group=OuterRef("pk"))
    )
    return qs.annotate(
        member_count=SubqueryCount(members.values("pk")),
        full_member_count=SubqueryCount(members.filter(status=MemberStatus.FULL).values("pk")),
        committee_size=SubqueryCount(
            Member.objects.filter(branch=OuterRef("pk"), duty__in=COMMITTEE_DUTIES).values("pk")
        ),
        child_count=SubqueryCount(
            selectors.visible_organizations(user).filter(parent=OuterRef("pk")).values("pk")
        ),
    )


def before_unit_counts_in_scope(qs, user):
    joint = Organization.joint_units.through.objects.filter(unit=OuterRef(OuterRef("pk")))
    of_outer_unit = Q(unit=OuterRef("pk")) | Q(pk__in=joint.values("organization_id"))
    branches_of_outer_unit = Organization.objects.filter(
        Q(unit=OuterRef(OuterRef("pk")))
        | Q(
            pk__in=Organization.joint_units.through.objects.filter(
                unit=OuterRef(OuterRef(OuterRef("pk")))
            ).values("organization_id")
        )
    )
    return qs.annotate(
        organization_count=SubqueryCount(
            selectors.visible_organizations(user).filter(of_outer_unit).values("pk")
        ),
        member_count=SubqueryCount(
            selectors.visible_members(user)
            .filter(branch__in=branches_of_outer_unit.values("pk"))
            .values("pk")
        ),
    )


CURRENT = (selectors.with_member_counts, selectors.unit_counts_in_scope)
BEFORE = (before_with_member_counts, before_unit_counts_in_scope)


def use(implementation) -> None:
    selectors.with_member_counts, selectors.unit_counts_in_scope = implementation


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pages() -> list[tuple[str, Client, str]]:
    staff = User.objects.filter(is_superuser=True).first() or User.objects.get(role=Role.STAFF)
    city = User.objects.filter(role=Role.INSPECTOR, city_wide=True).first()
    unit_inspector = User.objects.filter(role=Role.INSPECTOR, city_wide=False).first()
    committee = (
        Organization.objects.filter(kind=OrganizationKind.COMMITTEE)
        .annotate(n=Count("children"))
        .order_by("-n")
        .first()
    )
    clients = {"staff": client_for(staff), "city": client_for(city)}
    clients["unit"] = client_for(unit_inspector)
    members = reverse("member-list")
    organizations = reverse("organization-list")
    admin_list = reverse("admin:branches_organization_changelist")
    listed = [
        ("cheap list: /api/members/ (staff)", clients["staff"], members),
        ("portal home (city inspector)", clients["city"], reverse("portal:home")),
        ("portal home (unit inspector)", clients["unit"], reverse("portal:home")),
        ("/api/organizations/ (staff)", clients["staff"], organizations),
        ("/api/organizations/ (city inspector)", clients["city"], organizations),
        (
            "/api/organizations/?ordering=-member_count (city)",
            clients["city"],
            organizations + "?ordering=-member_count",
        ),
        (
            "/api/units/?ordering=-member_count (city)",
            clients["city"],
            reverse("unit-list") + "?ordering=-member_count",
        ),
        (
            f"sub-organizations of {committee.code} (portal, city)",
            clients["city"],
            reverse("portal:organization", args=[committee.pk]),
        ),
        (
            f"sub-organizations of {committee.code} (API, city)",
            clients["city"],
            f"{organizations}?parent={committee.pk}",
        ),
        ("admin organization list", clients["staff"], admin_list),
    ]
    # The pairings and evaluations pages (issues 10 and 11), when the demo holds them.
    pairing = Pairing.objects.order_by("pk").first()
    application = Application.objects.order_by("-pk").first()
    if pairing is not None:
        listed += [
            ("pairings list (portal, city)", clients["city"], reverse("portal:pairings")),
            (
                "pairing progress (portal, city)",
                clients["city"],
                reverse("portal:pairing_progress"),
            ),
            (
                "a pairing (portal, staff)",
                clients["staff"],
                reverse("portal:pairing", args=[pairing.pk]),
            ),
            ("/api/pairings/ (city)", clients["city"], reverse("pairing-list")),
            ("/api/help-records/ (city)", clients["city"], reverse("help-record-list")),
            ("/api/pairing-progress/ (city)", clients["city"], reverse("pairing-progress-list")),
            ("admin pairing list", clients["staff"], reverse("admin:pairings_pairing_changelist")),
        ]
    if application is not None:
        listed += [
            (
                "evaluation programs (portal, staff)",
                clients["staff"],
                reverse("portal:evaluation_programs"),
            ),
            ("honour roll (portal, city)", clients["city"], reverse("portal:evaluation_honours")),
            ("reviews (portal, staff)", clients["staff"], reverse("portal:evaluation_reviews")),
            (
                "an application (portal, staff)",
                clients["staff"],
                reverse("portal:evaluation_application", args=[application.pk]),
            ),
            (
                "/api/evaluation-applications/ (staff)",
                clients["staff"],
                reverse("evaluation-application-list"),
            ),
            (
                "/api/evaluation-designations/ (city)",
                clients["city"],
                reverse("evaluation-designation-list"),
            ),
            (
                "admin application list",
                clients["staff"],
                reverse("admin:evaluations_application_changelist"),
            ),
        ]
    campaign = Campaign.objects.filter(kind="theme_day").order_by("pk").first()
    problem = Problem.objects.order_by("pk").first()
    if problem is not None:
        listed += [
            ("problems (portal, city)", clients["city"], reverse("portal:problems")),
            (
                "a problem (portal, staff)",
                clients["staff"],
                reverse("portal:problem", args=[problem.pk]),
            ),
            ("/api/problems/ (city)", clients["city"], reverse("problem-list")),
            ("admin problem list", clients["staff"], reverse("admin:campaigns_problem_changelist")),
        ]
    if campaign is not None:
        listed += [
            (
                "a campaign (portal, city)",
                clients["city"],
                reverse("portal:campaign", args=[campaign.pk]),
            ),
            (
                "/api/campaigns/{id}/totals/ (city)",
                clients["city"],
                reverse("campaign-totals", args=[campaign.pk]),
            ),
        ]
    # Sorted by each of its columns, both ways (the admin ignores a column it cannot sort).
    for column in range(1, 9):
        for sign in ("", "-"):
            listed.append(
                (
                    f"admin organization list ?o={sign}{column}",
                    clients["staff"],
                    f"{admin_list}?o={sign}{column}",
                )
            )
    return listed


def request(client: Client, url: str) -> tuple[float, int]:
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    return elapsed, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--before", action="store_true", help="also measure the old counts")
    parser.add_argument(
        "--only", default="", help="comma-separated words: measure the pages whose name holds one"
    )
    args = parser.parse_args()
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]

    listed = pages()
    if args.only:
        words = args.only.split(",")
        listed = [listed[0]] + [p for p in listed[1:] if any(w in p[0] for w in words)]
    variants = [("now", CURRENT)] + ([("before", BEFORE)] if args.before else [])
    times = {(name, v): [] for name, _c, _u in listed for v, _i in variants}
    queries: dict[tuple[str, str], int] = {}
    for _variant, implementation in variants:  # warm up each once
        use(implementation)
        for _name, client, url in listed:
            request(client, url)
    for _ in range(args.rounds):
        for variant, implementation in variants:
            use(implementation)
            for name, client, url in listed:
                elapsed, n = request(client, url)
                times[(name, variant)].append(elapsed)
                queries[(name, variant)] = n
    use(CURRENT)

    vendor = connection.vendor
    print(
        f"{vendor}: {Organization.objects.count()} organizations, {Member.objects.count()} "
        f"members; {args.rounds} rounds, median ms; load average {os.getloadavg()[0]:.2f}"
    )
    cheap = statistics.median(times[(listed[0][0], "now")])
    header = f"{'page':58} {'ms':>8} {'queries':>7} {'x cheap':>7}"
    if args.before:
        header += f" {'before ms':>10} {'before/now':>10}"
    print(header)
    worst = 0.0
    for name, _client, _url in listed:
        now = statistics.median(times[(name, "now")])
        ratio = now / cheap
        if name != listed[0][0]:
            worst = max(worst, ratio)
        line = f"{name:58} {now * 1000:8.1f} {queries[(name, 'now')]:7d} {ratio:7.2f}"
        if args.before:
            before = statistics.median(times[(name, "before")])
            line += f" {before * 1000:10.1f} {before / now:10.1f}"
        print(line)
    print(f"heaviest page / cheap list: {worst:.2f} (target <= 3)")


if __name__ == "__main__":
    main()
