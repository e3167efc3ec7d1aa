"""The base every ModelAdmin declares its capabilities on (`accounts.access`)."""

from __future__ import annotations

from accounts import access
from config.pagination import KeysFirstPaginator


class CapabilityAdmin:
    """Mix into every ModelAdmin: it declares the capability it reads with and the one it
    writes with (None: read-only in the admin). Django's model permissions still apply on top.
    """

    read_capability: str = "committee.admin"
    write_capability: str | None = "committee.admin"
    paginator = KeysFirstPaginator  # deep pages of big tables read their keys first

    def has_view_permission(self, request, obj=None) -> bool:
        return access.can(request.user, self.read_capability, obj) and super().has_view_permission(
            request, obj
        )

    def has_add_permission(self, request, *args) -> bool:
        return self._may_write(request, None) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_write(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_write(request, obj) and super().has_delete_permission(request, obj)

    def _may_write(self, request, obj) -> bool:
        name = self.write_capability
        return name is not None and access.can(request.user, name, obj)
