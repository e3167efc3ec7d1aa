from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class PortalAdminSite(admin.AdminSite):
    site_header = _("Organ Party Work Committee · Administration")
    site_title = _("Jiguan Portal")
    index_title = _("Committee work")

    def has_permission(self, request) -> bool:
        # The admin is the committee staff's door; secretaries and inspectors use /portal/.
        user = request.user
        return bool(user.is_active and user.is_staff and getattr(user, "is_committee_staff", False))


class PortalAdminConfig(AdminConfig):
    default_site = "config.admin.PortalAdminSite"
