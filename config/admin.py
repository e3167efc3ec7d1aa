"""The committee's admin site (loaded while the app registry fills: no model imports here).

ModelAdmins declare their capabilities with `config.admin_base.CapabilityAdmin`."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class PortalAdminSite(admin.AdminSite):
    site_header = _("Organ Party Work Committee · Administration")
    site_title = _("Jiguan Portal")
    index_title = _("Committee work")
    # The sidebar takes 300 px of a 1366 px office screen from the lists; the breadcrumbs and
    # the index page lead everywhere it does.
    enable_nav_sidebar = False
    # Every page of the site itself (index, app lists, autocomplete, password change).
    read_capability = "committee.admin"

    def has_permission(self, request) -> bool:
        # The admin is the committee staff's door; secretaries and inspectors use /portal/,
        # even if somebody ticked `is_staff` on their account.
        from accounts import access  # this module is loaded with the app registry, before models

        user = request.user
        return bool(user.is_active and user.is_staff and access.can(user, self.read_capability))

    # The index follows the committee's work: the tree and rosters, organizational life, the
    # domain apps, reports, then accounts; the technical apps (schedules, tokens, groups) last,
    # and only for superusers.
    APP_ORDER = [
        "branches",
        "pairings",
        "evaluations",
        "campaigns",
        "reminders",
        "reports",
        "accounts",
        "axes",
    ]
    MODEL_ORDER = [
        "Organization",
        "Member",
        "Unit",
        "Term",
        "ActivityRecord",
        "ActivityType",
        "ComplianceRule",
        "Bulletin",
        "BulletinRow",
        "LedgerExport",
        "User",
    ]
    TECHNICAL_APPS = {"django_celery_beat", "auth"}  # tokens stay: staff revoke them there

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if not request.user.is_superuser:
            apps = [a for a in apps if a["app_label"] not in self.TECHNICAL_APPS]

        def app_rank(app):
            label = app["app_label"]
            order = self.APP_ORDER
            return (order.index(label) if label in order else len(order), app["name"])

        def model_rank(model):
            name = model["object_name"]
            order = self.MODEL_ORDER
            return (order.index(name) if name in order else len(order), model["name"])

        apps.sort(key=app_rank)
        for app in apps:
            app["models"].sort(key=model_rank)
        return apps


class PortalAdminConfig(AdminConfig):
    default_site = "config.admin.PortalAdminSite"
