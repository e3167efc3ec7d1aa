"""A ledger export job end to end with a REAL Celery worker: Redis in between, PostgreSQL shared.

The worker is a subprocess (as in tests/test_celery.py) on a queue of its own, pointed at the
test database and at a MEDIA_ROOT this test shares with it. The data must be committed for the
worker to see it, hence `transactional_db`; SQLite's in-memory test database cannot be shared
with another process, hence PostgreSQL only.

What is proven: the portal starts a job for a ledger over the threshold; the worker builds it
while the row reports progress (rows_written > 0 before the status is done); the owner
downloads a valid file; a job that cannot be built (unknown ledger, filters outside the
owner's scope) ends failed with the reason on the job page.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from reports import tasks
from reports.models import Bulletin, BulletinRow, LedgerExport

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = {"language": "en"}  # chosen with the language switch
ROWS = 6000
PROGRESS_EVERY = 100

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        not settings.REDIS_URL, reason="REDIS_URL is not set: no broker to send a task through"
    ),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL (DATABASE_URL): a worker process cannot share SQLite's test "
        "database",
    ),
]


def _database_url() -> str:
    """The *test* database, as this process sees it, for the worker's DATABASE_URL."""
    db = connection.settings_dict
    auth = db["USER"] or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, settings, tmp_path, monkeypatch):
    """A worker on its own queue; the export task is routed there. Yields the queue name."""
    queue = f"test-export-{uuid.uuid4().hex[:8]}"  # no stray worker can take our tasks
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": str(media),
        "LEDGER_PROGRESS_EVERY": str(PROGRESS_EVERY),
        "CONN_MAX_AGE": "0",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}@%h",
            "-Q",
            queue,
            "--loglevel=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # start_export sends with .delay(): route it to our queue instead of the default one.
    monkeypatch.setattr(
        tasks.build_ledger_export,
        "delay",
        lambda export_id: tasks.build_ledger_export.apply_async(args=[export_id], queue=queue),
    )
    app.conf.task_always_eager = False  # the autouse fixture made it eager; restored after
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        print((tmp_path / "worker.log").read_text())  # shown by pytest only when a test fails


def _wait(export_id: int, timeout: float = 120) -> tuple[LedgerExport, list[tuple[str, int]]]:
    """Poll the job row every 20 ms until it has finished; return it and what was seen."""
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, written = LedgerExport.objects.values_list("status", "rows_written").get(
            pk=export_id
        )
        if not seen or seen[-1] != (status, written):
            seen.append((status, written))
        if status in ("done", "failed"):
            return LedgerExport.objects.get(pk=export_id), seen
        time.sleep(0.02)
    raise AssertionError(f"job {export_id} did not finish in {timeout}s; seen {seen[-5:]}")


def _bulletin_with_many_lines(tree) -> None:
    bulletin = Bulletin.objects.create(month="2026-10-01", built_at=timezone.now())
    BulletinRow.objects.bulk_create(
        [
            BulletinRow(
                bulletin=bulletin,
                organization=tree.branch_a if i % 2 else tree.branch_a2,
                unit=tree.unit_a,
                organization_name=f"支部{i:05d}",
                organization_code=f"A-{i:05d}",
                organization_kind="branch",
                unit_name="市统计局",
                owed=2,
                held=i % 3,
                missing=max(0, 2 - i % 3),
                missing_detail="主题党日×1" if i % 3 < 2 else "",
            )
            for i in range(ROWS)
        ],
        batch_size=2000,
    )
    # One line of unit_b: inspector_a's file must not hold it.
    BulletinRow.objects.create(
        bulletin=bulletin,
        organization=tree.branch_b,
        unit=tree.unit_b,
        organization_name="水务局第一党支部",
        organization_code="B-1",
        organization_kind="branch",
        unit_name="市水务局",
        owed=1,
        held=0,
        missing=1,
    )


def test_a_real_worker_builds_a_large_ledger_with_progress_and_the_owner_downloads_it(
    worker, tree, users, client_for, settings
):
    _bulletin_with_many_lines(tree)
    settings.LEDGER_ASYNC_THRESHOLD = 1000
    client = client_for("inspector_a")

    response = client.post(
        reverse("portal:downloads"), {"ledger": "bulletin", "period": "2026-10"}, **ENGLISH
    )
    assert response.status_code == 302, response.content[:500]
    export = LedgerExport.objects.get()
    assert response["Location"] == reverse("portal:export", args=[export.pk])
    assert export.rows_total == ROWS

    export, seen = _wait(export.pk)
    assert export.status == "done", (export.error, seen)
    # Progress was visible while it ran: some rows written before the job was done.
    assert any(status != "done" and written > 0 for status, written in seen), seen
    assert any(status == "running" for status, _ in seen), seen
    assert (export.rows_written, export.progress) == (ROWS, 100)

    page = client.get(response["Location"], **ENGLISH).content.decode()
    download = reverse("portal:export_download", args=[export.pk])
    assert f'href="{download}"' in page
    file = client.get(download)
    assert file.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(file.streaming_content))).active
    codes = [row[2] for row in sheet.iter_rows(min_row=5, values_only=True) if row[2]]
    assert len(codes) == ROWS
    assert "B-1" not in codes  # the worker built it in the owner's scope
    # Anybody else: 404.
    assert client_for("inspector_city").get(download).status_code == 404


def test_a_real_worker_records_why_a_job_could_not_be_built(worker, tree, users, client_for):
    unknown = LedgerExport.objects.create(owner=users["staff"], ledger="no_such_ledger")
    outside = LedgerExport.objects.create(
        owner=users["secretary_a"],
        ledger="bulletin",
        params={"period": "2026-10", "organization": tree.branch_b.pk},
    )
    for export in (unknown, outside):
        tasks.build_ledger_export.apply_async(args=[export.pk], queue=worker)

    unknown, _seen = _wait(unknown.pk)
    outside, _seen = _wait(outside.pk)
    assert unknown.status == outside.status == "failed"
    assert "no_such_ledger" in unknown.error
    assert outside.error.startswith("organization:")  # a choice outside secretary_a's scope
    assert not unknown.file and not outside.file

    for role, export in (("staff", unknown), ("secretary_a", outside)):
        client = client_for(role)
        page = client.get(reverse("portal:export", args=[export.pk]), **ENGLISH).content.decode()
        assert "The ledger could not be built." in page
        assert export.error in page
        assert client.get(reverse("portal:export_download", args=[export.pk])).status_code == 404
