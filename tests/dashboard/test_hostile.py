"""The dashboard's endpoints under hostile input: odd ids, format suffixes, unknown
parameters, every role, tokens and inactive users; never a server error, outside the scope a
404 in words, nothing of another scope in any panel, and the city's cache served to the city
alone and in the language it was asked in."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from accounts.models import Role, User
from branches.models import Term
from dashboard import selectors
from tests.conftest import STANDING_ROLES, add_joint_committee, make_member
from tests.dashboard.conftest import D, add_problem, add_title

pytestmark = pytest.mark.usefixtures("module_cast", "module_figures")

PANELS = [p for p in selectors.PANELS if p != "branch"]
ROLES = (*STANDING_ROLES, "anonymous")

ODD_IDS = [
    "0",
    "-1",
    "1.5",
    "1e3",
    "+1",
    " 1",
    "０",  # a full-width digit: isdecimal, not an id
    "١",  # an Arabic-Indic digit
    "99999999999999999999",
    "9223372036854775808",
    "abc",
    "",
    "1;DROP TABLE x",
    "%s",
    "' OR 1=1 --",
    "x" * 5000,
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("value", ODD_IDS)
def test_an_odd_organization_is_a_404_in_words_for_every_role(role, value, client_for):
    response = client_for(role).get("/api/dashboard/branch/", {"organization": value})
    if role == "anonymous":
        assert response.status_code == 403
        return
    assert response.status_code == 404
    assert response.json()["detail"] == "您的范围内没有这个组织。"


@pytest.mark.parametrize("role", STANDING_ROLES)
def test_nul_characters_and_arrays_are_never_a_server_error(role, client_for, cast):
    client = client_for(role)
    own = cast.tree.branch_a.pk
    for query in (
        {"organization": "\x00"},
        {"organization": f"{own}\x00"},
        {"organization\x00": "1"},
        {"organization[]": [own]},
        {"organization": [cast.tree.branch_b.pk, own]},  # the last one is read
    ):
        response = client.get("/api/dashboard/branch/", query)
        assert response.status_code in (200, 400, 404), (query, response.status_code)
        if response.status_code != 200:
            assert response.json()["detail"]


@pytest.mark.parametrize("role", STANDING_ROLES)
@pytest.mark.parametrize(
    "suffix", [".json", ".api", ".xml", ".csv", "/?format=api", "/?format=xml", "/?unknown=1"]
)
def test_format_suffixes_and_unknown_parameters(role, suffix, client_for):
    client = client_for(role)
    for panel in selectors.PANELS:
        response = client.get(f"/api/dashboard/{panel}{suffix}")
        assert response.status_code in (200, 404), (panel, response.status_code)
        if suffix in (".xml", ".csv", "/?format=xml"):
            assert response.status_code == 404


def test_a_token_of_an_inactive_user_opens_nothing(cast):
    user = cast.users["secretary_a"]
    token = Token.objects.create(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/dashboard/branch/").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    for panel in selectors.PANELS:
        response = client.get(f"/api/dashboard/{panel}/")
        assert response.status_code in (401, 403)
        assert "未激活" in response.json()["detail"]


@pytest.mark.parametrize("role", ["staff", "inspector_city", "secretary_a"])
def test_an_inactive_users_session_opens_nothing(role, client_for, cast):
    client = client_for(role)
    User.objects.filter(pk=cast.users[role].pk).update(is_active=False)
    for panel in selectors.PANELS:
        assert client.get(f"/api/dashboard/{panel}/").status_code == 403


def test_the_inspector_of_one_unit_of_a_joint_committee_learns_nothing_of_the_others(
    client_for, cast
):
    """inspector_a (unit_a) sees committee_a, a joint committee also spanning unit_c, but not
    unit_c, its branch, its members, its problems or its titles; unit_c's inspector sees the
    committee and their own branch, nothing of unit_a's."""
    tree = cast.tree
    unit_c, branch_c = add_joint_committee(tree)
    make_member(branch_c, "C0001", "赵调查")
    secret_problem = add_problem(branch_c, D(2026, 10, 1), description="调查队的问题")
    add_title(branch_c)
    Term.objects.create(organization=branch_c, started_on=D(2020, 1, 1))
    inspector_c = User.objects.create(username="insp_c", role=Role.INSPECTOR)
    inspector_c.units.add(unit_c)
    client_c = Client()
    client_c.force_login(inspector_c)

    cases = [
        (client_for("inspector_a"), [unit_c, branch_c], secret_problem.pk, ["赵调查"]),
        (
            client_c,
            [tree.unit_a, tree.branch_a, tree.branch_a2, tree.unit_b, tree.branch_b],
            None,
            ["张伟", "王芳", "问题甲", "问题乙"],
        ),
    ]
    for client, hidden, hidden_problem, words in cases:
        answers = {p: client.get(f"/api/dashboard/{p}/").json() for p in PANELS}
        answers["branch"] = client.get(
            "/api/dashboard/branch/", {"organization": tree.committee_a.pk}
        ).json()
        text = json.dumps(answers, ensure_ascii=False)
        for obj in hidden:
            if hasattr(obj, "kind"):  # an organization (a unit's name is in the committee's)
                assert obj.name not in text, obj
                assert f"/organizations/{obj.pk}/" not in text
        for word in words:
            assert word not in text
        units = {
            line["unit_id"]
            for panel, key in (("elections", "by_unit"), ("problems", "by_unit"))
            for line in answers[panel][key]
        } | {line["unit_id"] for line in answers["compliance"]["ranking"]}
        assert not units & {o.pk for o in hidden if o in (unit_c, tree.unit_a, tree.unit_b)}
        if hidden_problem is not None:
            assert f"/problems/{hidden_problem}/" not in text
            problem_ids = {p["id"] for p in answers["branch"]["problems"]["items"]}
            assert hidden_problem not in problem_ids
        # and their branch panels of the other units' branches are a 404
        for obj in hidden:
            if hasattr(obj, "kind"):
                response = client.get("/api/dashboard/branch/", {"organization": obj.pk})
                assert response.status_code == 404


@pytest.mark.parametrize("panel", PANELS)
def test_the_city_cache_is_never_served_to_a_scope_nor_in_another_language(panel, client_for):
    city = client_for("staff").get(f"/api/dashboard/{panel}/").json()  # cached now
    assert city["scope"]["label"] == "全市"
    english = client_for("inspector_city").get(f"/api/dashboard/{panel}/", language="en")
    assert english.json()["scope"]["label"] == "The whole city"
    again = client_for("staff").get(f"/api/dashboard/{panel}/").json()
    assert again["scope"]["label"] == "全市"
    for role in ("inspector_a", "secretary_a", "secretary_b"):
        scoped = client_for(role).get(f"/api/dashboard/{panel}/").json()
        assert scoped["scope"]["kind"] != "city"


def test_the_cache_key_holds_no_text_of_the_client(client_for, cast, monkeypatch):
    from dashboard import cache

    keys = []
    real = cache.key

    def recording(*args):
        made = real(*args)
        keys.append(made)
        return made

    monkeypatch.setattr(cache, "key", recording)
    client = client_for("staff")
    client.get("/api/dashboard/branch/", {"organization": f"000{cast.tree.branch_a.pk}"})
    client.get("/api/dashboard/owed/?x=evil%20key&organization=abc", language="en")
    assert keys and all(" " not in k and "evil" not in k and "000" not in k for k in keys)
    assert any(k.endswith(f":{cast.tree.branch_a.pk}") for k in keys)
