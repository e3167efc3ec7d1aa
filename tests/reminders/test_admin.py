"""The reminders' admin: committee staff only; failed deliveries counted and retried."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reminders.models import Delivery, Status
from tests.reminders import objects


@pytest.fixture
def cast(tree, secretary_a):
    class Cast:
        pass

    made = Cast()
    made.tree, made.secretary_a = tree, secretary_a
    return made


PAGES = [
    "admin:reminders_webhook_changelist",
    "admin:reminders_webhook_add",
    "admin:reminders_reminder_changelist",
    "admin:reminders_delivery_changelist",
]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize(
    "role, status",
    [
        ("staff", 200),
        ("secretary_a", 302),
        ("inspector_a", 302),
        ("inspector_city", 302),
        ("anonymous", 302),
    ],
)
def test_only_committee_staff_open_the_reminders_admin(client_for, client, name, role, status):
    who = client if role == "anonymous" else client_for(role)
    response = who.get(reverse(name))
    assert response.status_code == status
    if status == 302:
        assert "/login/" in response["Location"]


def test_the_secret_is_never_listed_and_the_failed_are_counted(client_for, cast):
    robot = objects.a_webhook(cast)
    failed = objects.a_delivery(cast)
    staff = client_for("staff")
    html = staff.get(reverse("admin:reminders_webhook_changelist")).content.decode()
    assert robot.name in html and robot.secret not in html
    html = staff.get(reverse("admin:reminders_delivery_changelist")).content.decode()
    assert "1条投递已最终失败，点此查看。" in html
    assert "?status__exact=failed" in html
    listed = staff.get(reverse("admin:reminders_delivery_changelist") + "?status__exact=failed")
    assert [d.pk for d in listed.context["cl"].result_list] == [failed.pk]


def test_retry_now_makes_the_chosen_deliveries_due(client_for, cast):
    failed = objects.a_delivery(cast)
    response = client_for("staff").post(
        reverse("admin:reminders_delivery_changelist"),
        {"action": "retry", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1条投递将在几分钟内重试。" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Status.PENDING and failed.next_attempt_at is not None


def test_retry_now_is_refused_to_anyone_but_staff(cast, secretary_a):
    from django.core.exceptions import PermissionDenied

    from reminders import services

    failed = objects.a_delivery(cast)
    with pytest.raises(PermissionDenied):
        services.retry_now(secretary_a, [failed.pk])
    assert Delivery.objects.get(pk=failed.pk).status == Status.FAILED
