"""Chinese whatever the browser says, a switch for English, and Chinese error pages.

Tests run with DEBUG off, as production does, so the error pages are the real ones.
"""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import path, reverse

from accounts.access import PUBLIC, declare

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def test_an_english_browser_gets_the_chinese_portal(db, client):
    response = client.get(reverse("portal:login"), **ENGLISH_BROWSER)
    assert response["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()
    assert "Log in" not in response.content.decode()


def test_an_english_browser_gets_the_chinese_admin(db, client):
    response = client.get(reverse("admin:login"), **ENGLISH_BROWSER)
    assert "用户名" in response.content.decode()


def test_the_switch_gives_english_and_back(db, client):
    login = reverse("portal:login")
    response = client.post(reverse("set_language"), {"language": "en", "next": login})
    assert response.status_code == 302 and response["Location"] == login
    assert "Log in" in client.get(login).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": login})
    assert "登录" in client.get(login).content.decode()


def test_an_unknown_language_keeps_chinese(db, client):
    client.cookies["django_language"] = "fr"
    assert client.get(reverse("portal:login"))["Content-Language"] == "zh-hans"


def test_every_portal_page_offers_the_switch(tree, client_for):
    page = client_for("secretary_a").get(reverse("portal:members")).content.decode()
    assert 'action="/i18n/setlang/"' in page and 'value="en"' in page


def test_the_admin_offers_the_switch(tree, client_for):
    page = client_for("staff").get(reverse("admin:index")).content.decode()
    assert 'action="/i18n/setlang/"' in page


def _assert_chinese_page(response, status: int, words: str):
    assert response.status_code == status
    page = response.content.decode()
    assert words in page, page[:500]
    assert 'href="/portal/"' in page  # a way back
    assert "portal.css" in page  # inside the portal's layout


def test_404_is_chinese_in_the_layout(tree, client_for):
    response = client_for("secretary_a").get("/portal/nowhere/", **ENGLISH_BROWSER)
    _assert_chinese_page(response, 404, "页面不存在")


def test_404_for_an_organization_outside_the_scope(tree, client_for):
    url = reverse("portal:organization", args=[tree.branch_b.pk])
    _assert_chinese_page(client_for("secretary_a").get(url), 404, "页面不存在")


def test_400_is_chinese(db, client):
    _assert_chinese_page(client.get("/portal/login/", HTTP_HOST="evil.example"), 400, "请求有误")


def test_csrf_failure_is_chinese(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("portal:login"), {"username": "x", "password": "y"})
    _assert_chinese_page(response, 403, "表单已过期")


def _boom(request):
    raise RuntimeError("broken")


urlpatterns = [path("boom/", declare(_boom, read=PUBLIC))]
handler500 = "config.views.server_error"  # as config/urls.py


@override_settings(ROOT_URLCONF=__name__)
def test_500_is_chinese_and_needs_no_database(db):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", **ENGLISH_BROWSER)
    _assert_chinese_page(response, 500, "服务器出错")


@pytest.mark.parametrize("url", ["/api/members/", "/api/organizations/1/"])
def test_api_errors_are_chinese(db, client, url):
    response = client.get(url, **ENGLISH_BROWSER)
    assert response.status_code == 403
    assert response.json()["detail"] == "身份认证信息未提供。"
