"""The answer to a locked-out login (django-axes' AXES_LOCKOUT_CALLABLE), for every door."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext


def locked_out(request, credentials=None, *args, **kwargs) -> HttpResponse:
    """django-axes' answer once an account has failed too often (429), in Chinese: a page for
    the portal and the admin, JSON for the API."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = gettext(
        "Too many failed logins: this account is locked for %(minutes)d minutes. Ask the "
        "committee staff to unlock it sooner."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    context = {"status": 429, "title": gettext("Account locked"), "message": message}
    return render(request, "portal/error.html", context, status=429)
