"""Load run: concurrent logged-in users of every role against gunicorn, for a bounded time.

Starts gunicorn itself on 127.0.0.1 (a free port, DEBUG=false) against the database in
DATABASE_URL, waits until it answers, logs every user in (not timed), then runs the load from
this process (one thread and one HTTP connection per user, stdlib http.client), stops gunicorn
and prints: requests, throughput, p50/p95/p99 latency overall and per page kind, errors (with
their statuses), the load average and the settings the server ran with.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiguan_city
    .venv/bin/python bench/load.py                            # 50 users, 60 s, --workers 3
    .venv/bin/python bench/load.py --users 20 --duration 30 --workers 4 --threads 2
    .venv/bin/python bench/load.py --think 0                  # no pauses: the server's capacity
    .venv/bin/python bench/load.py --env CONN_MAX_AGE=0       # environment of the gunicorn
    .venv/bin/python bench/load.py --users 1 --think 0 --role city --only home
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000   # a server already running

The users: the shares of ROLE_SHARES (at 50: 35 secretaries, 8 inspectors of some units,
3 city-wide inspectors, 4 committee staff). They are accounts of the bench's own, created or
reset in DATABASE_URL's database on each run (`bench_<role>_<n>`, the demo password, an
@demo.invalid address so `seed_demo --flush` removes them): secretaries of branches and of
unit committees spread over the city, inspectors of one to three units. Nothing else is
written but sessions and the login records of django-axes. With --url the server must use the
same database.

Each user, in a loop until the time is up: a page kind drawn by the weights of its role (PAGES),
the request, then a pause of 0 to 2 x --think seconds (a person reading; --think 0 is a closed
loop that measures capacity). Pages: the portal home, an organization in the user's scope, its
member list, its activity records, the API lists (organizations, members, activity records: a
random page of the user's scope), the overdue-elections ledger (a small .xlsx, POST with the
CSRF token), and for staff the admin index, the organization change list and a change page.
The first --warmup seconds are run but not counted (cold caches, first connections).

The gunicorn it starts gets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS=127.0.0.1,
SECURE_SSL_REDIRECT=false, API throttle rates high enough not to count (API_THROTTLE_USER /
_ANON), and a STATIC_ROOT of its own filled by collectstatic (the manifest DEBUG=false needs).
Its log is kept and its path printed. The client's threads share this machine's cores with the
server: the CPU figure printed is the whole machine's.

Figures only, not a test. Target at city scale on 2 cores: p95 <= 500 ms, no errors (the exit
status is 1 when it is not met).
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ROLES = ("secretary", "inspector", "city", "staff")
# Share of the users per role (rounded to whole users, largest remainders first).
ROLE_SHARES = {"secretary": 0.70, "inspector": 0.16, "city": 0.06, "staff": 0.08}
# Secretaries: this share runs a unit's party committee (its whole tree), the others a branch.
COMMITTEE_SECRETARIES = 0.2

# Page kind -> weight for (secretary, inspector, city, staff).
PAGES: dict[str, tuple[int, int, int, int]] = {
    "home": (20, 20, 20, 10),
    "organization": (20, 20, 20, 10),
    "members": (15, 15, 15, 10),
    "activities": (15, 10, 10, 5),
    "api_organizations": (5, 8, 8, 5),
    "api_members": (5, 8, 8, 5),
    "api_activity_records": (5, 8, 8, 5),
    "ledger": (2, 3, 3, 2),
    "admin_index": (0, 0, 0, 5),
    "admin_organizations": (0, 0, 0, 15),
    "admin_organization": (0, 0, 0, 5),
}
API_PAGE_SIZE = 50  # REST_FRAMEWORK["PAGE_SIZE"]
LEDGER = "overdue_elections"

REQUEST_TIMEOUT = 130  # seconds: beyond gunicorn's --timeout, so a killed worker shows as such


# --- figures ---------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values sorted ascending; nan when empty."""
    if not values:
        return math.nan
    rank = math.ceil(p / 100 * len(values))
    return values[min(max(rank, 1), len(values)) - 1]


def role_counts(users: int, roles: tuple[str, ...] = ROLES) -> dict[str, int]:
    """Users per role by ROLE_SHARES (only the roles given), whole users summing to `users`."""
    total = sum(ROLE_SHARES[r] for r in roles)
    exact = {r: users * ROLE_SHARES[r] / total for r in roles}
    counts = {r: math.floor(v) for r, v in exact.items()}
    by_remainder = sorted(roles, key=lambda r: (counts[r] - exact[r], ROLES.index(r)))
    for r in by_remainder[: users - sum(counts.values())]:
        counts[r] += 1
    return counts


def cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def tree_cpu(pid: int) -> float | None:
    """CPU seconds of a process and its children (gunicorn's master and workers): steadier than
    wall-clock figures when the machine is shared."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    if pid not in stats:
        return None
    ticks = sum(t for p, (ppid, t) in stats.items() if p == pid or ppid == pid)
    return ticks / os.sysconf("SC_CLK_TCK")


# --- HTTP ------------------------------------------------------------------------------------


class Session:
    """One user's connection and cookies (kept as a browser keeps them, Secure flag or not:
    the bench speaks plain HTTP to a DEBUG=false server)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Accept": "text/html,application/json;q=0.9", "Accept-Language": "zh-CN"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=REQUEST_TIMEOUT
                )
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if reused and attempt == 1:
                    continue  # a kept-alive connection the server had closed: as a browser does
                raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            if response.will_close:
                self.close()
            for line in response.headers.get_all("Set-Cookie") or ():
                for name, morsel in SimpleCookie(line).items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- the users ---------------------------------------------------------------------------------


@dataclass
class User:
    username: str
    role: str
    organizations: list[int]  # in scope: the pages' organization is drawn from these
    api_pages: dict[str, int]  # API list -> pages of the user's scope
    admin_pages: int = 1
    session: Session | None = None
    rng: random.Random = field(default_factory=random.Random)

    def weights(self, only: set[str] | None) -> tuple[list[str], list[int]]:
        column = ROLES.index(self.role)
        kinds = [k for k, w in PAGES.items() if w[column] and (not only or k in only)]
        return kinds, [PAGES[k][column] for k in kinds]

    def request_for(self, kind: str) -> tuple[str, str, dict[str, str] | None]:
        rng = self.rng
        org = rng.choice(self.organizations)
        if kind == "home":
            return "GET", "/portal/", None
        if kind == "organization":
            return "GET", f"/portal/organizations/{org}/", None
        if kind == "members":
            return "GET", f"/portal/members/?organization={org}", None
        if kind == "activities":
            return "GET", f"/portal/organizations/{org}/activities/", None
        if kind.startswith("api_"):
            route = kind.removeprefix("api_").replace("_", "-")
            page = rng.randint(1, self.api_pages[route])
            return "GET", f"/api/{route}/" + (f"?page={page}" if page > 1 else ""), None
        if kind == "ledger":
            token = self.session.cookies.get("csrftoken", "") if self.session else ""
            form = {"ledger": LEDGER, "unit": "", "organization": "", "csrfmiddlewaretoken": token}
            return "POST", "/portal/reports/downloads/", form
        if kind == "admin_index":
            return "GET", "/admin/", None
        if kind == "admin_organizations":
            page = rng.randint(0, self.admin_pages - 1)
            return "GET", "/admin/branches/organization/" + (f"?p={page}" if page else ""), None
        if kind == "admin_organization":
            return "GET", f"/admin/branches/organization/{org}/change/", None
        raise ValueError(kind)


def prepare_users(counts: dict[str, int], seed: int) -> list[User]:
    """Create (or reset) the bench's accounts in DATABASE_URL's database and read each one's
    scope through the project's own selectors."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib import admin
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import Role
    from accounts.models import User as Account
    from branches.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
    from branches.models import Organization, OrganizationKind, Unit
    from branches.selectors import (
        visible_activity_records,
        visible_members,
        visible_organizations,
    )

    admin_page_size = admin.site._registry[Organization].list_per_page
    rng = random.Random(seed)
    branches = list(
        Organization.objects.filter(kind=OrganizationKind.BRANCH)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    committees = list(
        Organization.objects.filter(kind=OrganizationKind.COMMITTEE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    units = list(Unit.objects.order_by("pk").values_list("pk", flat=True))
    if not branches or not units:
        raise SystemExit("No organizations in the database: seed it first (see the docstring).")
    n_committee = round(counts.get("secretary", 0) * COMMITTEE_SECRETARIES)
    secretary_orgs = rng.sample(committees, min(n_committee, len(committees)))
    secretary_orgs += rng.sample(branches, counts.get("secretary", 0) - len(secretary_orgs))
    password = make_password(DEMO_PASSWORD)  # hashed once: ~0.3 s each
    account_roles = {
        "secretary": Role.SECRETARY,
        "inspector": Role.INSPECTOR,
        "city": Role.INSPECTOR,
        "staff": Role.STAFF,
    }

    users: list[User] = []
    with transaction.atomic():
        for role in ROLES:
            for i in range(1, counts.get(role, 0) + 1):
                username = f"bench_{role}_{i:03d}"
                account, _ = Account.objects.update_or_create(
                    username=username,
                    defaults={
                        "email": f"{username}@{DEMO_EMAIL_DOMAIN}",
                        "password": password,
                        "role": account_roles[role],
                        "organization_id": secretary_orgs[i - 1] if role == "secretary" else None,
                        "city_wide": role == "city",
                        "is_staff": role == "staff",
                        "is_superuser": role == "staff",
                        "is_active": True,
                        "must_change_password": False,
                    },
                )
                account.units.set(
                    rng.sample(units, rng.randint(1, 3)) if role == "inspector" else []
                )
                organizations = list(visible_organizations(account).values_list("pk", flat=True))
                records = visible_activity_records(account).count()
                users.append(
                    User(
                        username=username,
                        role=role,
                        organizations=organizations,
                        api_pages={
                            "organizations": max(1, math.ceil(len(organizations) / API_PAGE_SIZE)),
                            "members": max(
                                1, math.ceil(visible_members(account).count() / API_PAGE_SIZE)
                            ),
                            "activity-records": max(1, math.ceil(records / API_PAGE_SIZE)),
                        },
                        admin_pages=max(1, math.ceil(len(organizations) / admin_page_size)),
                        rng=random.Random(f"{seed}-{username}"),
                    )
                )
    return users


def log_in(user: User, host: str, port: int, password: str) -> None:
    session = Session(host, port)
    status, _, _ = session.request("GET", "/portal/login/")
    if status != 200 or "csrftoken" not in session.cookies:
        raise RuntimeError(f"{user.username}: the login page answered {status}")
    form = {
        "username": user.username,
        "password": password,
        "csrfmiddlewaretoken": session.cookies["csrftoken"],
    }
    status, headers, body = session.request("POST", "/portal/login/", form)
    if status != 302 or "sessionid" not in session.cookies:
        snippet = body[:300].decode(errors="replace")
        raise RuntimeError(f"{user.username}: login answered {status}: {snippet}")
    user.session = session


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "API_THROTTLE_USER": "1000000/min",
            "API_THROTTLE_ANON": "1000000/min",
            "STATIC_ROOT": str(args.static_root),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


SETTINGS_PROBE = """
import json, config.wsgi
from django.conf import settings
from django.db import connection
db = settings.DATABASES["default"]
out = {"engine": connection.vendor, "name": str(db["NAME"]), "CONN_MAX_AGE": db["CONN_MAX_AGE"],
       "CONN_HEALTH_CHECKS": db.get("CONN_HEALTH_CHECKS"), "DEBUG": settings.DEBUG,
       "DB_STATEMENT_TIMEOUT": settings.DB_STATEMENT_TIMEOUT,
       "options": db.get("OPTIONS", {}).get("options", "")}
if connection.vendor == "postgresql":
    with connection.cursor() as c:
        for name in ("jit", "statement_timeout", "server_version", "max_connections"):
            c.execute("SHOW " + name)
            out[name] = c.fetchone()[0]
print(json.dumps(out))
"""


def probe_settings(env: dict[str, str]) -> dict:
    """What a web process of this environment runs with (it imports config.wsgi, as gunicorn)."""
    import json

    out = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(f"The settings probe failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_gunicorn(args: argparse.Namespace, env: dict[str, str], port: int, log: Path):
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if collect.returncode:
        raise SystemExit(f"collectstatic failed:\n{collect.stderr[-2000:]}")
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
        "--timeout", "120", "--graceful-timeout", "5",
    ]  # fmt: skip
    if args.threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(args.threads)]
    command += args.gunicorn_arg
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}); its log: {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/portal/login/")
            if conn.getresponse().status == 200:
                conn.close()
                return process, command
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise SystemExit(f"gunicorn did not answer within 60 s; its log: {log}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    status: int | str  # the final HTTP status, or what went wrong ("timeout", an exception)
    seconds: float  # redirects followed included
    started: float  # monotonic
    finished: float
    redirects: int = 0


def fetch(user: User, method: str, path: str, form: dict[str, str] | None) -> tuple[int | str, int]:
    """The response's status as a browser ends up with it: local redirects followed (a
    secretary's home is their organization's page), one to the login page is "login" (the
    session was lost)."""
    redirects = 0
    while True:
        try:
            status, headers, _ = user.session.request(method, path, form)
        except TimeoutError:
            return "timeout", redirects
        except (OSError, http.client.HTTPException) as exc:
            return type(exc).__name__, redirects
        location = urllib.parse.urlsplit(headers.get("location", ""))
        if status not in (301, 302, 303, 307, 308) or location.netloc or redirects == 5:
            return status, redirects
        if location.path.startswith("/portal/login/"):
            return "login", redirects
        method, path, form = "GET", urllib.parse.urlunsplit(("", "", *location[2:])), None
        redirects += 1


def run_user(user: User, args, only, end: float, results: list[Result]) -> None:
    kinds, weights = user.weights(only)
    if not kinds:
        return
    rng = user.rng
    time.sleep(rng.uniform(0, min(1.0, 2 * args.think)))  # users arrive over the first second
    while time.monotonic() < end:
        kind = rng.choices(kinds, weights)[0]
        method, path, form = user.request_for(kind)
        began = time.monotonic()
        t0 = time.perf_counter()
        status, redirects = fetch(user, method, path, form)
        results.append(
            Result(kind, status, time.perf_counter() - t0, began, time.monotonic(), redirects)
        )
        if args.think:
            time.sleep(rng.uniform(0, 2 * args.think))


def report(results: list[Result], start: float, end: float, top_errors: int = 10) -> bool:
    """Latencies of the requests started in [start, end) (those finishing later included:
    they are the slow ones); throughput of the requests finished in it."""
    counted = [r for r in results if start <= r.started < end]
    duration = end - start
    by_kind: dict[str, list[Result]] = defaultdict(list)
    for r in counted:
        by_kind[r.kind].append(r)

    def failed(r: Result) -> bool:
        return not isinstance(r.status, int) or not 200 <= r.status < 400

    def line(label: str, rows: list[Result]) -> str:
        times = sorted(r.seconds * 1000 for r in rows)
        errors = sum(failed(r) for r in rows)
        return (
            f"{label:<22}{len(rows):>7}{sum(r.finished <= end for r in rows) / duration:>8.1f}"
            f"{percentile(times, 50):>8.0f}{percentile(times, 95):>8.0f}"
            f"{percentile(times, 99):>8.0f}{(times[-1] if times else math.nan):>8.0f}{errors:>8}"
        )

    print(
        f"\n{'kind':<22}{'n':>7}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'errors':>8}"
    )
    print(f"{'':<22}{'':>7}{'':>8}{'(ms)':>8}")
    for kind in PAGES:
        if by_kind.get(kind):
            print(line(kind, by_kind[kind]))
    print(line("all", counted))

    errors = Counter((r.kind, r.status) for r in counted if failed(r))
    if errors:
        print("\nErrors (kind, status: count):")
        for (kind, status), n in errors.most_common(top_errors):
            print(f"  {kind} {status}: {n}")
    redirected = Counter(r.kind for r in counted if r.redirects)
    if redirected:
        print(
            "Redirects followed (timed with the page they lead to): "
            + ", ".join(f"{kind} {n}" for kind, n in redirected.most_common())
        )
    times = sorted(r.seconds for r in counted)
    return bool(counted) and not errors and percentile(times, 95) <= 0.5


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    if only and only - set(PAGES):
        raise SystemExit(f"--only: unknown page kinds {sorted(only - set(PAGES))}")
    roles = tuple(args.role.split(",")) if args.role else ROLES
    counts = role_counts(args.users, roles)

    print(f"Preparing {args.users} users: " + ", ".join(f"{r} {n}" for r, n in counts.items()))
    users = prepare_users(counts, args.seed)
    from branches.demo import DEMO_PASSWORD

    process = None
    log = Path(tempfile.mkdtemp(prefix="jiguan-load-")) / "gunicorn.log"
    try:
        if args.url:
            parsed = urllib.parse.urlsplit(args.url)
            host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
            server = f"{args.url} (already running: its settings are its own)"
            probed = None
        else:
            env = server_env(args)
            probed = probe_settings(env)
            host, port = "127.0.0.1", free_port()
            process, command = start_gunicorn(args, env, port, log)
            server = " ".join(command[2:]) + f"  (log: {log})"

        t0 = time.monotonic()
        failures: list[str] = []

        def login(user: User) -> None:
            try:
                log_in(user, host, port, DEMO_PASSWORD)
            except Exception as exc:  # reported below, all of them
                failures.append(str(exc))

        threads = [threading.Thread(target=login, args=(u,)) for u in users]
        for i in range(0, len(threads), 8):  # 8 at a time: password hashing is slow on purpose
            for t in threads[i : i + 8]:
                t.start()
            for t in threads[i : i + 8]:
                t.join()
        if failures:
            raise SystemExit("Logins failed:\n  " + "\n  ".join(failures[:10]))
        print(f"Logged in {len(users)} users in {time.monotonic() - t0:.1f} s (not timed).")

        load_before = os.getloadavg()
        results: list[Result] = []
        begin = time.monotonic()
        measured_from = begin + args.warmup
        end = measured_from + args.duration
        cpu_start: tuple[int, int] | None = None
        runners = [
            threading.Thread(target=run_user, args=(u, args, only, end, results)) for u in users
        ]
        for t in runners:
            t.start()
        time.sleep(max(0.0, measured_from - time.monotonic()))
        cpu_start = cpu_times()
        client_start = time.process_time()
        server_start = tree_cpu(process.pid) if process else None
        for t in runners:
            t.join()
        finished = time.monotonic()
        cpu_end = cpu_times()
        client_cpu = time.process_time() - client_start
        server_end = tree_cpu(process.pid) if process else None
        load_after = os.getloadavg()
    finally:
        for u in users:
            if u.session:
                u.session.close()
        if process is not None:
            stop(process)

    counted = [r for r in results if measured_from <= r.started < end]
    done = sum(r.finished <= end for r in counted)
    print("\nSettings")
    print(f"  server:    {server}")
    if probed:
        print(
            f"  database:  {probed['engine']} {probed['name']}"
            + (f" (PostgreSQL {probed['server_version']})" if "server_version" in probed else "")
        )
        print(
            f"  web connections: jit={probed.get('jit', '-')}, "
            f"statement_timeout={probed.get('statement_timeout', '-')}, "
            f"CONN_MAX_AGE={probed['CONN_MAX_AGE']}, "
            f"CONN_HEALTH_CHECKS={probed['CONN_HEALTH_CHECKS']}, DEBUG={probed['DEBUG']}"
        )
    if args.env:
        print(f"  env:       {' '.join(args.env)}")
    print(
        f"  load:      {len(users)} users ("
        + ", ".join(f"{r} {n}" for r, n in counts.items() if n)
        + f"), think 0-{2 * args.think:g} s, {args.duration:g} s after {args.warmup:g} s warm-up"
        + (f", only {','.join(sorted(only))}" if only else "")
        + f", seed {args.seed}"
    )
    print(f"  machine:   {os.cpu_count()} CPUs")
    print(f"  load average before: {' '.join(f'{v:.2f}' for v in load_before)}")
    print(f"  load average after:  {' '.join(f'{v:.2f}' for v in load_after)}")
    if cpu_start and cpu_end and cpu_end[1] > cpu_start[1]:
        busy = (cpu_end[0] - cpu_start[0]) / (cpu_end[1] - cpu_start[1])
        print(
            f"  CPU busy (whole machine): {busy:.0%}; this client's own CPU "
            f"{client_cpu / (finished - measured_from):.0%} of one core"
        )

    print(
        f"\nRequests: {len(counted)} started in {args.duration:g} s, {done} finished in it: "
        f"throughput {done / args.duration:.1f} req/s; the last finished "
        f"{max(0.0, finished - end):.1f} s after the end ({len(results) - len(counted)} more in "
        f"the warm-up)"
    )
    if server_start is not None and server_end is not None and counted:
        print(
            f"gunicorn CPU per request: {(server_end - server_start) * 1000 / len(counted):.0f} ms"
            " (master and workers, PostgreSQL not included)"
        )
    met = report(results, measured_from, end)
    print(f"\nTarget p95 <= 500 ms and no errors: {'met' if met else 'NOT met'}")
    return 0 if met else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent users (50)")
    parser.add_argument("--duration", type=float, default=60, help="measured seconds (60)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds run first, not counted")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between a user's requests (1 s)"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument(
        "--gunicorn-arg", action="append", default=[], help="one more gunicorn argument"
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="for the gunicorn"
    )
    parser.add_argument("--url", help="a running server (same database) instead of gunicorn")
    parser.add_argument("--role", help=f"only these roles, comma-separated: {','.join(ROLES)}")
    parser.add_argument("--only", help="only these page kinds, comma-separated: " + ",".join(PAGES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--static-root",
        type=Path,
        default=Path(tempfile.gettempdir()) / "jiguan-load-static",
        help="collectstatic target for the gunicorn (kept between runs)",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration <= 0 or args.think < 0 or args.workers < 1:
        parser.error("--users, --duration and --workers must be positive, --think not negative")
    if args.role and set(args.role.split(",")) - set(ROLES):
        parser.error(f"--role: one or more of {', '.join(ROLES)}")
    for item in args.env:
        if "=" not in item:
            parser.error(f"--env {item}: KEY=VALUE")
    return args


if __name__ == "__main__":
    sys.exit(main())
