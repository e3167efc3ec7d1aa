"""The city's answers, cached: every staff member and city-wide inspector asks the same
figures, and the big screen asks them every five minutes.

Keyed by panel, language, day and a version number; building a bulletin bumps the version
(`dashboard.signals`), so the next answer is recomputed. The version starts from the clock (in
nanoseconds), never from a fixed number: when the cache evicts it, the next one is new, and
the answers kept under an earlier version (from before a bulletin) are not read again.
Scoped answers (a unit, a subtree) are not cached: they are cheap, and many.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from accounts import access

if TYPE_CHECKING:
    from accounts.models import User

VERSION_KEY = "dashboard:version"


def version() -> int:
    found = cache.get(VERSION_KEY)
    if found is None:
        fresh = time.time_ns()
        cache.add(VERSION_KEY, fresh, timeout=None)
        found = cache.get(VERSION_KEY, fresh)
    return found


def clear() -> None:
    """Forget every cached answer (a new version: the old keys expire by themselves)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not there yet (or evicted): a number never used before
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def key(panel: str, today: datetime.date, *extra: object) -> str:
    parts = [str(version()), panel, translation.get_language() or "", today.isoformat()]
    return ":".join(["dashboard", *parts, *(str(e) for e in extra)])


def answer(
    user: User | None,
    panel: str,
    today: datetime.date,
    build: Callable[[], dict],
    *extra: object,
) -> dict:
    """`build()`, from the cache for the whole city."""
    if not access.sees_whole_city(user) or settings.DASHBOARD_CACHE_SECONDS <= 0:
        return build()
    name = key(panel, today, *extra)
    found = cache.get(name)
    if found is None:
        found = build()
        cache.set(name, found, timeout=settings.DASHBOARD_CACHE_SECONDS)
    return found
