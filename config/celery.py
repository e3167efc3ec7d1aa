import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("jiguan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="jiguan.ping")
def ping(value: int = 1) -> int:
    """Round-trip check for the broker and a worker: returns value + 1."""
    return value + 1
