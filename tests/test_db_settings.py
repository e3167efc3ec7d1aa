"""Database settings: JIT off and persistent, health-checked connections on PostgreSQL; the
statement timeout for the web processes only (config/wsgi.py), never for Celery workers or
management commands; SQLite as it was.

The process tests start Python the way each kind of process starts (importing config.wsgi as
gunicorn does, manage.py, a Celery worker process's initialisation) against the test database
and ask PostgreSQL what that connection runs with. Also here: a smoke test of bench/load.py's
figures (the load run itself is a benchmark, not a test).
"""

import importlib.util
import os
import subprocess
import sys
import textwrap
import urllib.parse
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client, override_settings
from django.urls import path

from accounts.access import PUBLIC, declare
from config import settings as settings_module

ROOT = Path(__file__).resolve().parent.parent

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL settings (DATABASE_URL unset: SQLite)"
)

SHOW = """
from django.db import connection
with connection.cursor() as cursor:
    for name in ("jit", "statement_timeout"):
        cursor.execute("SHOW " + name)
        print(name, cursor.fetchone()[0])
"""


def _run(args: list[str], **env_overrides: str) -> dict[str, str]:
    """Run Python against the test database; its `name value` lines as a dict."""
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    env = {k: v for k, v in os.environ.items() if k != "DB_STATEMENT_TIMEOUT"}
    env["DATABASE_URL"] = url._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    env.update(env_overrides)
    out = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


# --- PostgreSQL ------------------------------------------------------------------------------


@postgresql_only
def test_connections_run_without_jit_and_are_kept_with_health_checks(db):
    database = settings.DATABASES["default"]
    assert "-c jit=off" in database["OPTIONS"]["options"]
    assert database["CONN_HEALTH_CHECKS"] is True
    if "CONN_MAX_AGE" not in os.environ:
        assert database["CONN_MAX_AGE"] == 60
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@postgresql_only
def test_a_web_process_has_the_statement_timeout_and_a_runaway_query_is_cancelled(db):
    probe = SHOW + textwrap.dedent(
        """
        import time
        from django.db import OperationalError
        started = time.monotonic()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(5)")
        except OperationalError as exc:
            print("cancelled", round(time.monotonic() - started, 1), str(exc).strip())
        """
    )
    # As gunicorn and runserver do: the application comes from config.wsgi.
    shown = _run(["-c", "import config.wsgi\n" + probe], DB_STATEMENT_TIMEOUT="300ms")
    assert shown["jit"] == "off"
    assert shown["statement_timeout"] == "300ms"
    seconds, message = shown["cancelled"].split(" ", 1)
    assert float(seconds) < 3
    assert "statement timeout" in message


def test_the_web_timeout_defaults_to_30_seconds():
    if "DB_STATEMENT_TIMEOUT" not in os.environ:
        assert settings.DB_STATEMENT_TIMEOUT == 30_000


@postgresql_only
def test_commands_and_celery_workers_have_no_statement_timeout(db):
    # manage.py (migrate, seed_demo, build_bulletin...) never imports config.wsgi; neither does
    # a Celery worker, which sets Django up, then sends worker_process_init (config.celery's
    # own handler among its receivers) before its first task: both run here, in one process.
    worker = textwrap.dedent(
        """
        from celery.signals import worker_process_init
        from config.celery import app
        worker_process_init.send(sender=None)
        """
    )
    shown = _run(
        ["manage.py", "shell", "-v", "0", "-c", worker + SHOW], DB_STATEMENT_TIMEOUT="300ms"
    )
    assert shown == {"jit": "off", "statement_timeout": "0"}


def _runaway(request):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 50")  # the test's transaction only
        cursor.execute("SELECT pg_sleep(5)")


urlpatterns = [
    path("portal/runaway/", declare(_runaway, read=PUBLIC)),
    path("api/runaway/", declare(_runaway, read=PUBLIC)),
]
handler500 = "config.views.server_error"  # as config/urls.py


@postgresql_only
@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("url", ["/portal/runaway/", "/api/runaway/"])
def test_a_cancelled_statement_is_the_error_page_at_once(db, url):
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == 500
    if url.startswith("/api/"):
        assert response.json() == {"detail": "服务器出错"}
    else:
        assert "服务器出错" in response.content.decode()


# --- SQLite and the durations ------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded default")
def test_sqlite_is_as_before():
    database = settings.DATABASES["default"]
    assert "options" not in database["OPTIONS"]
    assert database["OPTIONS"]["init_command"] == "PRAGMA journal_mode=WAL;"
    if "CONN_MAX_AGE" not in os.environ:
        assert database["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    "text, ms",
    [("30s", 30_000), ("500ms", 500), ("2min", 120_000), ("45", 45_000), ("1.5 s", 1500),
     ("0", 0)],
)  # fmt: skip
def test_statement_timeout_durations(monkeypatch, text, ms):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", text)
    assert settings_module._milliseconds("DB_STATEMENT_TIMEOUT", default="30s") == ms


@pytest.mark.parametrize("text", ["fast", "-1", "30 sec", ""])
def test_statement_timeout_refuses_what_is_not_a_duration(monkeypatch, text):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", text)
    with pytest.raises(ImproperlyConfigured, match="DB_STATEMENT_TIMEOUT"):
        settings_module._milliseconds("DB_STATEMENT_TIMEOUT", default="30s")


# --- bench/load.py -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def load():
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its dataclasses
    spec.loader.exec_module(module)  # Django is set up only when a run starts
    yield module
    del sys.modules[spec.name]


def test_load_percentiles(load):
    values = [float(v) for v in range(1, 101)]
    assert [load.percentile(values, p) for p in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert load.percentile([7.0], 95) == 7
    assert load.percentile([], 50) != load.percentile([], 50)  # nan


def test_load_users_per_role(load):
    assert load.role_counts(50) == {"secretary": 35, "inspector": 8, "city": 3, "staff": 4}
    assert sum(load.role_counts(7).values()) == 7
    assert load.role_counts(3, ("city",)) == {"city": 3}


def test_load_arguments(load):
    args = load.parse_args(["--users", "5", "--duration", "2", "--env", "CONN_MAX_AGE=0"])
    assert (args.users, args.duration, args.workers, args.env) == (5, 2, 3, ["CONN_MAX_AGE=0"])
    with pytest.raises(SystemExit):
        load.parse_args(["--role", "mayor"])
