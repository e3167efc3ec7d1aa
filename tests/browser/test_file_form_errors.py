"""A secretary's photos survive a form with errors: files over the limit or that are no photo
are refused in the browser before anything is sent, every error comes back in one round, and
the photo already received is offered as attached, then saved with the record."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branches.models import ActivityRecord, PendingUpload
from tests.browser.test_file_activity import _png
from tests.conftest import PASSWORD


@pytest.mark.browser
def test_photos_are_checked_before_sending_and_kept_after_an_error(
    live_server, phone, screenshot_dir, activity_types, tree, secretary_a, settings
):
    settings.ACTIVITY_ATTACHMENT_MAX_MB = 1  # the live server reads the same settings
    page = phone
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", secretary_a.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/organizations/\d+/$"))

    # The group's only type is chosen already.
    page.goto(f"{live_server.url}/portal/organizations/{tree.group_a.pk}/activities/new/")
    expect(page.locator("#id_activity_type option:checked")).to_have_text("党小组会")

    page.goto(f"{live_server.url}/portal/organizations/{tree.branch_a.pk}/activities/new/")
    expect(page.locator("#attachment-limits")).to_contain_text("1 MB")
    page.select_option("#id_activity_type", label="主题党日")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page.fill("#id_date", tomorrow.isoformat())
    big = _png() + b"\x00" * (1024 * 1024)
    page.set_input_files(
        "#id_files",
        files=[
            {"name": "合影.png", "mimeType": "image/png", "buffer": _png()},
            {"name": "大图.png", "mimeType": "image/png", "buffer": big},
            {"name": "假照片.jpg", "mimeType": "image/jpeg", "buffer": b"MZ not a photo at all"},
        ],
    )
    refused = page.locator("[data-file-errors]")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("大图.png")
    expect(refused).to_contain_text("假照片.jpg")
    kept_names = page.eval_on_selector(
        "#id_files", "input => Array.from(input.files).map(f => f.name)"
    )
    assert kept_names == ["合影.png"]
    page.screenshot(path=screenshot_dir / "file-refused-375.png", full_page=True)

    page.locator("button.button--wide[type=submit]").click()  # no topic, a future date

    # Every error at once, and the photo kept.
    expect(page.locator("#error_date")).to_be_visible()
    expect(page.locator("#error_topic")).to_be_visible()
    kept = page.locator("[data-kept-files]")
    expect(kept).to_contain_text("合影.png")
    assert PendingUpload.objects.get().user == secretary_a
    # The refused files were never sent: the server, which checks too, names neither.
    expect(page.locator("#error_attachments")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "file-errors-kept-375.png", full_page=True)

    page.fill("#id_date", timezone.localdate().isoformat())
    page.fill("#id_topic", "学习党章")
    page.locator("button.button--wide[type=submit]").click()
    page.wait_for_url(re.compile(rf"/organizations/{tree.branch_a.pk}/activities/$"))
    record = ActivityRecord.objects.get()
    assert list(record.attachments.values_list("original_name", flat=True)) == ["合影.png"]
    assert not PendingUpload.objects.exists()
