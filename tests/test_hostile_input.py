"""Ordinary bad input gets a clear 400 or 404 in Chinese, never a 500 (issue: hostile probe)."""

from __future__ import annotations

import datetime
import json
import threading

import pytest
from django.db import connection
from django.urls import reverse

from tests.conftest import add_record

NUL_MESSAGE = "不允许包含空字符（NUL）。"


@pytest.mark.parametrize(
    "body",
    [
        {"activity_type": "theme\u0000day", "topic": "学习", "date": "2026-11-01"},
        {"activity_type": "theme_day", "topic": "学\u0000习", "date": "2026-11-01"},
        {"activity_type": "theme_day", "topic": "学习", "place": ["\u0000"]},
    ],
)
def test_a_nul_in_a_json_body_is_a_chinese_400(tree, activity_types, client_for, body):
    body.setdefault("organization", tree.branch_a.pk)
    response = client_for("secretary_a").post(
        reverse("activity-record-list"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": NUL_MESSAGE}


@pytest.mark.parametrize(
    "url",
    [
        "/api/members/?search=%00",
        "/api/activity-records/?type=theme%00day",
        "/api/organizations/?code=A%00",
    ],
)
def test_a_nul_in_a_query_string_is_a_chinese_400(tree, client_for, url):
    response = client_for("staff").get(url)
    assert response.status_code == 400
    assert response.json() == {"detail": NUL_MESSAGE}


def test_a_nul_in_a_portal_form_is_a_chinese_400_page(tree, client_for):
    response = client_for("secretary_a").get(reverse("portal:members") + "?q=%00")
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()


def test_a_nul_in_the_login_form_is_a_400(db, client):
    response = client.post(reverse("portal:login"), {"username": "a\x00", "password": "x"})
    assert response.status_code == 400


def test_uploaded_files_may_hold_nul_bytes(tree, activity_types, client_for, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "image/png")
    response = client_for("secretary_a").post(
        reverse("activity-record-list"),
        {
            "organization": tree.branch_a.pk,
            "activity_type": "theme_day",
            "topic": "学习",
            "date": (datetime.date.today() - datetime.timedelta(days=1)).isoformat(),
            "new_attachments": [photo],
        },
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "url",
    [
        "/api/activity-records/abc/attachments/1/",
        "/api/activity-records/abc/",
        "/api/members/1.5/",
        "/api/organizations/%E4%B8%80/",
    ],
)
def test_a_non_numeric_id_in_an_api_path_is_a_404(tree, client_for, url):
    assert client_for("staff").get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/admin/branches/member/?unit=abc",
        "/admin/branches/member/?organization=abc",
        "/admin/branches/activityrecord/?organization=abc",
        "/admin/branches/activityrecord/?unit=abc",
    ],
)
def test_admin_filters_with_a_bad_value_are_no_500(tree, client_for, url):
    assert client_for("staff").get(url).status_code in (200, 302)


@pytest.mark.parametrize("value", ["", "maybe"])
def test_an_empty_or_odd_youth_filter_is_refused(tree, client_for, value):
    response = client_for("staff").get(reverse("member-list"), {"youth": value})
    assert response.status_code == 400
    assert "youth" in response.json()


def test_the_portal_search_still_takes_any_youth(tree, client_for):
    response = client_for("staff").get(reverse("portal:members"), {"youth": ""})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 6


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks tables)"
)
@pytest.mark.django_db(transaction=True)
def test_a_change_and_a_delete_of_one_record_at_once(tree, activity_types, secretary_a):
    """Both run; one after the other (the record's row is locked first), never a 500."""
    from django.test import Client

    statuses = []

    def call(method, pk, body=None):
        client = Client()
        client.force_login(secretary_a)
        url = reverse("activity-record-detail", args=[pk])
        response = getattr(client, method)(url, body, content_type="application/json")
        statuses.append(response.status_code)
        connection.close()

    # The probe saw 5 failures in 29 pairs: ten pairs make a missing lock show.
    for day in range(1, 11):
        record = add_record(
            tree.branch_a, activity_types["theme_day"], datetime.date(2026, 11, day)
        )
        threads = [
            threading.Thread(target=call, args=("patch", record.pk, {"topic": "改"})),
            threading.Thread(target=call, args=("delete", record.pk)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert 500 not in statuses
    assert statuses.count(204) == 10


@pytest.mark.parametrize("field", ["remove_pending", "remove_attachment"])
def test_a_non_ascii_digit_among_ids_to_remove_is_no_500(tree, activity_types, client_for, field):
    url = reverse("portal:activity_new", args=[tree.branch_a.pk])
    response = client_for("secretary_a").post(url, {field: "²", "topic": ""})
    assert response.status_code == 200  # the form again, with its errors


def test_a_non_ascii_digit_as_activity_type_is_a_400(tree, activity_types, client_for):
    response = client_for("secretary_a").post(
        reverse("activity-record-list"),
        {"organization": tree.branch_a.pk, "activity_type": "²", "topic": "学习"},
        content_type="application/json",
    )
    assert response.status_code == 400
