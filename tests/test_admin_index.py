"""The admin index follows the committee's work; technical models last, for superusers only;
dates in one format; structure warnings without doubled punctuation."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import Role, User
from branches.models import Term
from branches.selectors import structure_warnings, with_member_counts

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")


def _labels(response):
    return [app["app_label"] for app in response.context["app_list"]]


def test_the_index_starts_with_the_tree_and_ends_with_technical_apps(tree, client_for):
    labels = _labels(client_for("staff").get(reverse("admin:index")))
    assert labels[0] == "branches"
    assert labels.index("reports") < labels.index("accounts")
    assert {"auth", "django_celery_beat"} <= set(labels[-3:])  # technical apps last
    branches = client_for("staff").get(reverse("admin:index")).context["app_list"][0]
    assert [m["object_name"] for m in branches["models"]][:2] == ["Organization", "Member"]


def test_staff_who_are_not_superusers_do_not_see_technical_apps(tree, client):
    clerk = User.objects.create_user("clerk", password="x", role=Role.STAFF, is_staff=True)
    clerk.user_permissions.set([])
    client.force_login(clerk)
    labels = _labels(client.get(reverse("admin:index")))
    assert not {"auth", "django_celery_beat"} & set(labels)


def test_dates_come_in_one_format(tree, client_for):
    Term.objects.create(organization=tree.branch_a, started_on=datetime.date(2025, 11, 4))
    page = client_for("staff").get(reverse("admin:branches_term_changelist")).content.decode()
    assert "2025-11-04" in page and "2028-11-04" in page
    rows = page.split('id="result_list"')[1].split("<tbody>")[1]
    assert "2025-11-04" in rows and "年" not in rows


def test_structure_warnings_read_as_sentences(tree, client_for):
    page = client_for("staff").get(reverse("admin:branches_organization_changelist"))
    text = page.content.decode()
    assert "。；" not in text
    with translation.override("zh-hans"):
        org = with_member_counts(
            type(tree.branch_b).objects.filter(pk=tree.branch_b.pk), User(role=Role.STAFF)
        ).get()
        warnings = structure_warnings(org)
    assert len(warnings) >= 2 and "".join(warnings) in text
