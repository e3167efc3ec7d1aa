"""Celery: eager in process by default; a real round trip through Redis when REDIS_URL is set."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app, ping

ROOT = Path(__file__).resolve().parent.parent


def test_tasks_run_eagerly_in_process_by_default():
    # The autouse fixture makes every test eager; this is the embedded default's behaviour.
    assert app.conf.task_always_eager is True
    assert ping.delay(41).get(timeout=1) == 42


def test_embedded_default_is_eager_without_a_broker():
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "django.setup(); from django.conf import settings;"
        "print(settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "memory://"]


@pytest.mark.celery_worker
@pytest.mark.skipif(
    not settings.REDIS_URL, reason="REDIS_URL is not set: no broker to send a task through"
)
def test_round_trip_through_redis_to_a_real_worker():
    queue = f"test-{uuid.uuid4().hex[:8]}"  # our own queue: no stray worker can take the task
    worker = subprocess.Popen(
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
            "-Q",
            queue,
            "--loglevel=warning",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.conf.task_always_eager = False
    try:
        result = ping.apply_async(args=[41], queue=queue)
        assert result.get(timeout=60) == 42
        assert result.successful()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
