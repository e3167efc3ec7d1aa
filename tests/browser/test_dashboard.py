"""The dashboard on a phone and the big screen in the meeting room, drawn from the real data
endpoints over the small demo set: every chart draws, nothing errs in the console, nothing is
wider than the phone, the big screen never scrolls, and a chart leads to the list behind it."""

from __future__ import annotations

import re
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

DEMO_PASSWORD = "Demo-2026-jiguan"
PHONE_SCREENSHOT = "/tmp/dashboard_375.png"
SECRETARY_SCREENSHOT = "/tmp/dashboard_secretary_375.png"
SCREEN_SCREENSHOT = "/tmp/dashboard_screen_1920.png"
PROBLEMS_CHART = "document.querySelector('[data-chart=problems-units]')"
DRAWN = """() => {
    const charts = Array.from(document.querySelectorAll("[data-chart]"));
    return charts.length > 0 && charts.every(
        c => ["ready", "empty"].includes(c.dataset.state) && c.querySelector("canvas")
    );
}"""


@pytest.fixture
def demo(transactional_db, activity_types):
    """The small demo set (its accounts: admin, secretary1, inspector1...)."""
    call_command("seed_demo", scale="small", activity_months=3, stdout=StringIO())


@pytest.fixture
def one_request_at_a_time(live_server):
    """The dashboard asks for its panels all at once. The test database is SQLite in memory,
    whose one connection the live server's threads share (Django's test setup; each worker
    has its own connection in production): concurrent queries on it can hang. The server still
    takes the requests in parallel; only the application answers them one after the other."""
    server = live_server.thread.httpd
    application = server.get_app()
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            return application(environ, start_response)

    server.set_app(serialized)
    yield
    server.set_app(application)


def watch_errors(page) -> list[str]:
    """Console errors and uncaught exceptions (the browser's own favicon request aside)."""
    errors: list[str] = []

    def on_console(message):
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} at {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/portal/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#id_password")).to_have_count(0)


def open_drawn(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(DRAWN, timeout=20_000)
    page.wait_for_function("document.querySelector('[data-dashboard]').dataset.loaded")


def states(page) -> dict[str, str]:
    return page.evaluate(
        """Object.fromEntries(Array.from(document.querySelectorAll("[data-chart]"))
            .map(c => [c.dataset.chart, c.dataset.state]))"""
    )


@pytest.mark.browser
def test_the_dashboard_on_a_phone_for_staff_and_a_secretary(
    demo, live_server, one_request_at_a_time, phone, screenshot_dir
):
    page = phone
    base = live_server.url
    errors = watch_errors(page)

    # Staff: the city's charts, one column, each one drawn from its endpoint.
    log_in(page, base, "admin")
    open_drawn(page, f"{base}/portal/dashboard/")
    drawn = states(page)
    assert "branch-attendance" not in drawn
    for chart in (
        "compliance-months",
        "owed-types",
        "members-ages",
        "members-education",
        "pairings-schemes",
        "pairings-help",
        "campaigns-targets",
        "problems-units",
    ):
        assert drawn[chart] == "ready", (chart, drawn)
    expect(page.locator("[data-scope-label]")).to_have_text("全市")
    expect(page.locator('[data-figures="members"] .figure').first).to_contain_text("党员")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    widths = page.evaluate(
        """Array.from(document.querySelectorAll('[data-chart]'))
            .map(c => c.getBoundingClientRect().right)"""
    )
    assert max(widths) <= 375
    page.screenshot(path=screenshot_dir / "dashboard-375.png", full_page=True)
    page.screenshot(path=PHONE_SCREENSHOT, full_page=True)
    assert errors == []

    # A bar of the age chart leads to the member list.
    chart = page.locator('[data-chart="members-ages"]')
    chart.scroll_into_view_if_needed()
    x, y = page.evaluate(
        """() => {
            const node = document.querySelector('[data-chart="members-ages"]');
            const chart = echarts.getInstanceByDom(node);
            const values = chart.getOption().series[0].data.map(d => d.value);
            const index = values.indexOf(Math.max(...values));
            const [x, top] = chart.convertToPixel({seriesIndex: 0}, [index, values[index]]);
            const [, bottom] = chart.convertToPixel({seriesIndex: 0}, [index, 0]);
            return [x, (top + bottom) / 2];
        }"""
    )
    chart.click(position={"x": x, "y": y})
    page.wait_for_url(re.compile(r"/portal/members/"))
    expect(page.locator("h1")).to_be_visible()

    # The same figures as a table: its links lead to the lists too.
    open_drawn(page, f"{base}/portal/dashboard/")
    box = page.locator('[data-chart-box="members-education"]')
    box.locator("summary").click()
    link = box.locator("[data-table] a").first
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(re.compile(r"/portal/members/\?education="))
    assert errors == []

    # A secretary: their branch first, with the attendance of each member.
    page.goto(f"{base}/portal/login/")
    page.context.clear_cookies()
    log_in(page, base, "secretary1")
    open_drawn(page, f"{base}/portal/dashboard/")
    assert states(page)["branch-attendance"] == "ready"
    branch = page.locator('[data-panel="branch"]')
    expect(branch).to_have_attribute("data-state", "ready")
    expect(branch.locator('[data-figures="branch"] .figure')).to_have_count(4)
    expect(page.locator("[data-scope-label]")).to_have_text("统计局机关第一党支部")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=screenshot_dir / "dashboard-secretary-375.png", full_page=True)
    page.screenshot(path=SECRETARY_SCREENSHOT, full_page=True)
    assert errors == []


@pytest.mark.browser
def test_the_big_screen_fits_1920_by_1080_and_fetches_again(
    demo, live_server, one_request_at_a_time, chromium, screenshot_dir
):
    context = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = watch_errors(page)
    try:
        base = live_server.url
        log_in(page, base, "admin")
        page.clock.install()
        fetched: list[str] = []
        page.on(
            "request",
            lambda r: fetched.append(r.url) if "/api/dashboard/" in r.url else None,
        )
        open_drawn(page, f"{base}/portal/dashboard/screen/")
        assert set(states(page).values()) <= {"ready", "empty"}
        assert page.locator(".site-nav").count() == 0
        sizes = page.evaluate(
            """[document.documentElement.scrollHeight, document.documentElement.scrollWidth,
                innerHeight, innerWidth]"""
        )
        assert sizes[0] <= sizes[2] and sizes[1] <= sizes[3], sizes
        expect(page.locator("[data-clock]")).not_to_be_empty()
        expect(page.locator("[data-fullscreen]")).to_be_visible()
        page.screenshot(path=screenshot_dir / "dashboard-screen-1920.png")
        page.screenshot(path=SCREEN_SCREENSHOT)

        # Five minutes on, every panel is fetched again and drawn in the same charts.
        first = len(fetched)
        assert first == 8
        page.evaluate(f"window.__chart = echarts.getInstanceByDom({PROBLEMS_CHART})")
        loaded = page.evaluate("document.querySelector('[data-dashboard]').dataset.loaded")
        page.clock.run_for("05:01")
        page.wait_for_function(
            f"document.querySelector('[data-dashboard]').dataset.loaded !== '{loaded}'"
        )
        assert len(fetched) == 2 * first
        assert page.evaluate(f"window.__chart === echarts.getInstanceByDom({PROBLEMS_CHART})")
        assert set(states(page).values()) <= {"ready", "empty"}
        assert errors == []
    finally:
        context.close()
