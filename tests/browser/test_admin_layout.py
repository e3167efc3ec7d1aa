"""The committee staff's admin at 1366 px (a common office screen): member names on one line,
and the organization tree's last column on screen or scrollable, never cut off."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from branches.models import Term
from tests.conftest import PASSWORD, make_member

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def desktop(chromium):
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    context.set_default_timeout(5_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def crowded(tree, staff):
    # Long names and every column filled, as the city's data has them.
    for i in range(12):
        make_member(
            tree.branch_a,
            f"A1{i:03d}",
            "欧阳娜娜" if i % 2 else "司马相如",
            position="市统计局综合统计处副处长（主持工作）",
            duty="committee_member" if i < 3 else "",
        )
    Term.objects.create(organization=tree.branch_a, started_on=datetime.date(2021, 9, 13))
    return staff


def _log_in(page, live_server):
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url("**/admin/")


def test_member_names_stay_on_one_line(live_server, desktop, crowded, screenshot_dir):
    _log_in(desktop, live_server)
    desktop.goto(live_server.url + reverse("admin:branches_member_changelist"))
    desktop.screenshot(path=screenshot_dir / "admin-members-1366.png", full_page=True)
    heights = desktop.eval_on_selector_all(
        "#result_list tbody th.field-name, #result_list tbody td.field-name",
        "cells => cells.map(c => c.getBoundingClientRect().height)",
    )
    assert heights, "the member list shows names"
    line = desktop.eval_on_selector(
        "#result_list tbody tr", "row => parseFloat(getComputedStyle(row).lineHeight) || 20"
    )
    assert max(heights) < 2.5 * line, heights
    # and the last column (position) is on screen too
    right = desktop.eval_on_selector(
        "#result_list thead th:last-child", "th => th.getBoundingClientRect().right"
    )
    assert right <= DESKTOP["width"], right


def test_the_organization_tree_shows_its_last_column(live_server, desktop, crowded, screenshot_dir):
    _log_in(desktop, live_server)
    desktop.goto(live_server.url + reverse("admin:branches_organization_changelist"))
    desktop.screenshot(path=screenshot_dir / "admin-organizations-1366.png", full_page=True)
    last = desktop.eval_on_selector(
        "#result_list thead th:last-child", "th => th.getBoundingClientRect().right"
    )
    container = desktop.eval_on_selector(
        "#changelist .results",
        "el => ({right: el.getBoundingClientRect().right, scroll: el.scrollWidth,"
        " client: el.clientWidth, overflow: getComputedStyle(el).overflowX})",
    )
    # The whole table is visible: its last column ends inside the list, nothing to scroll to.
    assert last <= container["right"] <= DESKTOP["width"], (last, container)
    assert container["scroll"] <= container["client"], container
