"""Portal pages of the organ tree: login, home per role, "my organization", member search."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from branches.models import Organization, OrganizationKind, Term
from tests.conftest import PASSWORD, Client, make_member

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

ENGLISH = {"language": "en"}  # chosen with the language switch


def _years_ago(years: int) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=1)


# --- login / logout ------------------------------------------------------------------------------


def test_login_page_renders_phone_first(db, client):
    response = client.get(reverse("portal:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'href="/static/portal/portal.css"' in html
    assert '<html lang="zh-hans">' in html


def test_pages_follow_the_requested_language(db, client):
    response = client.get(reverse("portal:login"), **ENGLISH)
    assert '<html lang="en">' in response.content.decode()


@pytest.mark.parametrize(
    ("username", "lands_on"),
    [("staff", "/admin/"), ("sec_a", "/portal/"), ("insp_a", "/portal/")],
)
def test_login_sends_each_role_to_its_door(users, username, lands_on):
    response = Client().post(reverse("portal:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == lands_on


def test_login_honours_a_deep_link(tree, secretary_a):
    target = reverse("portal:organization", args=[tree.group_a.pk])
    response = Client().post(
        reverse("portal:login") + f"?next={target}",
        {"username": "sec_a", "password": PASSWORD, "next": target},
    )
    assert response["Location"] == target


def test_login_ignores_an_offsite_next(secretary_a):
    response = Client().post(
        reverse("portal:login"),
        {"username": "sec_a", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/portal/"


def test_login_rejects_a_wrong_password(secretary_a):
    client = Client()
    response = client.post(reverse("portal:login"), {"username": "sec_a", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_logged_in_staff_opening_the_login_page_go_to_the_admin(client_for):
    response = client_for("staff").get(reverse("portal:login"))
    assert response["Location"] == "/admin/"


def test_logout_is_a_post_and_ends_the_session(client_for):
    client = client_for("secretary_a")
    assert client.get(reverse("portal:logout")).status_code == 405
    response = client.post(reverse("portal:logout"))
    assert response["Location"] == reverse("portal:login")
    assert client.get(reverse("portal:members")).status_code == 302


def test_header_shows_the_user_role_and_a_logout_form(tree, client_for):
    response = client_for("secretary_a").get(
        reverse("portal:organization", args=[tree.branch_a.pk]), **ENGLISH
    )
    html = response.content.decode()
    assert "sec_a" in html
    assert "Branch secretary" in html
    assert f'action="{reverse("portal:logout")}"' in html
    assert 'method="post"' in html


# --- home --------------------------------------------------------------------------------------


def test_home_sends_staff_to_the_admin(client_for):
    assert client_for("staff").get(reverse("portal:home"))["Location"] == "/admin/"


def test_home_sends_a_secretary_to_their_organization(tree, client_for):
    response = client_for("secretary_b").get(reverse("portal:home"))
    assert response["Location"] == reverse("portal:organization", args=[tree.branch_b.pk])


def test_home_lists_the_inspectors_units_and_top_organizations(tree, client_for):
    response = client_for("inspector_a").get(reverse("portal:home"))
    (unit,) = response.context["units"]
    assert unit.name == "市统计局"
    assert (unit.organization_count, unit.member_count) == (4, 4)
    assert [o.code for o in unit.top_organizations] == ["A"]
    assert unit.top_organizations[0].member_count == 4
    html = response.content.decode()
    assert "市统计局机关党委" in html
    assert "水务局" not in html


def test_home_for_the_whole_city_shows_each_units_roots_only(tree, client_for):
    response = client_for("inspector_city").get(reverse("portal:home"))
    tops = {u.name: [o.code for o in u.top_organizations] for u in response.context["units"]}
    assert tops == {"市统计局": ["A"], "市水务局": ["B"]}


def test_home_lists_a_joint_committee_under_the_inspectors_own_units_only(tree, client_for):
    """A joint committee spanning unit_a is inspector_a's, listed under unit_a; the other unit
    it spans (unit_b) and that unit's branches are not in inspector_a's scope, and the
    committee's counts are of what inspector_a may see (architecture.md)."""
    tree.committee_b.joint_units.add(tree.unit_a)
    response = client_for("inspector_a").get(reverse("portal:home"))
    tops = {u.name: [o.code for o in u.top_organizations] for u in response.context["units"]}
    assert tops == {"市统计局": ["A", "B"]}
    joint = response.context["units"][0].top_organizations[1]
    assert (joint.member_count, joint.child_count) == (0, 0)
    # The staff see the same committee whole.
    staff_home = client_for("inspector_city").get(reverse("portal:home"))
    tops = {u.name: [o.code for o in u.top_organizations] for u in staff_home.context["units"]}
    assert tops == {"市统计局": ["A", "B"], "市水务局": ["B"]}


def test_home_flags_an_overdue_election(tree, client_for):
    Term.objects.create(organization=tree.committee_a, started_on=_years_ago(6))
    response = client_for("inspector_a").get(reverse("portal:home"))
    assert response.context["units"][0].top_organizations[0].election_overdue is True


def _add_units(n):
    from branches.models import Unit

    for i in range(n):
        unit = Unit.objects.create(name=f"单位{i:02d}", sort_order=10 + i)
        committee = Organization.objects.create(
            code=f"U{i}", name=f"单位{i}党委", kind=OrganizationKind.COMMITTEE, unit=unit
        )
        branch = Organization.objects.create(
            code=f"U{i}-1",
            name=f"单位{i}支部",
            kind=OrganizationKind.BRANCH,
            unit=unit,
            parent=committee,
        )
        make_member(branch, f"U{i}-0001")


@pytest.mark.parametrize("extra_units", [8, 30])
def test_home_costs_the_same_queries_for_one_unit_or_many(
    tree, client_for, inspector_city, django_assert_num_queries, extra_units
):
    _add_units(extra_units)
    client = client_for("inspector_city")
    # 1 session, 2 user, 3 how many units, 4 the page of units, 5 those units with counts,
    # 6 the ids of their top organizations, 7 those with counts and current term, 8 their
    # joint units (prefetch).
    with django_assert_num_queries(8):
        response = client.get(reverse("portal:home"))
    assert len(response.context["units"]) == min(2 + extra_units, 20)


def test_home_pages_through_units_and_finds_one_by_name(tree, client_for):
    _add_units(30)
    client = client_for("inspector_city")
    first_page = client.get(reverse("portal:home"))
    assert 'href="?page=2"' in first_page.content.decode()  # the pager
    first = first_page.context["units"]
    second = client.get(reverse("portal:home"), {"page": 2}).context["units"]
    assert [u.name for u in first][:2] == ["市统计局", "市水务局"]
    assert len(first) == 20 and len(second) == 12
    assert not {u.pk for u in first} & {u.pk for u in second}
    assert all(len(u.top_organizations) == 1 and u.member_count == 1 for u in second)

    found = client.get(reverse("portal:home"), {"q": "水务"})
    assert [u.name for u in found.context["units"]] == ["市水务局"]
    assert found.context["units"][0].member_count == 2
    nothing = client.get(reverse("portal:home"), {"q": "没有这个单位", "page": "abc"})
    assert nothing.status_code == 200
    assert "没有" in nothing.content.decode() and not nothing.context["units"]


def test_a_unit_inspector_finds_only_their_units(tree, client_for):
    _add_units(3)
    response = client_for("inspector_a").get(reverse("portal:home"), {"q": "单位"})
    assert response.status_code == 200 and not response.context["units"]


# --- my organization ---------------------------------------------------------------------------


def test_branch_page_shows_facts_and_the_roster(tree, client_for):
    tree.branch_a.secretary = tree.members["a1"]
    tree.branch_a.founded_on = datetime.date(1999, 7, 1)
    tree.branch_a.save()
    response = client_for("secretary_a").get(
        reverse("portal:organization", args=[tree.branch_a.pk])
    )
    assert response.status_code == 200
    html = response.content.decode()
    for text in ["统计局第一党支部", "市统计局", "1999-07-01", "张伟", "王芳", "李娜"]:
        assert text in html
    assert "刘洋" not in html  # branch_a2
    assert "陈静" not in html  # branch_b
    members = response.context["members"]
    # Officers first: the secretary heads the roster.
    assert [m.member_no for m in members] == ["A0001", "A0002", "A0003"]
    assert response.context["summary"] == {
        "total": 3,
        "full": 2,
        "probationary": 1,
        "youth": 0,
        "women": 2,
        "college": 3,
    }


def test_branch_page_lists_its_groups_with_member_counts(tree, client_for):
    response = client_for("secretary_a").get(
        reverse("portal:organization", args=[tree.branch_a.pk])
    )
    (group,) = response.context["children"]
    assert (group.code, group.member_count) == ("A-1-1", 2)
    assert reverse("portal:organization", args=[tree.group_a.pk]) in response.content.decode()


def test_group_page_shows_only_the_group_members(tree, client_for):
    response = client_for("secretary_a").get(reverse("portal:organization", args=[tree.group_a.pk]))
    assert [m.member_no for m in response.context["members"]] == ["A0001", "A0002"]


def test_committee_page_has_sub_organizations_and_no_roster(tree, client_for):
    response = client_for("inspector_a").get(
        reverse("portal:organization", args=[tree.committee_a.pk])
    )
    assert response.context["members"] is None
    assert {(c.code, c.member_count) for c in response.context["children"]} == {
        ("A-1", 3),
        ("A-2", 1),
    }
    assert response.context["organization"].member_count == 4


def test_roster_marks_youth_and_probationary_members(tree, client_for):
    make_member(tree.branch_a, "A0009", "赵青", birth_date=_years_ago(25), position="科员")
    response = client_for("secretary_a").get(
        reverse("portal:organization", args=[tree.branch_a.pk]), **ENGLISH
    )
    youth = [m.member_no for m in response.context["members"] if m.is_youth]
    assert youth == ["A0009"]
    html = response.content.decode()
    assert html.count('class="badge badge--youth"') == 1
    assert "科员" in html
    assert "Probationary member" in html


def test_organization_page_flags_an_overdue_election(tree, client_for):
    Term.objects.create(organization=tree.branch_a, started_on=_years_ago(4))
    response = client_for("secretary_a").get(
        reverse("portal:organization", args=[tree.branch_a.pk])
    )
    assert response.context["election_overdue"] is True
    assert 'data-flag="overdue"' in response.content.decode()


def test_organization_page_shows_a_current_term_in_order(tree, client_for):
    term = Term.objects.create(organization=tree.branch_a, started_on=_years_ago(1))
    response = client_for("secretary_a").get(
        reverse("portal:organization", args=[tree.branch_a.pk])
    )
    assert response.context["organization"].election_due_on == term.due_on
    assert response.context["election_overdue"] is False
    html = response.content.decode()
    assert term.due_on.strftime("%Y-%m-%d") in html
    assert 'data-flag="overdue"' not in html


def test_organization_page_warns_when_a_branch_breaks_the_rules(tree, client_for):
    # branch_a: 2 full members and no recorded secretary.
    response = client_for("secretary_a").get(
        reverse("portal:organization", args=[tree.branch_a.pk]), **ENGLISH
    )
    html = response.content.decode()
    assert "Fewer than 3 full members (has 2)" in html
    assert "No secretary recorded." in html


def test_a_branch_in_order_has_no_warnings(tree, client_for):
    make_member(tree.branch_a, "A0004", "周强")
    tree.branch_a.secretary = tree.members["a1"]
    tree.branch_a.save()
    response = client_for("secretary_a").get(
        reverse("portal:organization", args=[tree.branch_a.pk])
    )
    assert response.context["warnings"] == []
    assert 'id="warnings-title"' not in response.content.decode()


def test_parent_is_linked_only_when_the_user_may_open_it(tree, client_for):
    url = reverse("portal:organization", args=[tree.branch_a.pk])
    parent_url = reverse("portal:organization", args=[tree.committee_a.pk])
    assert parent_url not in client_for("secretary_a").get(url).content.decode()
    assert parent_url in client_for("inspector_a").get(url).content.decode()


@pytest.mark.parametrize("extra_members", [5, 40])
def test_branch_page_costs_the_same_queries_however_big(
    tree, client_for, django_assert_num_queries, extra_members
):
    for i in range(extra_members):
        make_member(tree.branch_a, f"X{i:04d}", f"成员{i}", group=tree.group_a if i % 2 else None)
    for i in range(extra_members // 5):
        Organization.objects.create(
            code=f"A-1-G{i}",
            name=f"小组{i}",
            kind=OrganizationKind.GROUP,
            unit=tree.unit_a,
            parent=tree.branch_a,
        )
    client = client_for("secretary_a")
    url = reverse("portal:organization", args=[tree.branch_a.pk])
    # 1 session, 2 user, 3 the organization (counts, term, parent visibility as subqueries),
    # 4 its joint units (prefetch), 5 sub-organizations with counts, 6 the roster with groups,
    # 7-12 the "still to hold" card: compliance.what_we_still_owe runs the engine's six
    # queries (organizations, groups, rules, committee sizes, record counts, terms) once, for
    # the year, and slices out the month and the quarter, 13 may the secretary file here,
    # 14 the activity types (to link each owed type to the filing form), 15 the first overdue
    # problems of the secretary's scope (their own organization is their home).
    with django_assert_num_queries(15):
        response = client.get(url)
    assert len(response.context["members"]) == 3 + extra_members


@pytest.mark.parametrize("extra_branches", [5, 40])
def test_committee_page_costs_the_same_queries_however_many_children(
    tree, client_for, django_assert_num_queries, extra_branches
):
    for i in range(extra_branches):
        branch = Organization.objects.create(
            code=f"A-X{i}",
            name=f"支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
        make_member(branch, f"AX{i:04d}")
    client = client_for("inspector_a")
    # 1 session, 2 user, 3 the organization, 4 joint units, 5 sub-organizations (no roster),
    # 6 and 7 whether anything hidden lies under what the inspector sees, for each of the two.
    with django_assert_num_queries(7):
        response = client.get(reverse("portal:organization", args=[tree.committee_a.pk]))
    assert len(response.context["children"]) == 2 + extra_branches


# --- member search -----------------------------------------------------------------------------


def _found(response) -> set[str]:
    return {m.member_no for m in response.context["page"].object_list}


def test_member_search_by_name_or_number(tree, client_for):
    client = client_for("inspector_city")
    assert _found(client.get(reverse("portal:members"), {"q": "王"})) == {"A0002"}
    assert _found(client.get(reverse("portal:members"), {"q": "b0002"})) == {"B0002"}


def test_member_search_by_organization_takes_the_subtree(tree, client_for):
    client = client_for("inspector_city")
    url = reverse("portal:members")
    assert _found(client.get(url, {"organization": tree.committee_a.pk})) == {
        "A0001",
        "A0002",
        "A0003",
        "A0101",
    }
    assert _found(client.get(url, {"organization": tree.group_a.pk})) == {"A0001", "A0002"}


def test_member_search_by_status_and_youth(tree, client_for):
    make_member(tree.branch_a, "A0009", "赵青", birth_date=_years_ago(25))
    client = client_for("secretary_a")
    url = reverse("portal:members")
    assert _found(client.get(url, {"status": "probationary"})) == {"A0003"}
    assert _found(client.get(url, {"youth": "true"})) == {"A0009"}
    assert _found(client.get(url, {"youth": "false"})) == {"A0001", "A0002", "A0003"}


def test_member_search_does_not_find_outsiders(tree, client_for):
    response = client_for("secretary_a").get(reverse("portal:members"), {"q": "陈静"})
    assert _found(response) == set()
    assert response.content.decode().count("陈静") == 1  # only the echo in the search box


def test_member_search_pages_keep_the_filters(tree, client_for):
    for i in range(55):
        make_member(tree.branch_a, f"P{i:04d}", f"检索{i}")
    response = client_for("secretary_a").get(reverse("portal:members"), {"q": "检索"})
    assert response.context["page"].paginator.count == 55
    assert len(response.context["page"].object_list) == 50
    assert "?q=%E6%A3%80%E7%B4%A2&amp;page=2" in response.content.decode()


@pytest.mark.parametrize("extra_members", [5, 40])
def test_member_search_costs_the_same_queries_however_many(
    tree, client_for, django_assert_num_queries, extra_members
):
    for i in range(extra_members):
        make_member(tree.branch_a, f"X{i:04d}", group=tree.group_a if i % 2 else None)
    client = client_for("secretary_a")
    # 1 session, 2 user, 3 count, 4 the organization picker, 5 the page with branch, unit, group.
    with django_assert_num_queries(5):
        response = client.get(reverse("portal:members"))
    assert response.context["page"].paginator.count == 3 + extra_members
