import os
import tempfile

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("jiguan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="jiguan.ping")
def ping(value: int = 1) -> int:
    """Round-trip check for the broker and a worker: returns value + 1."""
    return value + 1


@worker_process_init.connect
def _own_temporary_folder(**kwargs) -> None:
    """A worker's temporary files (openpyxl's sheets while a ledger is written) go to a folder
    of the project's, where the sweep removes what a killed worker left behind."""
    from django.conf import settings

    os.makedirs(settings.WORK_TMP_DIR, exist_ok=True)
    tempfile.tempdir = str(settings.WORK_TMP_DIR)
