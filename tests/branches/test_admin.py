"""The committee staff's door: the admin, in Chinese, scoped, with constant query counts."""

import datetime

import pytest
from django.urls import reverse

from accounts.models import Role
from branches.models import Organization, OrganizationKind, Term
from tests.conftest import make_member

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")


@pytest.fixture
def admin_client_staff(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "admin:branches_unit_changelist",
        "admin:branches_organization_changelist",
        "admin:branches_member_changelist",
        "admin:branches_term_changelist",
        "admin:accounts_user_changelist",
        "admin:accounts_user_add",
        "admin:branches_organization_add",
        "admin:branches_member_add",
    ],
)
def test_staff_opens_every_admin_page(admin_client_staff, name):
    assert admin_client_staff.get(reverse(name)).status_code == 200


def test_admin_is_closed_to_secretaries_and_inspectors_even_with_the_staff_flag(
    client, secretary_a, inspector_a
):
    for user in (secretary_a, inspector_a):
        user.is_staff = True
        user.save()
        client.force_login(user)
        response = client.get(reverse("admin:branches_member_changelist"))
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


def test_organization_changelist_reads_as_a_tree_with_counts(admin_client_staff, tree):
    response = admin_client_staff.get(reverse("admin:branches_organization_changelist"))
    names = [o.name for o in response.context["cl"].result_list]
    # Ordered by path: each committee is followed by what sits under it.
    assert names.index("统计局第一党支部") == names.index("市统计局机关党委") + 1
    assert names.index("统计局第一党小组") == names.index("统计局第一党支部") + 1
    counts = {o.code: o.member_count for o in response.context["cl"].result_list}
    assert counts == {"A": 4, "A-1": 3, "A-1-1": 2, "A-2": 1, "B": 2, "B-G": 2, "B-1": 2}


def test_overdue_elections_filter(admin_client_staff, tree):
    Term.objects.create(organization=tree.branch_a, started_on=datetime.date(2019, 1, 1))
    Term.objects.create(organization=tree.branch_b, started_on=datetime.date.today())
    url = reverse("admin:branches_organization_changelist") + "?election=overdue"
    result = admin_client_staff.get(url).context["cl"].result_list
    assert [o.code for o in result] == ["A-1"]
    terms = admin_client_staff.get(reverse("admin:branches_term_changelist"))
    assert [t.organization.code for t in terms.context["cl"].result_list] == ["A-1", "B-1"]


def test_member_filters_by_unit_organization_youth_and_education(admin_client_staff, tree):
    make_member(
        tree.branch_a2,
        "A0102",
        "青年",
        birth_date=datetime.date.today().replace(year=datetime.date.today().year - 25),
        joined_on=datetime.date(2020, 1, 1),
        education="secondary",
    )
    url = reverse("admin:branches_member_changelist")

    def numbers(query):
        cl = admin_client_staff.get(url + query).context["cl"]
        return {m.member_no for m in cl.queryset}

    assert numbers(f"?unit={tree.unit_b.pk}") == {"B0001", "B0002"}
    assert numbers(f"?organization={tree.committee_a.pk}") == {
        "A0001",
        "A0002",
        "A0003",
        "A0101",
        "A0102",
    }
    assert numbers(f"?organization={tree.group_a.pk}") == {"A0001", "A0002"}
    assert numbers("?youth=yes") == {"A0102"}
    assert numbers("?college=no") == {"A0102"}
    assert numbers("?status__exact=probationary") == {"A0003"}


def test_organization_changelist_query_count_does_not_grow(
    admin_client_staff, tree, django_assert_max_num_queries
):
    url = reverse("admin:branches_organization_changelist")
    admin_client_staff.get(url)  # warm caches (content types, sessions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        admin_client_staff.get(url)
    for i in range(30):
        Organization.objects.create(
            code=f"N{i}",
            name=f"新支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_b,
            parent=tree.committee_b,
        )
    with CaptureQueriesContext(connection) as large:
        admin_client_staff.get(url)
    assert len(large) == len(small)


def test_member_changelist_query_count_does_not_grow(admin_client_staff, tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:branches_member_changelist")
    admin_client_staff.get(url)
    with CaptureQueriesContext(connection) as small:
        admin_client_staff.get(url)
    for i in range(30):
        make_member(tree.branch_b, f"B1{i:03d}", f"党员{i}")
    with CaptureQueriesContext(connection) as large:
        admin_client_staff.get(url)
    assert len(large) == len(small)


def test_the_admin_lists_every_row_for_staff_its_door_is_the_site(rf, tree, staff, secretary_a):
    """No scoping inside the admin: only committee staff get in (PortalAdminSite), and they
    work on the whole city."""
    from django.contrib import admin as django_admin

    from branches.admin import ActivityRecordAdmin, MemberAdmin, OrganizationAdmin, TermAdmin
    from branches.models import ActivityRecord, Member

    request = rf.get("/")
    request.user = staff
    site = django_admin.site
    assert MemberAdmin(Member, site).get_queryset(request).count() == Member.objects.count()
    orgs = OrganizationAdmin(Organization, site).get_queryset(request)
    assert orgs.count() == Organization.objects.count()
    assert TermAdmin(Term, site).get_queryset(request).count() == 0
    assert ActivityRecordAdmin(ActivityRecord, site).get_queryset(request).count() == 0

    secretary_a.is_staff = True
    request.user = secretary_a
    assert secretary_a.role == Role.SECRETARY
    assert not site.has_permission(request)


def test_unit_filters_count_a_joint_committee_under_each_of_its_units(
    admin_client_staff, tree, activity_types
):
    from tests.conftest import add_record

    joint = Organization.objects.create(
        code="J", name="联合机关党委", kind=OrganizationKind.COMMITTEE, unit=tree.unit_a
    )
    joint.joint_units.add(tree.unit_b)
    joint_branch = Organization.objects.create(
        code="J-1",
        name="联合第一党支部",
        kind=OrganizationKind.BRANCH,
        unit=tree.unit_a,
        parent=joint,
    )
    add_record(joint_branch, activity_types["theme_day"], datetime.date(2026, 1, 10))
    add_record(tree.branch_b, activity_types["theme_day"], datetime.date(2026, 1, 10))

    def codes(name, query, attribute):
        cl = admin_client_staff.get(reverse(name) + query).context["cl"]
        return {attribute(row) for row in cl.queryset}

    organizations = "admin:branches_organization_changelist"
    assert codes(organizations, f"?unit={tree.unit_b.pk}", lambda o: o.code) == {
        "B",
        "B-G",
        "B-1",
        "J",
    }
    records = "admin:branches_activityrecord_changelist"
    assert codes(records, f"?unit={tree.unit_a.pk}", lambda r: r.organization.code) == {"J-1"}
    assert codes(records, f"?organization={joint.pk}", lambda r: r.organization.code) == {"J-1"}
    assert codes(
        records, f"?organization={tree.committee_b.pk}", lambda r: r.organization.code
    ) == {"B-1"}
    # Junk typed into the address bar is no server error.
    assert admin_client_staff.get(reverse(records) + "?organization=x").status_code == 200
    assert codes("admin:branches_member_changelist", "?unit=x", lambda m: m.pk) == set()
