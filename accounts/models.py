from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STAFF = "staff", _("Committee staff")
    SECRETARY = "secretary", _("Branch secretary")
    INSPECTOR = "inspector", _("Inspector")


def full_name(first_name: str | None, last_name: str | None) -> str:
    """A person's name in Chinese order, no space: 张伟 (family name first), never "伟 张".

    The one home of the rule: `User.get_full_name()` and every ledger column call it.
    """
    return f"{last_name or ''}{first_name or ''}".strip()


def display_name(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """The full name, or the username when the account has no name."""
    return full_name(first_name, last_name) or (username or "")


class PortalUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.STAFF)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A portal user. What they may see is decided in one place:
    `branches.selectors.visible_organizations(user)`."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SECRETARY)
    organization = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
        help_text=_("For a branch secretary: the organization they run (and all under it)."),
    )
    units = models.ManyToManyField(
        "branches.Unit",
        verbose_name=_("units inspected"),
        related_name="inspectors",
        blank=True,
        help_text=_("For an inspector: the units in scope."),
    )
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_(
            "Set for accounts that committee staff create: the user chooses their own password "
            "at first login before anything else."
        ),
    )
    city_wide = models.BooleanField(
        _("whole city"),
        default=False,
        help_text=_("For an inspector: sees every unit of the city."),
    )

    objects = PortalUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
            models.CheckConstraint(
                condition=~Q(role=Role.SECRETARY)
                | Q(organization__isnull=False)
                | Q(is_superuser=True)
                | Q(is_active=False),
                name="user_secretary_has_organization",
            ),
        ]

    def get_full_name(self) -> str:
        return full_name(self.first_name, self.last_name)

    @property
    def display_name(self) -> str:
        """The full name, or the username for an account without one."""
        return display_name(self.first_name, self.last_name, self.username)

    def clean(self) -> None:
        super().clean()
        if self.role == Role.SECRETARY and not self.organization_id and self.is_active:
            raise ValidationError(
                {"organization": _("A branch secretary must be given an organization.")}
            )


class Notice(models.Model):
    """A notice in a user's portal (the bell): one per user, kind and key, however many times
    the task that leaves it runs. The reminders app leaves them (`reminders.services`); its
    e-mails and group-robot messages are deliveries of their own (`reminders.Delivery`)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notices", verbose_name=_("user")
    )
    kind = models.CharField(_("kind of notice"), max_length=40)
    key = models.CharField(_("key"), max_length=100)
    text = models.CharField(_("notice"), max_length=500)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "kind", "key"], name="notice_once")]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_unread_idx")]

    def __str__(self) -> str:
        return self.text
