"""`manage.py clear_pending_uploads [--hours N]`: delete the files kept from filing forms that
came back with errors and were then abandoned (`branches.services.clear_pending_uploads`).

Files are kept ACTIVITY_PENDING_UPLOAD_HOURS (24 by default) for the user to fix the form; each
submission of the form also clears the expired ones, so this is for quiet days: run it daily
(cron, or a django-celery-beat task calling the command).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from branches.services import clear_pending_uploads


class Command(BaseCommand):
    help = "Delete the files of abandoned filing forms, kept for their user for a day."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=settings.ACTIVITY_PENDING_UPLOAD_HOURS,
            help="Delete those older than this many hours (default ACTIVITY_PENDING_UPLOAD_HOURS).",
        )

    def handle(self, *args, hours: int, **options) -> None:
        deleted = clear_pending_uploads(datetime.timedelta(hours=hours))
        self.stdout.write(f"{deleted} pending upload(s) deleted.")
