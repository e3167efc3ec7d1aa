"""Every API route answers a format suffix (`/api/pairings/1/status.json`) without a server
error: DRF hands the suffix to each action as `format`, and an action that does not take it
was a TypeError, a 500. Generated over the router, so a new action is checked too."""

from __future__ import annotations

import re

import pytest

from config.api_urls import router

pytestmark = pytest.mark.usefixtures("module_cast")

GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _suffixed_paths() -> list[str]:
    paths = []
    for pattern in router.urls:
        regex = str(pattern.pattern)
        if "(?P<format>" not in regex:
            continue
        path = GROUP.sub(lambda m: "json" if m.group(1) == "format" else "1", regex)
        path = path.strip("^$").replace("/?", "/").replace("\\.", ".").rstrip("/")
        paths.append("/api/" + path)
    return sorted(set(paths))


PATHS = _suffixed_paths()


def test_the_router_has_suffixed_routes():
    assert len(PATHS) > 40 and "/api/pairings/1/status.json" in PATHS


@pytest.mark.parametrize("path", PATHS)
def test_no_server_error_with_a_format_suffix(path, client_for):
    client = client_for("staff")
    assert client.get(path).status_code < 500
    assert client.post(path, {}, content_type="application/json").status_code < 500


UPLOADS = [
    "/api/activity-records/{pk}/attachments/{file}/",
    "/api/help-records/{pk}/photos/{file}/",
    "/api/evaluation-applications/{pk}/attachments/{file}/",
    "/api/problems/{pk}/photos/{file}/",
]
ODD = [("abc", "1"), ("0.5", "1"), ("99999999999999999999999", "1"), ("1", "99999999999999999999")]


@pytest.mark.parametrize("template", UPLOADS)
@pytest.mark.parametrize("pk, file", ODD)
def test_an_upload_with_odd_ids_is_a_404(template, pk, file, client_for):
    """`config.api_base.upload_in_scope` checks the ids before any query is built."""
    response = client_for("staff").get(template.format(pk=pk, file=file))
    assert response.status_code == 404
