"""Site-wide pages: the language switch and the error pages (Chinese, in the portal's layout,
with a way back), for the portal and the admin alike."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext
from django.views import i18n
from django.views.decorators.csrf import requires_csrf_token

from accounts.access import PUBLIC, declare


def set_language(request: HttpRequest) -> HttpResponse:
    """POST `language` (zh-hans or en) and `next`: remembered in a cookie, for anybody."""
    return i18n.set_language(request)


declare(set_language, read=PUBLIC, write=PUBLIC)


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    context = {"status": status, "title": title, "message": message}
    return render(request, "portal/error.html", context, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return bad_request_with(
        request, gettext("The request could not be understood. Go back and try again.")
    )


def bad_request_with(request: HttpRequest, message: str) -> HttpResponse:
    return _error(request, 400, gettext("Bad request"), message)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    message = str(exception) if exception is not None and str(exception) else ""
    return _error(
        request,
        403,
        gettext("Not allowed"),
        message or gettext("Your account may not open this page."),
    )


@requires_csrf_token
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if request.path.startswith("/api/"):  # an address no route takes: JSON, as every API 404
        return JsonResponse({"detail": gettext("Not found.")}, status=404)
    return _error(
        request,
        404,
        gettext("Page not found"),
        gettext("There is no such page, or it is not in your scope."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": gettext("Server error")}, status=500)
    # Rendered without the request's context (no user, no database): the page must render
    # when something underneath has failed.
    return HttpResponse(loader.get_template("portal/500.html").render({}), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        gettext("The form has expired"),
        gettext(
            "The page was open too long or cookies are blocked. Go back, reload the page and "
            "send the form again."
        ),
    )
