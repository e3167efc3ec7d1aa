"""Export jobs recover: a killed worker or a lost message leaves a job that the sweep fails and
its owner can build again; a dead broker is said at once and leaves no job behind."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.celery import app
from reports.models import ExportStatus, LedgerExport
from reports.services import retry_export, start_export, sweep_stuck_exports
from reports.tasks import sweep_stuck_exports as sweep_task

MINUTES = datetime.timedelta(minutes=1)


@pytest.fixture
def job(tree, secretary_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    def make(status, minutes_ago):
        moment = timezone.now() - minutes_ago * MINUTES
        return LedgerExport.objects.create(
            owner=secretary_a,
            ledger="roster",
            params={},
            status=status,
            queued_at=moment,
            started_at=moment if status == ExportStatus.RUNNING else None,
        )

    return make


def test_a_job_left_running_by_a_killed_worker_is_failed_then_built_again(
    job, secretary_a, django_capture_on_commit_callbacks
):
    stuck = job(ExportStatus.RUNNING, 31)
    assert sweep_stuck_exports() == 1
    stuck.refresh_from_db()
    assert stuck.status == ExportStatus.FAILED
    assert "中断" in stuck.error or "stopped" in stuck.error
    with django_capture_on_commit_callbacks(execute=True):
        retry_export(secretary_a, stuck)  # eager in tests: built at once
    stuck.refresh_from_db()
    assert stuck.status == ExportStatus.DONE and stuck.rows_written == 3


def test_a_lost_message_leaves_a_pending_job_that_the_sweep_fails(job):
    lost = job(ExportStatus.PENDING, 45)
    assert sweep_task() == 1
    lost.refresh_from_db()
    assert lost.status == ExportStatus.FAILED


def test_a_job_at_work_is_left_alone(job, secretary_a):
    working = job(ExportStatus.RUNNING, 5)
    queued = job(ExportStatus.PENDING, 5)
    assert sweep_stuck_exports() == 0
    with pytest.raises(ValidationError):
        retry_export(secretary_a, working)
    working.refresh_from_db()
    queued.refresh_from_db()
    assert (working.status, queued.status) == (ExportStatus.RUNNING, ExportStatus.PENDING)


def test_a_stuck_job_can_be_retried_before_the_sweep_comes(
    job, secretary_a, django_capture_on_commit_callbacks
):
    stuck = job(ExportStatus.RUNNING, 40)
    with django_capture_on_commit_callbacks(execute=True):
        retry_export(secretary_a, stuck)
    stuck.refresh_from_db()
    assert stuck.status == ExportStatus.DONE


@pytest.fixture
def dead_broker():
    previous = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = previous


def test_a_dead_broker_is_said_at_once_and_leaves_no_job(tree, secretary_a, dead_broker):
    from reports.ledgers import get_ledger, params_from_json

    params = params_from_json(get_ledger("roster"), secretary_a, {})
    started = timezone.now()
    with pytest.raises(ValidationError) as refused:
        start_export(secretary_a, "roster", params)
    assert (timezone.now() - started).total_seconds() < 10
    assert "后台服务" in refused.value.messages[0] or "background" in refused.value.messages[0]
    assert not LedgerExport.objects.exists()


def test_workers_take_jobs_late_and_give_back_what_they_lose():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_the_api_says_503_when_the_broker_is_down(tree, client_for, dead_broker):
    from django.urls import reverse

    response = client_for("secretary_a").post(
        reverse("ledger-export-list"), {"ledger": "roster"}, content_type="application/json"
    )
    assert response.status_code == 503
    assert "后台服务没有响应" in response.json()["detail"]
    assert not LedgerExport.objects.exists()


def test_the_portal_says_so_when_the_broker_is_down(tree, client_for, dead_broker, settings):
    from django.urls import reverse

    settings.LEDGER_ASYNC_THRESHOLD = 0  # every ledger goes to the background
    response = client_for("secretary_a").post(
        reverse("portal:downloads"), {"ledger": "roster"}, follow=True
    )
    assert response.status_code == 200
    assert "后台服务没有响应" in response.content.decode()
    assert not LedgerExport.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_page_says_the_job_is_done(tree, client_for, settings, tmp_path):
    """The README's default: tasks run in the request, after its commit, as here."""
    from django.urls import reverse

    settings.MEDIA_ROOT = tmp_path
    settings.LEDGER_ASYNC_THRESHOLD = 0
    response = client_for("secretary_a").post(
        reverse("portal:downloads"), {"ledger": "roster"}, follow=True
    )
    page = response.content.decode()
    assert "已生成" in page and "正在后台生成" not in page


def test_the_sweep_removes_what_a_killed_worker_left_in_its_temporary_folder(
    db, settings, tmp_path
):
    import os
    import time

    settings.WORK_TMP_DIR = tmp_path
    old = tmp_path / "openpyxl.abc123"
    old.write_bytes(b"<sheet/>")
    long_ago = time.time() - 2 * 3600
    os.utime(old, (long_ago, long_ago))
    fresh = tmp_path / "openpyxl.def456"  # a job writing right now
    fresh.write_bytes(b"<sheet/>")
    sweep_stuck_exports()
    assert not old.exists() and fresh.exists()


def test_a_worker_writes_its_temporary_files_where_the_sweep_looks(settings, tmp_path):
    import tempfile

    from config.celery import _own_temporary_folder

    settings.WORK_TMP_DIR = tmp_path / "work"
    previous = tempfile.tempdir
    try:
        _own_temporary_folder()
        assert tempfile.gettempdir() == str(tmp_path / "work")
    finally:
        tempfile.tempdir = previous
