"""Access as declared capabilities (accounts/access.py).

1. Generated coverage: every route of the URL resolver (portal pages, API viewsets and their
   actions, the admin site) and every admin class declares the capability it reads with and
   the one it writes with, and every named route outside the admin has rows in a permission
   table (tests/test_permissions.py, tests/reports/test_reports_permissions.py). A new view
   cannot be forgotten: the throwaway tests below show the check failing.
2. The capability table: who holds what, on what, one row per capability and role.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import get_resolver, path
from django.utils import timezone
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts import access
from accounts.models import Role, User
from config.api_permissions import CapabilityPermission
from tests import access_coverage
from tests import test_permissions as branches_table
from tests.campaigns import test_api_permissions as campaigns_api_table
from tests.campaigns import test_portal_permissions as campaigns_portal_table
from tests.conftest import add_record
from tests.dashboard import test_api_permissions as dashboard_api_table
from tests.dashboard import test_portal_permissions as dashboard_portal_table
from tests.evaluations import test_api_permissions as evaluations_api_table
from tests.evaluations import test_portal_permissions as evaluations_portal_table
from tests.pairings import test_api_permissions as pairings_api_table
from tests.pairings import test_portal_permissions as pairings_portal_table
from tests.reports import test_reports_permissions as reports_table

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

TABLE_NAMES = {
    row[1]
    for table in (
        branches_table,
        reports_table,
        pairings_portal_table,
        pairings_api_table,
        evaluations_portal_table,
        evaluations_api_table,
        campaigns_portal_table,
        campaigns_api_table,
        dashboard_portal_table,
        dashboard_api_table,
    )
    for row in table.MATRIX
}


def _patterns(*extra):
    return [*get_resolver().url_patterns, *extra]


# --- 1. coverage ---------------------------------------------------------------------------


def test_every_route_declares_what_it_reads_and_writes_with():
    assert access_coverage.undeclared(_patterns(), admin.site) == []


def test_every_admin_class_declares_what_it_reads_and_writes_with():
    assert access_coverage.admin_problems(admin.site) == []
    assert admin.site._registry, "the admin has registered models"


def test_every_route_has_rows_in_a_permission_table():
    assert access_coverage.without_rows(_patterns(), TABLE_NAMES, admin.site.name) == []


def test_a_throwaway_url_fails_the_coverage_check():
    def throwaway(request):
        return HttpResponse("forgotten")

    patterns = _patterns(path("throwaway/", throwaway, name="throwaway"))
    problems = access_coverage.undeclared(patterns, admin.site)
    assert problems == ["throwaway/ (throwaway): declares no read capability"]
    missing = access_coverage.without_rows(patterns, TABLE_NAMES, admin.site.name)
    assert missing == ["throwaway"]
    # Declared, it passes the first check (it still needs rows in a table).
    access.declare(throwaway, read="organization.view")
    assert access_coverage.undeclared(patterns, admin.site) == []


def test_a_declared_url_with_an_unknown_capability_is_refused_at_once():
    with pytest.raises(KeyError):
        access.declare(lambda request: None, read="problem.forgive")


class ForgottenViewSet(viewsets.ViewSet):
    def list(self, request):
        return Response([])


class HalfDeclaredViewSet(viewsets.ViewSet):
    read_capability = "organization.view"  # and no write capability for its POST action

    def list(self, request):
        return Response([])

    @action(detail=False, methods=["post"])
    def close(self, request):
        return Response({})


def test_a_throwaway_viewset_fails_the_coverage_check():
    router = SimpleRouter()
    router.register("forgotten", ForgottenViewSet, basename="forgotten")
    router.register("half", HalfDeclaredViewSet, basename="half")
    problems = access_coverage.undeclared(_patterns(*router.urls), admin.site)
    assert problems == [
        "^forgotten/$ (forgotten-list): ForgottenViewSet declares no read capability",
        "^half/close/$ (half-close): HalfDeclaredViewSet.close (post) declares none",
    ]


def test_an_undeclared_api_view_is_refused_even_when_forgotten(rf: RequestFactory, staff):
    request = rf.get("/forgotten/")
    request.user = staff
    view = ForgottenViewSet()
    assert CapabilityPermission().has_permission(request, view) is False
    assert CapabilityPermission().has_permission(request, HalfDeclaredViewSet()) is True


def test_a_throwaway_admin_class_fails_the_coverage_check():
    site = admin.AdminSite(name="throwaway_admin")
    site.register(Group, admin.ModelAdmin)
    assert access_coverage.admin_problems(site) == [
        "auth.Group (ModelAdmin): not a CapabilityAdmin"
    ]


def test_the_site_root_is_declared_public(client):
    response = client.get("/")
    assert response.status_code == 302


# --- 2. the capability table ---------------------------------------------------------------

# Who holds each capability on an object of branch_a (in secretary_a's and inspector_a's
# scope) and of branch_b (in neither's):
#           (staff, sec_a on a, sec_a on b, insp_a on a, insp_a on b, city insp on b)
CAN = {
    "organization.view": (True, True, False, True, False, True),
    "member.view_private": (True, True, False, False, False, False),
    "activity.file": (True, True, False, False, False, False),
    "roster.import": (True, True, False, False, False, False),
    "pairing.report": (True, True, False, False, False, False),
    "evaluation.apply": (True, True, False, False, False, False),
    "inspection.record_problem": (True, False, False, True, False, True),
    "problem.answer": (True, True, False, False, False, False),
    # An inspector accepts only their own group's problems: never on an organization.
    "problem.accept": (True, False, False, False, False, False),
    "campaign.participate": (True, True, False, False, False, False),
}
# Held anywhere (no object): (staff, secretary, inspector, anonymous)
HELD = {
    "organization.view": (True, True, True, False),
    "ledger.download": (True, True, True, False),
    "bulletin.view": (True, True, True, False),
    "bulletin.view_ranking": (True, False, True, False),
    "bulletin.build": (True, False, False, False),
    "committee.admin": (True, False, False, False),
    "pairing.manage": (True, False, False, False),
    "evaluation.manage": (True, False, False, False),
    "campaign.manage": (True, False, False, False),
    "account.password": (True, True, True, False),
    "notice.read": (True, True, True, False),
    "dashboard.view": (True, True, True, False),
    "activity.file": (True, True, False, False),
    "activity.change": (True, True, False, False),
    "evaluation.score": (True, False, True, False),
    "inspection.record_problem": (True, False, True, False),
}


def test_every_capability_has_a_row():
    assert set(CAN) | set(HELD) | {"activity.change", "ledger.download"} >= set(access.CAPABILITIES)


@pytest.mark.parametrize("name", sorted(CAN))
def test_capability_on_objects(name, tree, staff, secretary_a, inspector_a, inspector_city):
    a, b = tree.branch_a, tree.branch_b
    found = (
        access.can(staff, name, b),
        access.can(secretary_a, name, a),
        access.can(secretary_a, name, b),
        access.can(inspector_a, name, a),
        access.can(inspector_a, name, b),
        access.can(inspector_city, name, b),
    )
    assert found == CAN[name]


@pytest.mark.parametrize("name", sorted(HELD))
def test_capability_held_anywhere(name, staff, secretary_a, inspector_a):
    found = tuple(access.can(u, name) for u in (staff, secretary_a, inspector_a, None))
    assert found == HELD[name]


def test_an_inactive_user_holds_nothing(staff):
    staff.is_active = False
    assert not any(access.can(staff, name) for name in access.CAPABILITIES)
    assert access.can(staff, access.PUBLIC)


def test_a_superuser_acts_as_staff_whatever_the_role_field(tree):
    boss = User(username="boss", role=Role.SECRETARY, is_superuser=True)
    assert access.can(boss, "bulletin.build") and access.sees_whole_city(boss)


def test_records_change_within_the_window_for_secretaries_always_for_staff(
    tree, activity_types, staff, secretary_a, secretary_b, settings
):
    record = add_record(tree.branch_a, activity_types["theme_day"], timezone.localdate())
    assert access.can(secretary_a, "activity.change", record)
    assert not access.can(secretary_b, "activity.change", record)
    record.filed_at = timezone.now() - datetime.timedelta(
        days=settings.ACTIVITY_EDIT_WINDOW_DAYS + 1
    )
    assert not access.can(secretary_a, "activity.change", record)
    assert access.can(staff, "activity.change", record)


def test_a_member_is_in_a_group_secretarys_scope(tree):
    group_secretary = User.objects.create(
        username="grp", role=Role.SECRETARY, organization=tree.group_a
    )
    assert access.can(group_secretary, "member.view_private", tree.members["a1"])
    assert not access.can(group_secretary, "member.view_private", tree.members["a3"])


def test_an_export_job_is_its_owners(tree, secretary_a, inspector_a):
    from reports.models import LedgerExport

    job = LedgerExport.objects.create(owner=secretary_a, ledger="roster", params={})
    assert access.can(secretary_a, "ledger.download", job)
    assert not access.can(inspector_a, "ledger.download", job)


def test_organizations_where_a_capability_is_held(tree, staff, secretary_a, inspector_a):
    codes = lambda user, name: set(  # noqa: E731
        access.organizations_where(user, name).values_list("code", flat=True)
    )
    assert codes(secretary_a, "activity.file") == {"A-1", "A-1-1"}
    assert codes(inspector_a, "activity.file") == set()
    assert codes(inspector_a, "inspection.record_problem") == {"A", "A-1", "A-1-1", "A-2"}
    assert len(codes(staff, "activity.file")) == 7
