"""The dashboard's endpoints: the shape of each answer, the scope (nothing of another unit or
branch), the branch panel's organization, and the city's cache."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache as django_cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.periods import Period
from dashboard import cache, selectors
from reports.services import build_bulletin

pytestmark = pytest.mark.usefixtures("module_cast", "module_figures")

PANELS = [p for p in selectors.PANELS if p != "branch"]
FIELDS = {
    "compliance": {"months", "ranking"},
    "owed": {"month", "organizations_owing", "by_type", "organizations"},
    "elections": {"overdue", "due_soon", "by_unit"},
    "members": {"total", "age_bands", "youth", "education", "fifty_years", "probationary"},
    "pairings": {"schemes", "help_by_quarter"},
    "evaluations": {"titles", "re_reviews_due"},
    "campaigns": {"targets"},
    "problems": {"open", "overdue", "by_unit"},
    "branch": {"organization", "owed", "attendance", "problems", "visits"},
}


def get(client, panel, **query):
    return client.get(reverse(f"dashboard-{panel}"), query)


@pytest.mark.parametrize("panel", PANELS)
def test_each_panel_answers_with_its_fields(panel, client_for):
    body = get(client_for("staff"), panel).json()
    assert body["scope"] == {"kind": "city", "label": "全市"}
    assert FIELDS[panel] <= set(body)


def test_the_scope_kinds(client_for, cast):
    assert get(client_for("inspector_city"), "members").json()["scope"]["kind"] == "city"
    unit = get(client_for("inspector_a"), "members").json()["scope"]
    assert unit == {"kind": "units", "label": cast.tree.unit_a.name}
    own = get(client_for("secretary_b"), "members").json()["scope"]
    assert own == {"kind": "organization", "label": cast.tree.branch_b.name}


def test_every_drawn_item_links_to_a_portal_page(client_for):
    client = client_for("staff")
    body = {panel: get(client, panel).json() for panel in PANELS}
    assert body["members"]["youth"]["url"] == "/portal/members/?youth=true"
    assert body["members"]["probationary"]["url"] == "/portal/members/?status=probationary"
    assert body["problems"]["overdue_url"] == "/portal/campaigns/problems/?overdue=1"
    for line in body["elections"]["by_unit"]:
        assert f"ledger=overdue_elections&unit={line['unit_id']}" in line["url"]
    for line in body["compliance"]["ranking"]:
        assert f"ledger=compliance&unit={line['unit_id']}&period=" in line["url"]
    for key in ("titles",):
        for item in body["evaluations"][key]:
            assert item["url"] == f"/portal/evaluations/honours/?kind={item['kind']}"
    for panel in body.values():
        for value in panel.values():
            for item in value if isinstance(value, list) else []:
                if isinstance(item, dict) and "url" in item:
                    assert item["url"].startswith("/portal/")
                    assert client.get(item["url"]).status_code == 200, item["url"]


@pytest.mark.parametrize(
    ("role", "outside"),
    [
        ("inspector_a", ["unit_b", "committee_b", "general_b", "branch_b"]),
        ("secretary_a", ["unit_b", "committee_b", "general_b", "branch_b", "branch_a2"]),
        ("secretary_b", ["unit_a", "committee_a", "branch_a", "branch_a2", "group_a"]),
    ],
)
def test_nothing_outside_the_scope(role, outside, client_for, cast, figures):
    client = client_for(role)
    answers = {panel: get(client, panel).json() for panel in PANELS}
    text = json.dumps(answers, ensure_ascii=False)
    tree = cast.tree
    for name in outside:
        obj = getattr(tree, name)
        assert obj.name not in text, (role, name)
    for panel in ("elections", "problems", "compliance"):
        key = "ranking" if panel == "compliance" else "by_unit"
        ids = {line["unit_id"] for line in answers[panel][key]}
        other = tree.unit_b if role != "secretary_b" else tree.unit_a
        assert other.pk not in ids
    other_problem = figures["problem_b"] if role != "secretary_b" else figures["problem_a"]
    assert other_problem.description not in text
    # The totals are the scope's, and the units add up to them.
    problems = answers["problems"]
    assert problems["open"] == sum(u["open"] for u in problems["by_unit"])
    assert problems["open"] == {"inspector_a": 3, "secretary_a": 3, "secretary_b": 1}[role]
    members = answers["members"]["total"]
    assert members == {"inspector_a": 4, "secretary_a": 3, "secretary_b": 2}[role]


def test_the_branch_panel_of_a_secretary(client_for, cast, figures):
    body = get(client_for("secretary_a"), "branch").json()
    tree = cast.tree
    assert body["organization"]["id"] == tree.branch_a.pk
    attendance = {
        a["member"]: (a["attended"], a["expected"], a["rate"]) for a in body["attendance"]
    }
    assert attendance[tree.members["a1"].name] == (1, 1, 1.0)
    assert attendance[tree.members["a2"].name] == (0, 1, 0.0)
    assert attendance[tree.members["a3"].name] == (0, 0, None)
    # branch_a's problems and group_a's (under it), not the accepted one.
    assert body["problems"]["open"] == 3
    assert figures["problem_a"].pk in {p["id"] for p in body["problems"]["items"]}
    visits = body["visits"]
    assert visits["count"] == 2
    assert visits["pairings"][0]["pairing_id"] == figures["pairing_a"].pk
    assert visits["pairings"][0]["last_visit"] == "2026-11-03"
    assert body["owed"]["month"] == Period.containing("month", timezone.localdate()).code


def test_the_branch_panel_of_another_organization_in_scope(client_for, cast):
    tree = cast.tree
    body = get(client_for("inspector_a"), "branch", organization=tree.branch_a2.pk).json()
    assert body["organization"]["name"] == tree.branch_a2.name
    staff = get(client_for("staff"), "branch", organization=tree.branch_b.pk)
    assert staff.json()["organization"]["id"] == tree.branch_b.pk


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "99999999999999999999999", "", "987654"])
def test_an_organization_that_is_not_one_in_scope_is_a_404(value, client_for):
    assert get(client_for("secretary_a"), "branch", organization=value).status_code == 404


def test_another_branch_is_a_404(client_for, cast):
    response = get(client_for("secretary_a"), "branch", organization=cast.tree.branch_b.pk)
    assert response.status_code == 404


def test_no_organization_of_ones_own_is_a_404_in_words(client_for):
    response = get(client_for("inspector_a"), "branch")
    assert response.status_code == 404
    assert "组织" in response.json()["detail"]


# --- the cache ---------------------------------------------------------------------------------


def test_the_city_answer_is_cached_and_a_second_call_makes_no_query(cast):
    staff, today = cast.users["staff"], timezone.localdate()
    first = cache.answer(staff, "members", today, lambda: selectors.members(staff, today))
    with CaptureQueriesContext(connection) as queries:
        again = cache.answer(staff, "members", today, lambda: selectors.members(staff, today))
    assert len(queries) == 0
    assert again == first


def test_the_second_request_reads_the_cache(client_for):
    client = client_for("inspector_city")
    with CaptureQueriesContext(connection) as cold:
        get(client, "compliance")
    with CaptureQueriesContext(connection) as warm:
        get(client, "compliance")
    # The warm request reads only the session and its user.
    assert len(warm) <= 2 < len(cold)


def test_scoped_answers_are_not_cached(client_for):
    client = client_for("inspector_a")
    get(client, "members")
    with CaptureQueriesContext(connection) as again:
        get(client, "members")
    assert len(again) > 2


def test_building_a_bulletin_clears_the_cache(client_for, cast, django_capture_on_commit_callbacks):
    client = client_for("staff")
    month = Period.containing("month", timezone.localdate()).previous()
    before = {m["month"]: m for m in get(client, "compliance").json()["months"]}[month.code]
    assert before["rate"] is None  # no bulletin yet
    with django_capture_on_commit_callbacks(execute=True):
        build_bulletin(month)
    after = {m["month"]: m for m in get(client, "compliance").json()["months"]}[month.code]
    assert after["organizations"] > 0 and after["rate"] is not None
    assert after["url"] == f"/portal/reports/bulletins/{month.code}/"


def test_the_version_survives_an_evicted_key():
    before = cache.version()
    django_cache.delete(cache.VERSION_KEY)
    cache.clear()
    assert cache.version() not in (None, before)


def test_an_evicted_version_never_brings_back_the_answers_of_before_a_bulletin(cast):
    """The cache evicts the version key after a bulletin bumped it: the next version is a new
    number, not the first one again, under which the answers from before the bulletin may
    still be kept."""
    staff, today = cast.users["staff"], timezone.localdate()
    assert cache.answer(staff, "members", today, lambda: {"figures": "before"}) == {
        "figures": "before"
    }
    cache.clear()  # a bulletin was built
    django_cache.delete(cache.VERSION_KEY)  # and the cache then evicted the version
    again = cache.answer(staff, "members", today, lambda: {"figures": "after"})
    assert again == {"figures": "after"}
