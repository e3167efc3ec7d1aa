"""Logins lock after repeated failures at every door, the API is throttled, tokens expire, and
accounts that staff create choose their own password at first login."""

from __future__ import annotations

import datetime

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from accounts.models import Role, User
from tests.conftest import PASSWORD

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

LOCKED = "登录失败次数过多"


def _fail(client, url, username, times=5, **extra):
    for _ in range(times):
        client.post(url, {"username": username, "password": "wrong"}, **extra)


@pytest.mark.parametrize("url_name", ["portal:login", "admin:login"])
def test_five_wrong_passwords_lock_the_account(secretary_a, staff, client, url_name):
    username = "staff" if url_name == "admin:login" else "sec_a"
    url = reverse(url_name)
    _fail(client, url, username)
    response = client.post(url, {"username": username, "password": PASSWORD})
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_api_token_is_locked_too(secretary_a, client):
    url = reverse("api-token")
    _fail(client, url, "sec_a")
    response = client.post(url, {"username": "sec_a", "password": PASSWORD})
    assert response.status_code == 429
    assert LOCKED in response.json()["detail"]


def test_a_few_typos_do_not_lock(secretary_a, client):
    url = reverse("portal:login")
    _fail(client, url, "sec_a", times=4)
    response = client.post(url, {"username": "sec_a", "password": PASSWORD})
    assert response.status_code == 302
    # and a success forgets the failures
    assert not AccessAttempt.objects.filter(username="sec_a").exists()


def test_staff_unlock_an_account_in_the_admin(secretary_a, staff, client, client_for):
    url = reverse("portal:login")
    _fail(client, url, "sec_a")
    attempt = AccessAttempt.objects.get(username="sec_a")
    admin = client_for("staff")
    assert admin.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200
    response = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert client.post(url, {"username": "sec_a", "password": PASSWORD}).status_code == 302


def test_the_api_is_throttled(secretary_a, client_for, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "5/min", "anon": "3/min"})
    client = client_for("secretary_a")
    statuses = [client.get(reverse("member-list")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert "请求已被限流" in client.get(reverse("member-list")).json()["detail"]


def test_anonymous_callers_are_throttled(db, client, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"user": "5/min", "anon": "3/min"})
    statuses = [client.get(reverse("schema")).status_code for _ in range(4)]
    assert statuses == [200] * 3 + [429]


def test_tokens_expire_and_are_replaced(secretary_a, client, settings):
    token = Token.objects.create(user=secretary_a)
    Token.objects.filter(pk=token.pk).update(
        created=timezone.now() - datetime.timedelta(days=settings.API_TOKEN_DAYS + 1)
    )
    response = client.get(reverse("member-list"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code in (401, 403)
    assert "令牌已过期" in response.json()["detail"]
    assert not Token.objects.filter(pk=token.pk).exists()
    fresh = client.post(reverse("api-token"), {"username": "sec_a", "password": PASSWORD}).json()
    assert fresh["token"] != token.key and fresh["expires_at"]
    ok = client.get(reverse("member-list"), HTTP_AUTHORIZATION=f"Token {fresh['token']}")
    assert ok.status_code == 200


def test_a_token_within_its_days_works(secretary_a, client):
    token = Token.objects.create(user=secretary_a)
    response = client.get(reverse("member-list"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


def test_an_account_staff_create_changes_its_password_first(tree, client_for, client):
    admin = client_for("staff")
    response = admin.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newsec",
            "password1": "Given-by-staff-2026",
            "password2": "Given-by-staff-2026",
            "role": Role.SECRETARY,
            "organization": tree.branch_a.pk,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(username="newsec")
    assert user.must_change_password
    client.post(reverse("portal:login"), {"username": "newsec", "password": "Given-by-staff-2026"})
    page = client.get(reverse("portal:members"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("portal:password_change"))
    assert client.get(reverse("member-list")).status_code == 403
    response = client.post(
        reverse("portal:password_change"),
        {
            "old_password": "Given-by-staff-2026",
            "new_password1": "Mine-only-2026!",
            "new_password2": "Mine-only-2026!",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get(reverse("portal:members")).status_code == 200


@pytest.mark.parametrize("role", ["secretary_a", "inspector_a"])
def test_every_portal_user_can_change_their_password(tree, client_for, role):
    page = client_for(role).get(reverse("portal:password_change"))
    assert page.status_code == 200
    assert "修改密码" in page.content.decode()


def test_a_token_does_not_skip_the_first_password_change(secretary_a, client):
    User.objects.filter(pk=secretary_a.pk).update(must_change_password=True)
    token = Token.objects.create(user=secretary_a)
    response = client.get(reverse("member-list"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403
    assert "请先在门户中修改密码" in response.json()["detail"]
