"""Reminders' rows for the admin walks (tests/test_admin_pages.py OBJECTS,
tests/test_admin_queries.py ROWS)."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import Role, User
from reminders.models import Channel, Delivery, Kind, Reminder, Status, Webhook


def _secretary(cast) -> User:
    user = getattr(cast, "secretary_a", None) or cast.users["secretary_a"]
    if not user.email:
        User.objects.filter(pk=user.pk).update(email="sec_a@example.invalid")
    return user


def a_reminder(cast, period: str = "2026-11") -> Reminder:
    return Reminder.objects.create(
        organization=cast.tree.branch_a,
        kind=Kind.OWED,
        period=period,
        text="统计局第一党支部本月（2026年11月）尚欠：主题党日×1",
        url="/portal/",
    )


def a_webhook(cast) -> Webhook:
    return Webhook.objects.create(
        name="统计局钉钉群",
        unit=cast.tree.unit_a,
        kind="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=t",
        secret="SECsecret",
    )


def a_delivery(cast) -> Delivery:
    return Delivery.objects.create(
        reminder=a_reminder(cast, "2026-10"),
        channel=Channel.EMAIL,
        recipient=_secretary(cast),
        status=Status.FAILED,
        attempts=4,
        last_error="SMTPServerDisconnected",
    )


def reminder_rows(cast, numbers: range) -> None:
    Reminder.objects.bulk_create(
        Reminder(
            organization=cast.tree.branch_a,
            kind=Kind.PROBLEM_OVERDUE,
            period=f"9{i}",
            text=f"整改已于2026-01-01到期：问题{i}",
        )
        for i in numbers
    )


def _robots(numbers: range, unit) -> list[Webhook]:
    return Webhook.objects.bulk_create(
        Webhook(name=f"群{i}", unit=unit, kind="wecom", url=f"https://qyapi.example/{i}")
        for i in numbers
    )


def webhook_rows(cast, numbers: range) -> None:
    _robots(numbers, cast.tree.unit_a)


def deliveries_of(cast, reminder: Reminder, numbers: range) -> None:
    users = User.objects.bulk_create(
        User(
            username=f"recipient{reminder.pk}_{i}",
            role=Role.SECRETARY,
            organization=cast.tree.branch_a,
            email=f"r{i}@example.invalid",
            password="!",
        )
        for i in numbers
    )
    robots = _robots(numbers, cast.tree.unit_a)
    now = timezone.now()
    Delivery.objects.bulk_create(
        [
            Delivery(reminder=reminder, channel=Channel.EMAIL, recipient=u, next_attempt_at=now)
            for u in users
        ]
        + [
            Delivery(
                reminder=reminder,
                channel=Channel.WECOM,
                webhook=w,
                status=Status.FAILED,
                attempts=4,
                last_error="errcode 93000",
            )
            for w in robots
        ]
    )


def delivery_rows(cast, numbers: range) -> None:
    reminder = Reminder.objects.create(
        organization=cast.tree.branch_a,
        kind=Kind.OWED,
        period=f"rows{numbers.start}",
        text="尚欠",
    )
    deliveries_of(cast, reminder, numbers)
