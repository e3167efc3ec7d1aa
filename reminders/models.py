"""Reminders (what an organization owes, its election, its titles' re-reviews, its problems)
and their deliveries: the portal's notice always, e-mail and the group robots of WeCom and
DingTalk when configured. See docs/dashboard.md ("Reminders")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    OWED = "owed", _("Still owed this month")
    ELECTION_DUE = "election_due", _("Election falling due")
    ELECTION_OVERDUE = "election_overdue", _("Election overdue")
    RE_REVIEW_DUE = "re_review_due", _("Re-review of a title due")
    PROBLEM_DUE = "problem_due", _("Problem's deadline near")
    PROBLEM_OVERDUE = "problem_overdue", _("Problem's rectification overdue")


class Reminder(models.Model):
    """One per organization, kind and period however many times the beat runs: the unique
    constraint decides, not a check in Python (docs/dashboard.md, the period keys)."""

    organization = models.ForeignKey(
        "branches.Organization",
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("organization"),
    )
    kind = models.CharField(_("kind of reminder"), max_length=20, choices=Kind.choices)
    period = models.CharField(_("period"), max_length=60)
    text = models.CharField(_("reminder"), max_length=500)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "period"], name="reminder_once_per_period"
            ),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="reminder_kind_valid"),
        ]
        indexes = [models.Index(fields=["kind", "period"], name="reminder_kind_period_idx")]

    def __str__(self) -> str:
        return self.text


class WebhookKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")


class Webhook(models.Model):
    """A group robot of a unit or an organization: exactly one of the two."""

    name = models.CharField(_("name"), max_length=100)
    unit = models.ForeignKey(
        "branches.Unit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhooks",
        verbose_name=_("unit"),
    )
    organization = models.ForeignKey(
        "branches.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhooks",
        verbose_name=_("organization"),
    )
    kind = models.CharField(_("kind of robot"), max_length=10, choices=WebhookKind.choices)
    url = models.URLField(_("webhook address"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk's signing secret (加签, starting with SEC); empty for WeCom."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(organization__isnull=True))
                | (Q(unit__isnull=True) & Q(organization__isnull=False)),
                name="webhook_unit_or_organization",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=WebhookKind.values), name="webhook_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One reminder on one channel to one recipient (e-mail) or one group robot: sent once,
    retried with backoff when it fails, then left failed for staff to see."""

    reminder = models.ForeignKey(
        Reminder, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("reminder")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient"),
    )
    webhook = models.ForeignKey(
        Webhook,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("group robot"),
    )
    status = models.CharField(
        _("delivery status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "channel", "recipient"],
                condition=Q(recipient__isnull=False),
                name="delivery_once_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["reminder", "webhook"],
                condition=Q(webhook__isnull=False),
                name="delivery_once_per_webhook",
            ),
            models.CheckConstraint(
                condition=(
                    Q(channel="email", recipient__isnull=False, webhook__isnull=True)
                    | Q(
                        channel__in=["wecom", "dingtalk"],
                        recipient__isnull=True,
                        webhook__isnull=False,
                    )
                ),
                name="delivery_recipient_or_webhook",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="delivery_status_valid"
            ),
        ]
        indexes = [
            # deliver_due: pending rows due now, oldest first.
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reminder} → {self.get_channel_display()}"
