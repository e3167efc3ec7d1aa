"""A problem's rectification from a phone: the responsible secretary opens the problem from the
menu, answers it with the measures taken and a photo, and then the inspector of the group that
found it accepts it; nothing on the way is wider than the 375 px screen."""

from __future__ import annotations

import datetime
import re
import struct
import zlib

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Notice
from campaigns import services
from campaigns.models import (
    Campaign,
    CampaignKind,
    InspectionGroup,
    Problem,
    ProblemState,
)
from campaigns.services import ProblemInput
from tests.conftest import PASSWORD

ANSWER_SCREENSHOT = "/tmp/problem_answer_375.png"
ACCEPT_SCREENSHOT = "/tmp/problem_accept_375.png"


def _png(width: int = 48, height: int = 32) -> bytes:
    """A real (solid red) PNG, so that the thumbnail on the problem's page shows."""

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


def log_in(page, base: str, user) -> None:
    page.goto(f"{base}/portal/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/portal/"))
    page.wait_for_load_state()


@pytest.mark.browser
def test_a_secretary_answers_a_problem_and_the_group_accepts_it_from_a_phone(
    live_server, phone, screenshot_dir, tree, secretary_a, inspector_a
):
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="2026年基层党建专项检查",
        kind=CampaignKind.INSPECTION,
        starts_on=today - datetime.timedelta(days=60),
        ends_on=today + datetime.timedelta(days=60),
    )
    group = InspectionGroup.objects.create(campaign=campaign, name="第一督导组")
    group.members.add(inspector_a)
    group.units.add(tree.unit_a)
    problem = services.record_problem(
        inspector_a,
        ProblemInput(
            organization=tree.branch_a,
            group=group,
            category="组织生活",
            description="“三会一课”记录不全，2026年第一季度支委会记录缺失",
            severity="serious",
            found_on=today - datetime.timedelta(days=5),
            deadline=today + datetime.timedelta(days=25),
            evidence="抽查支部会议记录本",
        ),
    )
    page = phone
    base = live_server.url

    # The secretary: from the menu to the problem, answered with a photo.
    log_in(page, base, secretary_a)
    page.locator(".site-nav a", has_text="督导整改").click()
    page.wait_for_url(re.compile(r"/portal/campaigns/problems/$"))
    expect(page.locator(f'tr[data-problem="{problem.pk}"]')).to_contain_text("未解决")
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "problems-375.png", full_page=True)
    page.locator(f'tr[data-problem="{problem.pk}"] a').click()
    page.wait_for_url(re.compile(rf"/problems/{problem.pk}/$"))
    expect(page.locator("h1")).to_have_text("组织生活")
    expect(page.locator("[data-accept-form]")).to_have_count(0)
    page.fill("#id_measures", "补齐第一季度支委会记录，书记每月检查记录本")
    page.fill("#id_evidence", "补记的会议记录照片")
    page.set_input_files(
        "#id_photo_files", files=[{"name": "记录本.png", "mimeType": "image/png", "buffer": _png()}]
    )
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "problem-answer-form-375.png", full_page=True)
    page.locator("[data-submit-answer]").click()

    page.wait_for_url(re.compile(rf"/problems/{problem.pk}/$"))
    expect(page.locator(".message--success")).to_contain_text("已提交督导组验收")
    expect(page.locator(".problem-state [data-state]")).to_have_text("待验收")
    answer = page.locator("[data-answer]")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("补齐第一季度支委会记录")
    thumbnail = answer.locator(".thumbs img")
    expect(thumbnail).to_be_visible()
    width = thumbnail.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth));
            img.addEventListener("error", () => done(0));
        })"""
    )
    assert width == 48  # served through the scoped view
    expect(page.locator("[data-answer-form]")).to_have_count(0)
    no_sideways_scroll(page)
    page.screenshot(path=ANSWER_SCREENSHOT, full_page=True)

    page.locator(".who__logout button").click()
    page.wait_for_url(re.compile(r"/portal/login/"))

    # The inspector of the group: accepts it with a note.
    log_in(page, base, inspector_a)
    page.locator(".site-nav a", has_text="督导整改").click()
    page.wait_for_url(re.compile(r"/portal/campaigns/problems/$"))
    expect(page.locator(f'tr[data-problem="{problem.pk}"]')).to_contain_text("待验收")
    page.locator(f'tr[data-problem="{problem.pk}"] a').click()
    page.wait_for_url(re.compile(rf"/problems/{problem.pk}/$"))
    expect(page.locator("[data-answer-form]")).to_have_count(0)
    expect(page.locator("[data-answer] .thumbs img")).to_be_visible()
    page.fill("#id_note", "记录已补齐，整改到位")
    no_sideways_scroll(page)
    page.locator("[data-accept]").click()

    page.wait_for_url(re.compile(rf"/problems/{problem.pk}/$"))
    expect(page.locator(".message--success")).to_contain_text("验收通过")
    expect(page.locator(".problem-state [data-state]")).to_have_text("已验收")
    expect(page.locator("[data-accept-form]")).to_have_count(0)
    expect(page.locator('#history [data-event="accepted"]')).to_contain_text("记录已补齐，整改到位")
    no_sideways_scroll(page)
    page.screenshot(path=ACCEPT_SCREENSHOT, full_page=True)

    problem.refresh_from_db()
    assert problem.state == ProblemState.ACCEPTED
    answer_row = problem.answers.get()
    assert answer_row.submitted_by == secretary_a
    assert answer_row.photos.get().original_name == "记录本.png"
    assert Problem.objects.count() == 1


@pytest.mark.browser
def test_a_secretary_files_participation_and_counts_a_theme_day_from_a_phone(
    live_server, phone, screenshot_dir, tree, secretary_a, activity_types
):
    from decimal import Decimal

    from campaigns.models import CampaignActivity, Participation, Target
    from tests.conftest import add_record

    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="献爱心、送温暖主题党日",
        kind=CampaignKind.THEME_DAY,
        starts_on=today - datetime.timedelta(days=60),
        ends_on=today + datetime.timedelta(days=60),
        topic="献爱心",
        theme_month=today,
        owner="市直机关工委",
    )
    Target.objects.create(
        campaign=campaign,
        indicator="千人纪念活动",
        unit_of_measure="人",
        goal=1000,
        manual_progress=Decimal("350"),
    )
    record = add_record(tree.branch_a, activity_types["theme_day"], today, topic="献爱心主题党日")
    Notice.objects.create(user=secretary_a, kind="problem_overdue", key="1", text="整改逾期")
    page = phone
    log_in(page, live_server.url, secretary_a)
    # The menu's notices link says how many are unread (asked for after the page loaded).
    expect(page.locator(".site-nav [data-unread-count]")).to_have_text("1")
    page.goto(f"{live_server.url}/portal/campaigns/{campaign.pk}/")
    expect(page.locator("[data-progress]")).to_have_text("350 / 1000 人, 35%")
    page.locator(f'[data-record="{record.pk}"] [data-tag]').click()
    page.wait_for_url(re.compile(rf"/campaigns/{campaign.pk}/#theme-day$"))
    expect(page.locator(f'[data-record="{record.pk}"] [data-counted]')).to_be_visible()
    no_sideways_scroll(page)

    page.locator("[data-file-participation]").click()
    page.wait_for_url(re.compile(r"/participation/$"))
    expect(page.locator("[data-goods-line]")).to_have_count(3)
    page.fill("#id_members", "12")
    page.fill("#id_money", "1234.56")
    page.fill("#id_goods-0-item", "棉被")
    page.fill("#id_goods-0-quantity", "20")
    page.fill("#id_goods-0-unit_of_measure", "床")
    page.fill("#id_goods-0-value", "3000")
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "participation-form-375.png", full_page=True)
    page.locator("button.button--wide[type=submit]").click()
    page.wait_for_url(re.compile(rf"/campaigns/{campaign.pk}/#participation$"))
    expect(page.locator("[data-total-money]")).to_have_text("1234.56")
    expect(page.locator("[data-total-organizations]")).to_have_text("1")  # filed and tagged
    no_sideways_scroll(page)
    page.screenshot(path=screenshot_dir / "campaign-375.png", full_page=True)
    assert Participation.objects.get().money == Decimal("1234.56")
    assert CampaignActivity.objects.get().record == record
