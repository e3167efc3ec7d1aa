"""Accounts that staff create choose their own password at first login, before anything else."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext

from . import access


class PasswordChangeFirstMiddleware:
    """A logged-in user who must change their password is sent to the password page from any
    page (the API answers 403 with the reason), except logging out and the language switch."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if access.is_active_user(user) and user.must_change_password:
            target = reverse("portal:password_change")
            allowed = {target, reverse("portal:logout"), reverse("set_language")}
            if request.path not in allowed and not request.path.startswith("/static/"):
                if request.path.startswith("/api/"):
                    message = gettext("Change your password in the portal first.")
                    return JsonResponse({"detail": message}, status=403)
                return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
