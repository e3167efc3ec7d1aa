"""Accounts in the admin, and the libraries' own admins with their capabilities declared.

Every ModelAdmin on the site is a `CapabilityAdmin` (tests/test_admin_pages.py checks it).
The admins that Django, DRF and django-celery-beat register themselves are replaced here by
subclasses that declare theirs: this app comes after those apps in INSTALLED_APPS, so its
admin module is discovered after theirs.
"""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.admin import TokenAdmin as DRFTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from config.admin_base import CapabilityAdmin

from .models import User


@admin.register(User)
class UserAdmin(CapabilityAdmin, DjangoUserAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"
    list_display = [
        "username",
        "first_name",
        "role",
        "organization",
        "city_wide",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "is_active", "city_wide", "is_staff"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization", "units"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Role and scope"), {"fields": ["role", "organization", "units", "city_wide"]}),
        (_("Password"), {"fields": ["must_change_password"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "password1",
                    "password2",
                    "role",
                    "organization",
                    "units",
                    "city_wide",
                ],
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        # An account staff create gets a password staff know: its user chooses their own at
        # first login (the usual rule in government systems).
        if not change:
            obj.must_change_password = True
        super().save_model(request, obj, form, change)


# --- the libraries' admins, re-registered with their capabilities ---------------------------


def _replace(model, admin_class) -> None:
    """Swap the library's registration of `model` for `admin_class` (one of its subclasses)."""
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, admin_class)


class GroupAdmin(CapabilityAdmin, DjangoGroupAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"


class TokenAdmin(CapabilityAdmin, DRFTokenAdmin):
    """API tokens of the accounts (the change page's id is the user's, as in DRF's admin)."""

    read_capability = "committee.admin"
    write_capability = "committee.admin"
    # DRF's page offers a drop-down of every account of the city: a search box instead.
    autocomplete_fields = ["user"]


class PeriodicTaskAdmin(CapabilityAdmin, beat_admin.PeriodicTaskAdmin):
    """The beat schedule: the monthly bulletin and the clean-up of old exports."""

    read_capability = "committee.admin"
    write_capability = "committee.admin"


class PeriodicTaskInline(beat_admin.PeriodicTaskInline):
    """The tasks of a schedule, on its page. Each row's title is `PeriodicTask.__str__`, which
    names the task's schedule: read with the rows, not once per row."""

    def get_queryset(self, request):
        schedules = ("interval", "crontab", "solar", "clocked")
        return super().get_queryset(request).select_related(*schedules)


class ClockedScheduleAdmin(CapabilityAdmin, beat_admin.ClockedScheduleAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"
    inlines = [PeriodicTaskInline]


class CrontabScheduleAdmin(CapabilityAdmin, beat_admin.CrontabScheduleAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"
    inlines = [PeriodicTaskInline]


class SolarScheduleAdmin(CapabilityAdmin, beat_admin.SolarScheduleAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"
    inlines = [PeriodicTaskInline]


class IntervalScheduleAdmin(CapabilityAdmin, beat_admin.IntervalScheduleAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"
    inlines = [PeriodicTaskInline]


class AccessAttemptAdmin(CapabilityAdmin, axes_admin.AccessAttemptAdmin):
    """Failed logins per account; deleting an entry unlocks the account at once."""

    read_capability = "committee.admin"
    write_capability = "committee.admin"


class AccessLogAdmin(CapabilityAdmin, axes_admin.AccessLogAdmin):
    read_capability = "committee.admin"
    write_capability = None


class AccessFailureLogAdmin(CapabilityAdmin, axes_admin.AccessFailureLogAdmin):
    read_capability = "committee.admin"
    write_capability = None


_replace(AccessAttempt, AccessAttemptAdmin)
_replace(AccessLog, AccessLogAdmin)
_replace(AccessFailureLog, AccessFailureLogAdmin)
_replace(Group, GroupAdmin)
_replace(TokenProxy, TokenAdmin)
_replace(PeriodicTask, PeriodicTaskAdmin)
_replace(ClockedSchedule, ClockedScheduleAdmin)
_replace(CrontabSchedule, CrontabScheduleAdmin)
_replace(SolarSchedule, SolarScheduleAdmin)
_replace(IntervalSchedule, IntervalScheduleAdmin)
