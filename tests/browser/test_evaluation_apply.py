"""A secretary applies to an evaluation program from a phone: log in, open 评选表彰, apply for
their branch, score each criterion with what shows it, attach a photo, submit, and see the
submitted application read-only; nothing on the way is wider than the 375 px screen."""

from __future__ import annotations

import datetime
import re
import struct
import zlib

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from evaluations.defaults import seed_program
from evaluations.models import (
    Application,
    ApplicationStatus,
    Criterion,
    Program,
    ProgramKind,
    Stage,
)
from tests.conftest import PASSWORD

SCREENSHOT = "/tmp/evaluation_apply_375.png"


def _png(width: int = 48, height: int = 32) -> bytes:
    """A real (solid red) PNG, so that the thumbnail on the application's page shows."""

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
def test_a_secretary_applies_with_a_self_assessment_from_a_phone(
    live_server, phone, screenshot_dir, activity_types, tree, secretary_a
):
    today = timezone.localdate()
    program = Program.objects.create(
        name=f"{today.year}年度市级机关基层党建工作示范点",
        kind=ProgramKind.DEMONSTRATION_SITE,
        year=today.year,
        opens_on=today - datetime.timedelta(days=7),
        closes_on=today + datetime.timedelta(days=30),
        title="市级机关基层党建工作示范点",
    )
    seed_program(program, Criterion, Stage)
    criteria = list(
        Criterion.objects.filter(program=program, organization_kind="branch").order_by(
            "sort_order", "pk"
        )
    )

    page = phone
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", secretary_a.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/organizations/\d+/$"))

    page.locator(".site-nav a", has_text="评选表彰").click()
    page.wait_for_url(re.compile(r"/portal/evaluations/$"))
    card = page.locator(f'[data-program="{program.pk}"]')
    expect(card).to_contain_text("正在申报")
    expect(card).to_contain_text("申报时间")
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "evaluation-programs-375.png", full_page=True)

    card.locator(f'[data-apply="{tree.branch_a.pk}"]').click()
    page.wait_for_url(re.compile(rf"/programs/{program.pk}/apply/{tree.branch_a.pk}/$"))
    expect(page.locator("h1")).to_have_text("申报")
    expect(page.locator("fieldset.criterion")).to_have_count(5)
    page.fill("#id_summary", "三会一课规范，结对共建成效明显，群众满意度高")
    for points, criterion in zip(("18", "17.5", "19", "16", "18"), criteria, strict=True):
        page.fill(f"#id_score_{criterion.pk}", points)
        page.fill(f"#id_evidence_{criterion.pk}", f"{criterion.name}：台账齐全，有据可查")
    page.set_input_files(
        "#id_files", files=[{"name": "活动照片.png", "mimeType": "image/png", "buffer": _png()}]
    )
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "evaluation-form-375.png", full_page=True)
    page.locator("button[data-submit]").click()

    page.wait_for_url(re.compile(r"/portal/evaluations/applications/\d+/$"))
    expect(page.locator(".message--success")).to_contain_text("已提交")
    expect(page.locator("[data-status]")).to_have_text("已提交")
    expect(page.locator("[data-edit]")).to_have_count(0)  # read-only once submitted
    expect(page.locator("[data-withdraw]")).to_have_count(1)  # may still be withdrawn
    expect(page.locator("[data-criterion]")).to_have_count(5)
    expect(page.locator("[data-criterion]").first).to_contain_text("18 / 20")
    thumbnail = page.locator("#files .thumbs img")
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

    application = Application.objects.get()
    assert (application.organization_id, application.status) == (
        tree.branch_a.pk,
        ApplicationStatus.SUBMITTED,
    )
    assert sorted(str(a.score) for a in application.self_assessments.all()) == [
        "16.00",
        "17.50",
        "18.00",
        "18.00",
        "19.00",
    ]
    assert application.attachments.get().original_name == "活动照片.png"

    page.goto(f"{live_server.url}/portal/evaluations/honours/")
    expect(page.locator("h1")).to_have_text("荣誉榜")
    no_sideways_scroll(page)


@pytest.mark.browser
def test_a_reviewer_scores_beside_the_evidence_from_a_phone(
    live_server, phone, screenshot_dir, activity_types, tree, secretary_a, staff, inspector_a
):
    from decimal import Decimal

    from evaluations import services

    today = timezone.localdate()
    program = Program.objects.create(
        name=f"{today.year}年度五星党支部",
        kind=ProgramKind.FIVE_STAR,
        year=today.year,
        opens_on=today - datetime.timedelta(days=7),
        closes_on=today + datetime.timedelta(days=30),
        title="五星达标党支部",
    )
    seed_program(program, Criterion, Stage)
    program.reviewers.add(inspector_a)
    criteria = list(
        Criterion.objects.filter(program=program, organization_kind="branch").order_by(
            "sort_order", "pk"
        )
    )
    application = services.save_application(
        secretary_a,
        services.ApplicationInput(
            program=program,
            organization=tree.branch_a,
            summary="三会一课规范",
            assessments=[
                services.AssessmentInput(c.pk, Decimal("18"), "台账齐全") for c in criteria
            ],
        ),
    )
    application = services.submit_application(secretary_a, application)
    application = services.start_review(staff, application)
    services.submit_sheet(
        staff, application, [services.ScoreInput(c.pk, Decimal("19"), "很好") for c in criteria]
    )

    page = phone
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("#id_username", inspector_a.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/portal/evaluations/reviews/")
    row = page.locator(f'tr[data-application="{application.pk}"]')
    expect(row).to_contain_text("待评分")
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "evaluation-reviews-375.png", full_page=True)
    row.locator("a").click()
    page.wait_for_url(re.compile(rf"/applications/{application.pk}/$"))
    expect(page.locator('[data-evidence="no_open_problems"]')).to_contain_text(
        "待整改问题功能上线后显示"
    )
    expect(page.locator("[data-sheets-hidden]")).to_be_visible()
    expect(page.locator("[data-sheet]")).to_have_count(0)  # the staff's sheet stays hidden
    for criterion in criteria:
        page.fill(f"#id_score_{criterion.pk}", "17")
    page.fill(f"#id_score_{criteria[0].pk}", "25")
    no_sideways_scroll(page)
    page.locator("[data-score-submit]").click()
    expect(page.locator("#score-errors")).to_contain_text("评分未保存")
    expect(page.locator(f"#error_score_{criteria[0].pk}")).to_contain_text("0 至 20")
    page.fill(f"#id_score_{criteria[0].pk}", "17")
    page.screenshot(path=screenshot_dir / "evaluation-score-375.png", full_page=True)
    page.locator("[data-score-submit]").click()
    page.wait_for_url(re.compile(r"#sheets$"))
    expect(page.locator(".message--success")).to_contain_text("85")
    expect(page.locator("[data-sheet]")).to_have_count(2)
    no_sideways_scroll(page)
    page.screenshot(path="/tmp/evaluation_review_375.png", full_page=True)
