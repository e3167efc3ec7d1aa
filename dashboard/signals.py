"""Building a bulletin clears the dashboard's cached answers (connected in `apps.ready`, so
the reports app does not need to know the dashboard exists)."""

from __future__ import annotations

from django.db import transaction

from . import cache


def bulletin_changed(sender, instance, **kwargs) -> None:
    # After the commit: a rolled-back build leaves the figures as they were, and no request
    # can cache the old figures again between the bump and the commit.
    transaction.on_commit(cache.clear)
