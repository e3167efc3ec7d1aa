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
        # Chinese order, no space: 张伟 (family name first), not "伟 张".
        return f"{self.last_name}{self.first_name}".strip()

    @property
    def is_committee_staff(self) -> bool:
        return self.is_superuser or self.role == Role.STAFF

    @property
    def sees_whole_city(self) -> bool:
        return self.is_committee_staff or (self.role == Role.INSPECTOR and self.city_wide)

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.INSPECTOR and not self.is_superuser

    def clean(self) -> None:
        super().clean()
        if self.role == Role.SECRETARY and not self.organization_id and self.is_active:
            raise ValidationError(
                {"organization": _("A branch secretary must be given an organization.")}
            )
