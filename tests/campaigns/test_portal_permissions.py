"""Who may open what in the campaigns portal: every page and form, for every role.

One row per (method, URL, target, data) with the status each role must get, in the format of
tests/pairings/test_portal_permissions.py (`MATRIX`, read by tests/test_access.py). Outsiders
get 404, never 403, so a page does not confirm that a problem exists; a user who sees a problem
but may not move it gets 403 (the responsible organization answers, the group that found it
accepts or sends it back); anonymous visitors are sent to the login page.

The problems, per organization: `branch_a` (secretary_a's) and `branch_a2` (unit_a, not in
secretary_a's scope), both found by the first group (inspector_a in it, unit_a), and `branch_b`
(secretary_b's, unit_b), recorded by staff without a group. Each organization has an open
problem and one answered with a photo (submitted). A theme-day campaign, a theme-day record of
branch_a and of branch_b in its month, and a notice for secretary_a. Built once for the module
(`module_cast`, tests/conftest.py); every row runs in its own savepoint, rolled back after it,
so what a row writes never reaches the next.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notice
from campaigns import services
from campaigns.models import (
    Campaign,
    CampaignActivity,
    CampaignKind,
    InspectionGroup,
    Participation,
    Problem,
    ProblemEvent,
)
from campaigns.services import ProblemInput
from tests.conftest import add_record

pytestmark = pytest.mark.usefixtures("module_cast")

ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city", "anonymous")
MISSING_PK = 987654
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def today() -> datetime.date:
    return timezone.localdate()


def statuses(staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous):
    """Expected status per role, positionally in the order of ROLES, so no role is forgotten."""
    return dict(
        zip(
            ROLES,
            (staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous),
            strict=True,
        )
    )


# Who sees the problems of each organization (and their photos):
#                staff sec_a sec_b insp_a city
SEEN_BY = {
    "branch_a": (200, 200, 404, 200, 200),
    "branch_a2": (200, 404, 404, 200, 200),
    "branch_b": (200, 404, 200, 404, 200),
    "missing": (404, 404, 404, 404, 404),
}
OWNERS = list(SEEN_BY)
# Who answers (problem.answer): staff, and the secretaries whose scope holds the organization.
ANSWERS = {
    "branch_a": (True, True, False, False, False),
    "branch_a2": (True, False, False, False, False),
    "branch_b": (True, False, True, False, False),
    "missing": (False,) * 5,
}
# Who accepts or sends back (problem.accept): staff, and the members of the group that found it
# (inspector_a, for branch_a and branch_a2; branch_b's has no group).
ACCEPTS = {
    "branch_a": (True, False, False, True, False),
    "branch_a2": (True, False, False, True, False),
    "branch_b": (True, False, False, False, False),
    "missing": (False,) * 5,
}


def reads(owner: str) -> dict[str, int]:
    return statuses(*SEEN_BY[owner], anonymous=302)


def moves(owner: str, who: dict, ok: int) -> dict[str, int]:
    """`ok` for those who may, 403 for those who see the problem but may not, else 404."""
    return statuses(
        *(
            ok if may else (403 if seen == 200 else 404)
            for seen, may in zip(SEEN_BY[owner], who[owner], strict=True)
        ),
        anonymous=302,
    )


PORTAL = statuses(200, 200, 200, 200, 200, 302)
NO_METHOD = statuses(405, 405, 405, 405, 405, 302)
# Recording a problem: staff and inspectors; secretaries are refused.
RECORDERS = statuses(200, 403, 403, 200, 200, 302)
# Filing participation: staff and secretaries; inspectors are refused.
FILERS = statuses(200, 200, 200, 403, 403, 302)
MISSING = statuses(404, 404, 404, 404, 404, 302)

TODAY = timezone.localdate()
# A value "@key" is replaced by the module's object of that key (its primary key).
PROBLEM = {
    "organization": "@org:branch_a",
    "group": "@group",
    "category": "组织生活",
    "description": "三会一课记录不全",
    "severity": "normal",
    "found_on": (TODAY - datetime.timedelta(days=1)).isoformat(),
    "deadline": (TODAY + datetime.timedelta(days=30)).isoformat(),
}
ANSWER = {"measures": "补齐记录"}
SEND_BACK = {"reason": "佐证材料不足"}
ACCEPT = {"note": "整改到位"}
PARTICIPATION = {
    "organization": "@org:branch_a",
    "members": "5",
    "money": "100.00",
    "goods-TOTAL_FORMS": "3",
    "goods-INITIAL_FORMS": "0",
}

# (method, url name, target, data, {role: status}); target is "kind:owner" ("open:branch_a",
# "submitted:branch_b", "photo:branch_a2", "campaign:theme", "open:missing") or None.
MATRIX: list[tuple[str, str, str | None, dict | None, dict[str, int]]] = [
    # --- problems: reads
    ("get", "portal:problems", None, None, PORTAL),
    ("get", "portal:problems", None, {"state": "nope", "overdue": "x", "page": "-1"}, PORTAL),
    *[("get", "portal:problem", f"open:{o}", None, reads(o)) for o in OWNERS],
    *[("get", "portal:problem", f"submitted:{o}", None, reads(o)) for o in OWNERS],
    *[("get", "portal:problem_photo", f"photo:{o}", None, reads(o)) for o in OWNERS],
    ("post", "portal:problems", None, None, NO_METHOD),
    ("post", "portal:problem", "open:branch_a", None, NO_METHOD),
    ("post", "portal:problem_photo", "photo:branch_a", None, NO_METHOD),
    # --- the responsible organization: start, answer (empty: the form again)
    *[("post", "portal:problem_start", f"open:{o}", None, moves(o, ANSWERS, 302)) for o in OWNERS],
    *[("post", "portal:problem_answer", f"open:{o}", None, moves(o, ANSWERS, 200)) for o in OWNERS],
    *[
        ("post", "portal:problem_answer", f"open:{o}", ANSWER, moves(o, ANSWERS, 302))
        for o in OWNERS
    ],
    ("get", "portal:problem_start", "open:branch_a", None, NO_METHOD),
    ("get", "portal:problem_answer", "open:branch_a", None, NO_METHOD),
    # --- the inspection group: accept, send back (no reason: the form again)
    *[
        ("post", "portal:problem_accept", f"submitted:{o}", ACCEPT, moves(o, ACCEPTS, 302))
        for o in OWNERS
    ],
    *[
        ("post", "portal:problem_send_back", f"submitted:{o}", None, moves(o, ACCEPTS, 200))
        for o in OWNERS
    ],
    *[
        ("post", "portal:problem_send_back", f"submitted:{o}", SEND_BACK, moves(o, ACCEPTS, 302))
        for o in OWNERS
    ],
    ("get", "portal:problem_accept", "submitted:branch_a", None, NO_METHOD),
    ("get", "portal:problem_send_back", "submitted:branch_a", None, NO_METHOD),
    # --- recording a problem (inspector_city is in no group: the form again)
    ("get", "portal:problem_new", None, None, RECORDERS),
    ("post", "portal:problem_new", None, None, RECORDERS),
    ("post", "portal:problem_new", None, PROBLEM, statuses(302, 403, 403, 302, 200, 302)),
    ("put", "portal:problem_new", None, None, NO_METHOD),
    # --- campaigns
    ("get", "portal:campaigns", None, None, PORTAL),
    ("get", "portal:campaigns", None, {"page": "abc"}, PORTAL),
    ("get", "portal:campaign", "campaign:inspection", None, PORTAL),
    ("get", "portal:campaign", "campaign:theme", None, PORTAL),
    ("get", "portal:campaign", "campaign:missing", None, MISSING),
    ("post", "portal:campaigns", None, None, NO_METHOD),
    ("post", "portal:campaign", "campaign:theme", None, NO_METHOD),
    # --- participation: the form, an empty POST (the form again), a filing (secretary_b may
    # not file for branch_a: not a choice, the form again)
    ("get", "portal:participation", "campaign:theme", None, FILERS),
    ("get", "portal:participation", "campaign:missing", None, MISSING),
    ("post", "portal:participation", "campaign:theme", None, FILERS),
    (
        "post",
        "portal:participation",
        "campaign:theme",
        PARTICIPATION,
        statuses(302, 302, 200, 403, 403, 302),
    ),
    ("put", "portal:participation", "campaign:theme", None, NO_METHOD),
    # --- a theme day counted for the campaign with one click
    (
        "post",
        "portal:campaign_tag",
        "campaign:theme",
        {"record": "@record:branch_a"},
        statuses(302, 302, 404, 403, 403, 302),
    ),
    (
        "post",
        "portal:campaign_tag",
        "campaign:theme",
        {"record": "@record:branch_b"},
        statuses(302, 404, 302, 404, 403, 302),
    ),
    ("post", "portal:campaign_tag", "campaign:theme", None, MISSING),
    ("post", "portal:campaign_tag", "campaign:missing", {"record": "@record:branch_a"}, MISSING),
    ("get", "portal:campaign_tag", "campaign:theme", None, NO_METHOD),
    # --- notices: one's own only
    ("get", "portal:notices", None, None, PORTAL),
    ("get", "portal:notices_unread", None, None, PORTAL),
    ("post", "portal:notices_read", None, {"all": "1"}, statuses(302, 302, 302, 302, 302, 302)),
    (
        "post",
        "portal:notices_read",
        None,
        {"notice": "@notice:secretary_a"},
        statuses(404, 302, 404, 404, 404, 302),
    ),
    ("post", "portal:notices", None, None, NO_METHOD),
    ("post", "portal:notices_unread", None, None, NO_METHOD),
    ("get", "portal:notices_read", None, None, NO_METHOD),
]
TABLE = [
    (method, name, target, data, role, expected[role])
    for method, name, target, data, expected in MATRIX
    for role in ROLES
]


@pytest.fixture(scope="module")
def module_objects(module_cast, django_db_blocker):
    """The problems, photos, campaigns, records and notice: built once, in the module's
    transaction (the photos in its temporary MEDIA_ROOT)."""
    tree, users = module_cast.tree, module_cast.users
    theme_day = module_cast.activity_types["theme_day"]
    found_on = today() - datetime.timedelta(days=5)
    with django_db_blocker.unblock():
        inspection = Campaign.objects.create(
            name="基层党建专项检查",
            kind=CampaignKind.INSPECTION,
            starts_on=today() - datetime.timedelta(days=60),
            ends_on=today() + datetime.timedelta(days=60),
        )
        theme = Campaign.objects.create(
            name="献爱心主题党日",
            kind=CampaignKind.THEME_DAY,
            starts_on=today() - datetime.timedelta(days=60),
            ends_on=today() + datetime.timedelta(days=60),
            topic="献爱心",
            theme_month=today(),
        )
        group = InspectionGroup.objects.create(campaign=inspection, name="第一督导组")
        group.members.add(users["inspector_a"])
        group.units.add(tree.unit_a)
        found = {
            "campaign:inspection": inspection.pk,
            "campaign:theme": theme.pk,
            "group": group.pk,
        }
        for owner in ("branch_a", "branch_a2", "branch_b"):
            organization = getattr(tree, owner)
            by = users["staff"] if owner == "branch_b" else users["inspector_a"]
            problems = {}
            for kind in ("open", "submitted"):
                problems[kind] = services.record_problem(
                    by,
                    ProblemInput(
                        organization=organization,
                        category="组织生活",
                        description=f"{owner}的问题",
                        found_on=found_on,
                        deadline=found_on + datetime.timedelta(days=30),
                        group=None if owner == "branch_b" else group,
                    ),
                )
            answer = services.answer_problem(
                users["staff"],
                problems["submitted"],
                "整改",
                photos=[SimpleUploadedFile("整改.png", PNG, content_type="image/png")],
            )
            record = add_record(organization, theme_day, today(), topic="献爱心")
            found.update(
                {
                    f"org:{owner}": organization.pk,
                    f"open:{owner}": problems["open"].pk,
                    f"submitted:{owner}": problems["submitted"].pk,
                    f"photo:{owner}": answer.photos.get().pk,
                    f"record:{owner}": record.pk,
                }
            )
        notice = Notice.objects.create(
            user=users["secretary_a"], kind="problem_overdue", key="1", text="整改逾期"
        )
        found["notice:secretary_a"] = notice.pk
    return found


@pytest.fixture
def objects(module_objects, db):
    return dict(module_objects)


def _url(objects, name, target) -> str:
    if target is None:
        return reverse(name)
    return reverse(name, args=[objects.get(target, MISSING_PK)])


def _data(objects, data: dict | None) -> dict:
    return {
        key: objects[value[1:]] if isinstance(value, str) and value.startswith("@") else value
        for key, value in (data or {}).items()
    }


def test_the_table_covers_every_role_of_every_row():
    assert len(TABLE) == len(MATRIX) * len(ROLES)
    assert all(set(expected) == set(ROLES) for *_, expected in MATRIX)


def test_the_table_covers_every_route_of_the_app():
    from campaigns.urls import urlpatterns

    assert {f"portal:{p.name}" for p in urlpatterns} == {row[1] for row in MATRIX}


@pytest.mark.parametrize(
    ("method", "name", "target", "data", "role", "expected"),
    TABLE,
    ids=[
        f"{m.upper()} {n}[{t or ''}]{'+data' if d else ''} as {r} -> {e}"
        for m, n, t, d, r, e in TABLE
    ],
)
def test_permission(objects, client_for, method, name, target, data, role, expected):
    client = client_for(role)
    address = _url(objects, name, target)
    response = getattr(client, method)(address, _data(objects, data))
    assert response.status_code == expected, (method, address, role)
    if role == "anonymous" and expected == 302:
        assert response["Location"].startswith(reverse("portal:login") + "?next=")
    elif expected == 302:  # a form taken: back to a page of the portal
        assert response["Location"].startswith("/portal/campaigns/")
    elif expected == 403:  # the reason, in Chinese
        page = response.content.decode()
        assert "只有" in page or "不能" in page, page


@pytest.mark.parametrize("role", ["secretary_b", "inspector_city"])
def test_refused_moves_leave_the_problem_alone(objects, client_for, role):
    client = client_for(role)
    before = (ProblemEvent.objects.count(), list(Problem.objects.values_list("pk", "state")))
    for kind, name, data in [
        ("open", "portal:problem_start", {}),
        ("open", "portal:problem_answer", ANSWER),
        ("submitted", "portal:problem_accept", ACCEPT),
        ("submitted", "portal:problem_send_back", SEND_BACK),
    ]:
        client.post(reverse(name, args=[objects[f"{kind}:branch_a"]]), data)
    client.post(
        reverse("portal:campaign_tag", args=[objects["campaign:theme"]]),
        {"record": objects["record:branch_a"]},
    )
    client.post(
        reverse("portal:participation", args=[objects["campaign:theme"]]),
        _data(objects, PARTICIPATION),
    )
    after = (ProblemEvent.objects.count(), list(Problem.objects.values_list("pk", "state")))
    assert after == before
    assert not CampaignActivity.objects.exists() and not Participation.objects.exists()
