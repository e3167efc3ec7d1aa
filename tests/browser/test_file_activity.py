"""A secretary files a theme day from a phone: log in, open the form from the owed card, pick
the type, mark one member excused, submit; the list shows 2/3 present and the month's card no
longer owes a theme day."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from branches.models import ActivityRecord
from tests.conftest import PASSWORD


def _png(width: int = 48, height: int = 32) -> bytes:
    """A real (solid red) PNG, so that the thumbnail on the record's page shows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xb3\x26\x1e" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.browser
def test_a_secretary_files_a_theme_day_from_a_phone(
    live_server, phone, screenshot_dir, activity_types, tree, secretary_a
):
    page = phone
    a2 = tree.members["a2"]
    organization_url = f"{live_server.url}/portal/organizations/{tree.branch_a.pk}/"

    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", secretary_a.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(organization_url)

    month = page.locator('[data-owed] [data-period="month"]')
    expect(month.locator('[data-owed-type="主题党日"]')).to_be_visible()
    page.screenshot(path=screenshot_dir / "organization-375.png", full_page=True)
    page.screenshot(path=screenshot_dir / "organization-375-top.png")  # what a phone shows first
    page.locator("[data-owed]").screenshot(path=screenshot_dir / "owed-card-375.png")

    page.locator("[data-file-record]").click()
    page.wait_for_url(re.compile(r"/activities/new/$"))
    # JavaScript follows the type: a committee meeting lists only the committee (张伟).
    page.select_option("#id_activity_type", label="支部委员会")
    expect(page.locator("[data-attendee]:visible")).to_have_count(1)
    page.select_option("#id_activity_type", label="主题党日")
    expect(page.locator("[data-attendee]:visible")).to_have_count(3)
    expect(page.locator("[data-refresh]")).to_be_hidden()

    page.fill("#id_topic", "学习党章")
    page.fill("#id_place", "三楼会议室")
    page.locator(f'label[for="attendance-{a2.pk}-excused"]').click()
    page.set_input_files(
        "#id_files", files=[{"name": "合影.png", "mimeType": "image/png", "buffer": _png()}]
    )
    expect(page.locator(f"#attendance-{a2.pk}-excused")).to_be_checked()
    page.screenshot(path=screenshot_dir / "file-activity-375.png", full_page=True)
    page.locator("button.button--wide[type=submit]").click()

    page.wait_for_url(re.compile(rf"/organizations/{tree.branch_a.pk}/activities/$"))
    expect(page.locator(".message--success")).to_contain_text("主题党日")
    row = page.locator("tr[data-record]")
    expect(row).to_have_count(1)
    expect(row.locator("[data-attendance]")).to_have_text("2/3")
    page.screenshot(path=screenshot_dir / "activity-list-375.png", full_page=True)
    row.locator("a").first.click()
    thumbnail = page.locator(".thumbs img")
    expect(thumbnail).to_be_visible()
    # Served through the scoped view; wait for the image itself, not only its tag.
    width = thumbnail.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth));
            img.addEventListener("error", () => done(0));
        })"""
    )
    assert width == 48
    page.screenshot(path=screenshot_dir / "activity-detail-375.png", full_page=True)

    page.goto(organization_url)
    expect(month).to_be_visible()
    expect(month.locator('[data-owed-type="主题党日"]')).to_have_count(0)
    expect(month).not_to_contain_text("主题党日")
    page.locator("[data-owed]").screenshot(path=screenshot_dir / "owed-card-after-375.png")

    record = ActivityRecord.objects.get()
    assert (record.present_count, record.excused_count, record.filed_by) == (2, 1, secretary_a)
    assert record.attachments.get().original_name == "合影.png"
