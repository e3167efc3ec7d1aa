"""Headless Chromium for the browser tests: Debian's binary, driven by Playwright's sync API.

Never `playwright install`: the browser comes from the system (CHROMIUM_PATH, default
/usr/bin/chromium); the tests are skipped, saying why, when it is missing. Our own fixtures
(not pytest-playwright's `page`/`browser`) so that the executable, flags and phone viewport are
ours.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def _async_unsafe_allowed() -> Iterator[None]:
    """Playwright's sync API keeps an asyncio loop in the test thread; Django would then refuse
    the test's own ORM calls (SynchronousOnlyOperation). Allowed only while a browser test runs,
    so the check still guards every other test."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def chromium(_async_unsafe_allowed):
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"No Chromium at {CHROMIUM_PATH} (set CHROMIUM_PATH to run browser tests).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
            # Database connections opened while Playwright ran live in its context, not the
            # test's: close them here, or PostgreSQL refuses to drop the test database later.
            connections.close_all()


@pytest.fixture
def phone(chromium):
    """A page in a 375 px wide phone viewport, in Chinese like the secretaries' phones."""
    context = chromium.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.set_default_timeout(5_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    """Where the 375 px screenshots go: $SCREENSHOT_DIR to keep them, else a temporary folder."""
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads from the browser go to a temporary folder (the live server shares settings)."""
    settings.MEDIA_ROOT = tmp_path / "media"
