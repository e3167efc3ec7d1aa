"""Login, lockout and passwords: committee staff land in the admin, everybody else in the
portal; every user changes their own password in the portal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext


def landing_url(user) -> str:
    """Where a user goes after logging in (or on opening the portal home): the admin for
    those who work in it, else the portal (which opens on a secretary's own organization)."""
    from . import access

    if access.can(user, "committee.admin"):
        return reverse("admin:index")
    return resolve_url("portal:home")


class PortalLoginView(LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        # Only used when there is no safe ?next=: a deep link still wins.
        return landing_url(self.request.user)


class PortalPasswordChangeView(PasswordChangeView):
    """Any user changes their own password here; those who must (accounts that staff
    created) are sent here first, and land where they were going afterwards."""

    template_name = "portal/password_change.html"

    def get_success_url(self) -> str:
        target = self.request.POST.get("next") or self.request.GET.get("next")
        if target and url_has_allowed_host_and_scheme(
            target, {self.request.get_host()}, self.request.is_secure()
        ):
            return target
        return landing_url(self.request.user)

    def form_valid(self, form):
        form.user.must_change_password = False  # saved with the new password, in one write
        response = super().form_valid(form)
        messages.success(self.request, gettext("Your password has been changed."))
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["forced"] = self.request.user.must_change_password
        context["next"] = self.request.GET.get("next", "")
        return context
