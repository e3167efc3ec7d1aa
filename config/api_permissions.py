"""The API's default permission class (REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]).

Its own module: DRF imports it while `rest_framework.views` loads, so it must not import views.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from accounts import access


class CapabilityPermission(permissions.BasePermission):
    """The API's gate, from the capabilities a view declares (`accounts.access`).

    A view (viewset) sets `read_capability` and `write_capability`; `action_capabilities`
    maps an action to another capability (e.g. `{"destroy": "activity.change"}`). Reads need
    the read capability, writes the write one, held somewhere: an inspector's write is a 403
    before any lookup. A view that declares nothing is refused (and fails the coverage test).
    Whether the user may act on *this* object is the service's `can()`; which rows they may
    see is `scoped_queryset()`.
    """

    message = _("Your account may not do this.")

    def has_permission(self, request, view) -> bool:
        if getattr(view, "read_capability", None) is None:
            return False  # declares nothing: refused
        name = capability_for(view, request.method)
        if name != access.PUBLIC and getattr(request.user, "must_change_password", False):
            # A token gets past the portal's first-login redirect: the API refuses too.
            self.message = _("Change your password in the portal first.")
            return False
        if name is None:
            # A view without a write capability has no write handler: let DRF answer 405.
            return access.is_active_user(request.user)
        return access.can(request.user, name)


def capability_for(view, method: str) -> str | None:
    """The capability a request to `view` needs (None: the view changes nothing)."""
    action = getattr(view, "action", None)
    by_action = getattr(view, "action_capabilities", {}) or {}
    if action in by_action:
        return by_action[action]
    if method in permissions.SAFE_METHODS:
        return view.read_capability
    return getattr(view, "write_capability", None)
