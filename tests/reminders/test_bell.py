"""The notices bell in the portal menu, and the notices a reminder leaves."""

from __future__ import annotations

import datetime
import re

from django.urls import reverse

from accounts.models import Notice
from campaigns.models import Problem
from reminders import services


def test_the_menu_shows_a_bell_named_for_screen_readers_filled_after_load(client_for):
    html = client_for("secretary_a").get(reverse("portal:problems")).content.decode()
    link = re.search(r'<a href="/portal/[^"]*notices/"[^>]*>.*?</a>', html, re.S)
    assert link, "the notices link"
    bell = link.group(0)
    assert f'data-unread-url="{reverse("portal:notices_unread")}"' in bell
    assert '<svg aria-hidden="true"' in bell
    assert '<span class="visually-hidden">通知</span>' in bell
    assert "data-unread-count" in bell and "hidden" in bell


def test_a_reminder_is_an_unread_notice_marked_read_from_the_list(client_for, tree, secretary_a):
    today = datetime.date(2026, 3, 10)
    Problem.objects.create(
        organization=tree.branch_a,
        category="组织生活",
        description="支部手册填写不全",
        found_on=today - datetime.timedelta(days=20),
        deadline=today + datetime.timedelta(days=3),
    )
    services.build_daily_reminders(today)
    client = client_for("secretary_a")
    assert client.get(reverse("portal:notices_unread")).json() == {"unread": 1}
    page = client.get(reverse("portal:notices")).content.decode()
    assert "notice--unread" in page and "支部手册填写不全" in page
    assert 'name="viewport"' in page
    notice = Notice.objects.get(user=secretary_a)
    assert client.post(reverse("portal:notices_read"), {"notice": notice.pk}).status_code == 302
    assert client.get(reverse("portal:notices_unread")).json() == {"unread": 0}
    assert "notice--unread" not in client.get(reverse("portal:notices")).content.decode()
