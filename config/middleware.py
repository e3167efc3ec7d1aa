"""Site-wide middleware: the language of the portal, and NUL characters refused at the door.

The portal speaks Chinese whatever the browser says.

Django's LocaleMiddleware follows the browser's Accept-Language, so an English browser got an
English portal around Chinese data. Here the language is the one the user chose with the
language switch (a cookie set by `/i18n/setlang/`), else LANGUAGE_CODE (zh-hans).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext


class PortalLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.languages else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class RefuseNulMiddleware:
    """A NUL character in a query string, a form field or a JSON body is a 400 in Chinese.

    PostgreSQL cannot store or compare NUL, so a NUL that reached a query was a 500 anywhere a
    form or serializer did not stop it first (lookups by code, search, filters). Uploaded files
    are not looked at: binary files are full of NUL bytes.
    """

    JSON_LIMIT = 2 * 1024 * 1024

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._carries_nul(request):
            return self._refuse(request)
        return self.get_response(request)

    def _carries_nul(self, request) -> bool:
        if "\x00" in request.path or any(
            _has_nul(k) or _has_nul(v) for k, values in request.GET.lists() for v in [k, *values]
        ):
            return True
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        content_type = request.content_type or ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return any(_has_nul(v) for _k, values in request.POST.lists() for v in values) or any(
                _has_nul(k) for k in request.POST
            )
        if content_type == "application/json" or content_type.endswith("+json"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if not 0 < length <= self.JSON_LIMIT or b"\\u0000" not in request.body.lower():
                return False
            try:
                return _has_nul(json.loads(request.body))
            except ValueError:
                return False  # not JSON: the parser answers that itself
        return False

    def _refuse(self, request):
        message = gettext("Null characters are not allowed.")
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        from config.views import bad_request_with

        return bad_request_with(request, message)
