"""Login for the portal: committee staff land in the admin, everybody else in the portal."""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.shortcuts import resolve_url
from django.urls import reverse


def landing_url(user) -> str:
    """Where a user goes after logging in (or on opening the portal home)."""
    if getattr(user, "is_committee_staff", False):
        return reverse("admin:index")
    return resolve_url("portal:home")


class PortalLoginView(LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        # Only used when there is no safe ?next=: a deep link still wins.
        return landing_url(self.request.user)
