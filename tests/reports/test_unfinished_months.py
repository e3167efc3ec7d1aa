"""A bulletin is built only for a month that has ended: in the service, the command, the
admin and the beat task; a month stored too early (by an earlier version) is never shown."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from branches.periods import Period
from reports.models import Bulletin
from reports.services import build_bulletin, previous_month
from reports.tasks import build_previous_month_bulletin

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")


def _this_month() -> Period:
    today = timezone.localdate()
    return Period.month(today.year, today.month)


def _next_month() -> Period:
    end = _this_month().end
    return Period.month(
        (end + datetime.timedelta(days=1)).year, (end + datetime.timedelta(days=1)).month
    )


@pytest.mark.parametrize("month", [_this_month, _next_month])
def test_the_service_refuses_a_month_that_has_not_ended(tree, month):
    with pytest.raises(ValidationError):
        build_bulletin(month())
    assert not Bulletin.objects.exists()


def test_the_last_day_of_a_month_is_still_too_early(tree):
    june = Period.month(2026, 6)
    with pytest.raises(ValidationError):
        build_bulletin(june, today=datetime.date(2026, 6, 30))
    assert build_bulletin(june, today=datetime.date(2026, 7, 1)).month == june.start


def test_the_command_refuses_the_current_month(tree):
    with pytest.raises(CommandError):
        call_command("build_bulletin", _this_month().code)
    assert not Bulletin.objects.exists()


def test_the_beat_task_builds_the_month_before(tree):
    build_previous_month_bulletin()
    assert list(Bulletin.objects.values_list("month", flat=True)) == [previous_month().start]


def test_the_admin_form_refuses_the_current_month(tree, client_for):
    response = client_for("staff").post(
        reverse("admin:reports_bulletin_build"), {"month": _this_month().code}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["month"]
    assert not Bulletin.objects.exists()


def test_a_month_stored_too_early_is_never_shown(tree, client_for):
    early = Bulletin.objects.create(month=_this_month().start, built_at=timezone.now())
    client = client_for("secretary_a")
    assert client.get(reverse("portal:bulletin", args=[_this_month().code])).status_code == 404
    assert client.get(reverse("bulletin-detail", args=[_this_month().code])).status_code == 404
    assert client.get(reverse("bulletin-list")).json()["count"] == 0
    assert (
        early.month.strftime("%Y-%m")
        not in client.get(reverse("portal:bulletins")).content.decode()
    )
    # and rebuilding it in the admin says why, without a 500
    response = client_for("staff").post(
        reverse("admin:reports_bulletin_changelist"),
        {"action": "rebuild", "_selected_action": [early.pk]},
        follow=True,
    )
    assert response.status_code == 200
