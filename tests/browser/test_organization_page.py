"""The "my organization" page of a branch of 50 members on a 375 px phone: the roster is one
line per member, the first 20 shown, the rest a tap away, so the page stays short."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, make_member

# Before the compact roster (a 7-line card per member) this page was 16,432 px tall.
MAX_HEIGHT = 3_000


def log_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/portal/organizations/**")


@pytest.mark.browser
def test_the_page_of_a_branch_of_fifty_stays_short_on_a_phone(
    live_server, phone, screenshot_dir, activity_types, tree, secretary_a
):
    for i in range(47):  # and the 3 of the standing cast
        make_member(
            tree.branch_a,
            f"X{i:04d}",
            f"成员{i:02d}",
            position="科员",
            group=tree.group_a if i % 2 else None,
            birth_date=datetime.date(1995 if i % 5 == 0 else 1980, 3, 1),
        )
    page = phone
    log_in(page, live_server, secretary_a)
    page.goto(f"{live_server.url}/portal/organizations/{tree.branch_a.pk}/")

    height = page.evaluate("document.documentElement.scrollHeight")
    page.screenshot(path=screenshot_dir / "organization-50-members-375.png", full_page=True)
    assert height < MAX_HEIGHT, f"the page is {height} px tall"
    members = page.locator("[data-member]")
    expect(members).to_have_count(50)
    expect(page.locator("[data-member]:visible")).to_have_count(20)
    # Nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # One member's details on tap, one line otherwise.
    first = members.first
    line_height = first.bounding_box()["height"]
    assert line_height < 60
    first.locator("summary").click()
    expect(first.locator("dl")).to_be_visible()
    page.screenshot(path=screenshot_dir / "organization-member-open-375.png", full_page=False)

    # The others: a tap away, and the member search filtered by this organization.
    page.locator("[data-roster-more] > summary").click()
    expect(page.locator("[data-member]:visible")).to_have_count(50)
    search = page.locator("[data-member-search]")
    expect(search).to_have_attribute("href", f"/portal/members/?organization={tree.branch_a.pk}")
