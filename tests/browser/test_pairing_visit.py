"""A secretary files a pairing visit from a phone: log in, open the pairing from the list, file
a visit with who went and a photo, and see it on the pairing's page; nothing on the way is
wider than the 375 px screen."""

from __future__ import annotations

import datetime
import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from pairings.defaults import seed_schemes
from pairings.models import (
    HelpRecord,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
    Scheme,
)
from tests.conftest import PASSWORD

SCREENSHOT = "/tmp/pairing_visit_375.png"


def _png(width: int = 48, height: int = 32) -> bytes:
    """A real (solid red) PNG, so that the thumbnail on the pairing's page shows."""

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


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.browser
def test_a_secretary_files_a_pairing_visit_from_a_phone(
    live_server, phone, screenshot_dir, activity_types, tree, secretary_a
):
    seed_schemes(Scheme)
    partner = PartnerOrganization.objects.create(
        name="东村党支部",
        kind=PartnerKind.VILLAGE,
        district="江城区",
        town="城关镇",
        contact_name="王书记",
        contact_phone="13800000000",
        situation="班子弱，活动场所老旧，缺少图书",
    )
    pairing = Pairing.objects.create(
        scheme=Scheme.objects.get(code="one_plus_one"),
        organization=tree.branch_a,
        partner=partner,
        started_on=datetime.date(2025, 1, 1),
        status=PairingStatus.DOCKED,
        docked_on=datetime.date(2025, 1, 10),
    )
    page = phone
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", secretary_a.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/organizations/\d+/$"))

    page.locator(".site-nav a", has_text="结对共建").click()
    page.wait_for_url(re.compile(r"/portal/pairings/$"))
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "pairings-375.png", full_page=True)
    page.locator(f'tr[data-pairing="{pairing.pk}"] a').click()
    page.wait_for_url(re.compile(rf"/portal/pairings/{pairing.pk}/$"))
    expect(page.locator("h1")).to_have_text("东村党支部")
    no_sideways_scroll(page)

    page.locator("[data-file-help]").click()
    page.wait_for_url(re.compile(r"/help/new/$"))
    expect(page.locator("#id_kind_0")).to_be_checked()  # a visit, unless told otherwise
    expect(page.locator("#id_amount")).to_be_hidden()  # funds' and goods' fields step aside
    page.locator("label.seg__label[for=id_kind_2]").click()
    expect(page.locator("#id_item")).to_be_visible()
    page.locator("label.seg__label[for=id_kind_0]").click()
    expect(page.locator("#id_item")).to_be_hidden()
    page.fill("#id_description", "走访困难户，召开共建座谈会")
    page.locator("label.check", has_text="张伟").click()
    page.locator("label.check", has_text="王芳").click()
    page.fill("#id_others", "村第一书记")
    page.set_input_files(
        "#id_photo_files", files=[{"name": "走访.png", "mimeType": "image/png", "buffer": _png()}]
    )
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "help-form-375.png", full_page=True)
    page.locator("button.button--wide[type=submit]").click()

    page.wait_for_url(re.compile(rf"/portal/pairings/{pairing.pk}/#help$"))
    expect(page.locator(".message--success")).to_contain_text("已记录")
    item = page.locator("[data-help]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("走访困难户，召开共建座谈会")
    expect(item).to_contain_text("张伟")
    expect(page.locator("[data-visits]")).to_have_text("1")
    thumbnail = item.locator(".thumbs img")
    expect(thumbnail).to_be_visible()
    width = thumbnail.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth));
            img.addEventListener("error", () => done(0));
        })"""
    )
    assert width == 48  # served through the scoped view
    no_sideways_scroll(page)
    page.screenshot(path=SCREENSHOT, full_page=True)

    record = HelpRecord.objects.get()
    assert (record.pairing_id, record.filed_by) == (pairing.pk, secretary_a)
    assert set(record.participants.values_list("name", flat=True)) == {"张伟", "王芳"}
    assert record.photos.get().original_name == "走访.png"

    page.goto(f"{live_server.url}/portal/pairings/progress/")
    expect(page.locator("[data-docking]")).to_contain_text("1 / 1, 100.0%")
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "pairing-progress-375.png", full_page=True)
