"""Who may open what in the campaigns API: every route, for every role.

One row per (method, URL name, target, data) with the status each role must get (the format of
tests/pairings/test_api_permissions.py). Reads follow the scope: an object of branch_a is seen
by staff, secretary_a, inspector_a and the city-wide inspector, one of branch_b by staff,
secretary_b and the city-wide inspector; anything else is a 404, never a 403. Campaigns are
read by everybody who may log in; inspection groups and their visits by staff and the group's
members; key tasks by the owners of their measures.

Writes: participation and tagging by staff and the secretaries in scope (another branch's row
is a 404 in the path, "does not exist" (400) in a body; inspectors 403 before any lookup);
problems recorded by staff and inspectors (secretaries 403); a problem is moved towards
acceptance by its organization's secretary (inspectors 403) and accepted or sent back by the
group that found it (secretaries 403; an inspector who sees it but is not in the group 403);
annual reports assessed by staff only. Anonymous visitors get a 403 from the API.

The cast and the objects are built once for the module (`module_cast`); every row runs in its
own savepoint, rolled back after it, so what a row writes never reaches the next.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver, reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import (
    AnnualReport,
    Campaign,
    CampaignKind,
    InspectionGroup,
    KeyMeasure,
    KeyTask,
    VisitLog,
    VisitMethod,
)
from campaigns.services import ParticipationInput, ProblemInput
from tests import access_coverage
from tests.conftest import add_record

pytestmark = pytest.mark.usefixtures("module_cast")

ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city", "anonymous")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def statuses(staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous):
    """Expected status per role, positionally in the order of ROLES, so no role is forgotten."""
    return dict(
        zip(
            ROLES,
            (staff, secretary_a, secretary_b, inspector_a, inspector_city, anonymous),
            strict=True,
        )
    )


API = statuses(200, 200, 200, 200, 200, 403)
API_BAD = statuses(400, 400, 400, 400, 400, 403)
API_NOT_FOUND = statuses(404, 404, 404, 404, 404, 403)
API_NO_METHOD = statuses(405, 405, 405, 405, 405, 403)
#                          staff sec_a sec_b insp_a city anonymous
SEEN_A = statuses(200, 200, 404, 200, 200, 403)  # an object of branch_a
SEEN_B = statuses(200, 404, 200, 404, 200, 403)  # an object of branch_b
GROUP_1 = statuses(200, 404, 404, 200, 404, 403)  # inspector_a's group (and its visits)
STAFF_SEES = statuses(200, 404, 404, 404, 404, 403)  # a group nobody else is in
CITY_SEES = statuses(200, 404, 404, 404, 200, 403)  # a key task without measures


def staff_only(ok: int) -> dict[str, int]:
    """campaign.manage: staff; everybody else is refused before any lookup."""
    return statuses(ok, 403, 403, 403, 403, 403)


def participate_on_a(ok: int, other: int = 404) -> dict[str, int]:
    """campaign.participate (and problem.answer) on branch_a's: staff and secretary_a;
    secretary_b gets `other` (404 in a path, 400 "does not exist" in a body); inspectors and
    anonymous 403 before any lookup."""
    return statuses(ok, ok, other, 403, 403, 403)


def participate_on_b(ok: int, other: int = 404) -> dict[str, int]:
    return statuses(ok, other, ok, 403, 403, 403)


def accept_on_a(ok: int) -> dict[str, int]:
    """problem.accept on a problem of branch_a found by inspector_a's group: staff and
    inspector_a; secretaries 403 before any lookup; the city-wide inspector sees it but is
    not in the group (403)."""
    return statuses(ok, 403, 403, ok, 403, 403)


PARTICIPATE_NO_METHOD = statuses(405, 405, 405, 403, 403, 403)
RECORD_NO_METHOD = statuses(405, 403, 403, 405, 405, 403)  # inspection.record_problem
MANAGE_NO_METHOD = staff_only(405)
ANSWER_MISSING = statuses(404, 404, 404, 403, 403, 403)
ACCEPT_MISSING = statuses(404, 403, 403, 404, 404, 403)

# Bodies: "@target" is replaced by the id of that object of the module.
PARTICIPATION_A = {
    "campaign": "@campaign:theme",
    "organization": "@organization:a",
    "members": 5,
    "money": "100.50",
    "goods": [{"item": "棉被", "quantity": "2", "unit_of_measure": "床", "value": "200"}],
}
PARTICIPATION_GROUP_A = {**PARTICIPATION_A, "organization": "@organization:group_a"}
TAG_FREE = {"campaign": "@campaign:theme", "record": "@record:a_free"}
TAG_AGAIN = {"campaign": "@campaign:theme", "record": "@record:a_tagged"}
NEW_PROBLEM_A = {
    "organization": "@organization:a",
    "group": "@group:1",
    "category": "组织生活",
    "description": "三会一课记录不全",
    "found_on": "@date:found",
    "deadline": "@date:deadline",
}
NEW_PROBLEM_B = {
    "organization": "@organization:b",
    "category": "组织生活",
    "description": "党费收缴不及时",
    "found_on": "@date:found",
    "deadline": "@date:deadline",
}

# (method, url name, target, data, {role: status}); target names an object of the module.
MATRIX: list[tuple[str, str, str | None, dict | None, dict[str, int]]] = [
    # --- campaigns: read by everybody who may log in, with their totals over each scope
    ("get", "campaign-list", None, None, API),
    ("get", "campaign-list", None, {"kind": "theme_day", "current": "true"}, API),
    ("get", "campaign-list", None, {"kind": "party"}, API_BAD),
    ("get", "campaign-detail", "campaign:inspection", None, API),
    ("get", "campaign-detail", "missing", None, API_NOT_FOUND),
    ("post", "campaign-list", None, {"name": "x"}, API_NO_METHOD),
    ("delete", "campaign-detail", "campaign:inspection", None, API_NO_METHOD),
    ("get", "campaign-totals", "campaign:theme", None, API),
    ("get", "campaign-totals", "missing", None, API_NOT_FOUND),
    ("post", "campaign-totals", "campaign:theme", {}, API_NO_METHOD),
    # --- participation: read in scope; filed by staff and the secretaries
    ("get", "campaign-participation-list", None, None, API),
    ("get", "campaign-participation-list", None, {"campaign": "@campaign:theme"}, API),
    ("get", "campaign-participation-list", None, {"unit": "abc"}, API_BAD),
    ("get", "campaign-participation-detail", "participation:a", None, SEEN_A),
    ("get", "campaign-participation-detail", "participation:b", None, SEEN_B),
    ("get", "campaign-participation-detail", "missing", None, API_NOT_FOUND),
    (
        "post",
        "campaign-participation-list",
        None,
        PARTICIPATION_A,
        participate_on_a(200, other=400),  # filed again: replaced
    ),
    (
        "post",
        "campaign-participation-list",
        None,
        PARTICIPATION_GROUP_A,
        participate_on_a(201, other=400),
    ),
    ("post", "campaign-participation-list", None, {}, statuses(400, 400, 400, 403, 403, 403)),
    (
        "put",
        "campaign-participation-detail",
        "participation:a",
        {"members": 3},
        participate_on_a(200),
    ),
    (
        "put",
        "campaign-participation-detail",
        "participation:b",
        {"members": 3},
        participate_on_b(200),
    ),
    (
        "put",
        "campaign-participation-detail",
        "participation:a",
        {"money": "-1"},
        participate_on_a(400),
    ),
    ("put", "campaign-participation-detail", "missing", {"members": 3}, ANSWER_MISSING),
    ("patch", "campaign-participation-detail", "participation:a", {}, PARTICIPATE_NO_METHOD),
    ("delete", "campaign-participation-detail", "participation:a", None, PARTICIPATE_NO_METHOD),
    # --- theme days tagged with a campaign
    ("get", "campaign-activity-list", None, None, API),
    ("get", "campaign-activity-list", None, {"period": "2026-13"}, API_BAD),
    ("get", "campaign-activity-detail", "activity:a", None, SEEN_A),
    ("get", "campaign-activity-detail", "activity:b", None, SEEN_B),
    ("get", "campaign-activity-detail", "missing", None, API_NOT_FOUND),
    ("post", "campaign-activity-list", None, TAG_FREE, participate_on_a(201, other=400)),
    ("post", "campaign-activity-list", None, TAG_AGAIN, participate_on_a(400, other=400)),
    ("delete", "campaign-activity-detail", "activity:a", None, PARTICIPATE_NO_METHOD),
    # --- problems: read in scope; recorded by staff and the group's inspectors
    ("get", "problem-list", None, None, API),
    ("get", "problem-list", None, {"state": "submitted", "overdue": "false"}, API),
    ("get", "problem-list", None, {"overdue": ""}, API_BAD),
    ("get", "problem-detail", "problem:a_open", None, SEEN_A),
    ("get", "problem-detail", "problem:b_submitted", None, SEEN_B),
    ("get", "problem-detail", "missing", None, API_NOT_FOUND),
    ("post", "problem-list", None, NEW_PROBLEM_A, statuses(201, 403, 403, 201, 400, 403)),
    ("post", "problem-list", None, NEW_PROBLEM_B, statuses(201, 403, 403, 400, 400, 403)),
    ("post", "problem-list", None, {}, statuses(400, 403, 403, 400, 400, 403)),
    ("put", "problem-detail", "problem:a_open", NEW_PROBLEM_A, RECORD_NO_METHOD),
    ("delete", "problem-detail", "problem:a_open", None, RECORD_NO_METHOD),
    # --- the responsible organization's side
    ("post", "problem-start-rectifying", "problem:a_open", {}, participate_on_a(200)),
    ("post", "problem-start-rectifying", "problem:b_submitted", {}, participate_on_b(400)),
    ("post", "problem-start-rectifying", "missing", {}, ANSWER_MISSING),
    ("get", "problem-start-rectifying", "problem:a_open", None, API_NO_METHOD),
    ("post", "problem-answer", "problem:a_open", {"measures": "补齐记录"}, participate_on_a(200)),
    ("post", "problem-answer", "problem:a_open", {}, participate_on_a(400)),
    ("post", "problem-answer", "problem:b_submitted", {"measures": "x"}, participate_on_b(400)),
    ("post", "problem-answer", "missing", {"measures": "x"}, ANSWER_MISSING),
    ("get", "problem-answer", "problem:a_open", None, API_NO_METHOD),
    # --- the inspection group's side
    ("post", "problem-accept", "problem:a_submitted", {"note": "整改到位"}, accept_on_a(200)),
    ("post", "problem-accept", "problem:a_open", {}, accept_on_a(400)),
    ("post", "problem-accept", "problem:b_submitted", {}, statuses(200, 403, 403, 404, 403, 403)),
    ("post", "problem-accept", "missing", {}, ACCEPT_MISSING),
    ("get", "problem-accept", "problem:a_submitted", None, API_NO_METHOD),
    ("post", "problem-send-back", "problem:a_submitted", {"reason": "佐证不足"}, accept_on_a(200)),
    # An empty reason is a 400 to whoever may see the problem (nothing moves either way).
    (
        "post",
        "problem-send-back",
        "problem:a_submitted",
        {},
        statuses(400, 403, 403, 400, 400, 403),
    ),
    (
        "post",
        "problem-send-back",
        "problem:b_submitted",
        {"reason": "x"},
        statuses(200, 403, 403, 404, 403, 403),
    ),
    ("post", "problem-send-back", "missing", {"reason": "x"}, ACCEPT_MISSING),
    ("get", "problem-send-back", "problem:a_submitted", None, API_NO_METHOD),
    # --- photos of the answers, scoped like their problem
    ("get", "problem-photo", "photo:a", None, SEEN_A),
    ("get", "problem-photo", "photo:b", None, SEEN_B),
    ("get", "problem-photo", "photo:a_under_b", None, API_NOT_FOUND),
    ("get", "problem-photo", "photo:missing", None, API_NOT_FOUND),
    ("post", "problem-photo", "photo:a", None, RECORD_NO_METHOD),
    # --- annual reports: read in scope; assessed by staff
    ("get", "campaign-annual-report-list", None, None, API),
    ("get", "campaign-annual-report-list", None, {"year": "2025", "assessed": "false"}, API),
    ("get", "campaign-annual-report-list", None, {"year": "1800"}, API_BAD),
    ("get", "campaign-annual-report-detail", "report:a", None, SEEN_A),
    ("get", "campaign-annual-report-detail", "report:b", None, SEEN_B),
    ("get", "campaign-annual-report-detail", "missing", None, API_NOT_FOUND),
    ("post", "campaign-annual-report-list", None, {"year": 2025}, MANAGE_NO_METHOD),
    ("post", "campaign-annual-report-assess", "report:a", {"assessment": "good"}, staff_only(200)),
    ("post", "campaign-annual-report-assess", "report:b", {"assessment": "great"}, staff_only(400)),
    ("post", "campaign-annual-report-assess", "missing", {"assessment": "good"}, staff_only(404)),
    ("get", "campaign-annual-report-assess", "report:a", None, API_NO_METHOD),
    # --- inspection groups and their visits: staff and the group's members
    ("get", "campaign-group-list", None, None, API),
    ("get", "campaign-group-list", None, {"campaign": "abc"}, API_BAD),
    ("get", "campaign-group-detail", "group:1", None, GROUP_1),
    ("get", "campaign-group-detail", "group:other", None, STAFF_SEES),
    ("get", "campaign-group-detail", "missing", None, API_NOT_FOUND),
    ("post", "campaign-group-list", None, {"name": "x"}, API_NO_METHOD),
    ("get", "campaign-visit-list", None, None, API),
    ("get", "campaign-visit-list", None, {"method": "sing"}, API_BAD),
    ("get", "campaign-visit-detail", "visit:1", None, GROUP_1),
    ("get", "campaign-visit-detail", "missing", None, API_NOT_FOUND),
    ("delete", "campaign-visit-detail", "visit:1", None, API_NO_METHOD),
    # --- key tasks: by the owners of their measures
    ("get", "campaign-key-task-list", None, None, API),
    ("get", "campaign-key-task-list", None, {"unit": "0.5"}, API_BAD),
    ("get", "campaign-key-task-detail", "task:a", None, SEEN_A),
    ("get", "campaign-key-task-detail", "task:b", None, SEEN_B),
    ("get", "campaign-key-task-detail", "task:none", None, CITY_SEES),
    ("get", "campaign-key-task-detail", "missing", None, API_NOT_FOUND),
    ("post", "campaign-key-task-list", None, {"title": "x"}, API_NO_METHOD),
]
TABLE = [
    (method, name, target, data, role, expected[role])
    for method, name, target, data, expected in MATRIX
    for role in ROLES
]

# The routes of this app (tests/test_access.py wants a row for every named route).
PREFIXES = ("campaign-", "problem-")


def _png(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture(scope="module")
def module_objects(module_cast, django_db_blocker):
    """An inspection campaign with inspector_a's group (unit_a; a visit) and a group nobody
    is in; a theme-day campaign with branch_a's and branch_b's participation and tagged theme
    days, and an untagged one of branch_a; problems (branch_a's open and submitted, found by
    the group; branch_b's submitted, found by staff), the answers with a photo; annual reports
    and key tasks of both branches, and a task without measures. Built once, in the module's
    transaction (photos in its temporary MEDIA_ROOT)."""
    tree, users, types = module_cast.tree, module_cast.users, module_cast.activity_types
    staff = users["staff"]
    today = timezone.localdate()
    found: dict[str, object] = {}
    with django_db_blocker.unblock():
        inspection = Campaign.objects.create(
            name="基层党建专项检查",
            kind=CampaignKind.INSPECTION,
            starts_on=today - datetime.timedelta(days=60),
            ends_on=today + datetime.timedelta(days=60),
        )
        theme = Campaign.objects.create(
            name="献爱心、送温暖",
            kind=CampaignKind.THEME_DAY,
            starts_on=today.replace(day=1),
            ends_on=today + datetime.timedelta(days=30),
            topic="献爱心",
            theme_month=today,
        )
        group = InspectionGroup.objects.create(campaign=inspection, name="第一督导组")
        group.members.add(users["inspector_a"])
        group.units.add(tree.unit_a)
        other_group = InspectionGroup.objects.create(campaign=inspection, name="第二督导组")
        visit = VisitLog.objects.create(
            group=group, date=today, method=VisitMethod.CHECK, place="统计局"
        )
        participations = {
            side: services.file_participation(staff, ParticipationInput(theme, branch, members=3))
            for side, branch in (("a", tree.branch_a), ("b", tree.branch_b))
        }
        tagged = {}
        for side, branch in (("a", tree.branch_a), ("b", tree.branch_b)):
            record = add_record(branch, types["theme_day"], today, topic="献爱心")
            tagged[side] = services.tag_activity(staff, theme, record)
            found[f"record:{side}_tagged"] = record.pk
        # Another day of the same month (a branch files one theme day a day).
        other_day = today + datetime.timedelta(days=1 if today.day == 1 else -1)
        found["record:a_free"] = add_record(
            tree.branch_a, types["theme_day"], other_day, topic="献爱心"
        ).pk

        def problem(user, organization, with_group):
            return services.record_problem(
                user,
                ProblemInput(
                    organization=organization,
                    category="组织生活",
                    description="记录不全",
                    found_on=today - datetime.timedelta(days=5),
                    deadline=today + datetime.timedelta(days=25),
                    group=group if with_group else None,
                ),
            )

        a_open = problem(users["inspector_a"], tree.branch_a, True)
        a_submitted = problem(users["inspector_a"], tree.branch_a, True)
        b_submitted = problem(staff, tree.branch_b, False)
        answer_a = services.answer_problem(
            users["secretary_a"], a_submitted, "整改", photos=[_png("a.png")]
        )
        answer_b = services.answer_problem(
            users["secretary_b"], b_submitted, "整改", photos=[_png("b.png")]
        )
        reports = {
            side: AnnualReport.objects.create(organization=branch, year=2025, report="述职报告")
            for side, branch in (("a", tree.branch_a), ("b", tree.branch_b))
        }
        tasks = {}
        for side, branch in (("a", tree.branch_a), ("b", tree.branch_b)):
            tasks[side] = KeyTask.objects.create(campaign=inspection, title=f"任务{side}")
            KeyMeasure.objects.create(
                task=tasks[side], description="措施", organization=branch, deadline=today
            )
        tasks["none"] = KeyTask.objects.create(campaign=inspection, title="待分解")
        found.update(
            {
                "campaign:inspection": inspection.pk,
                "campaign:theme": theme.pk,
                "group:1": group.pk,
                "group:other": other_group.pk,
                "visit:1": visit.pk,
                "participation:a": participations["a"].pk,
                "participation:b": participations["b"].pk,
                "activity:a": tagged["a"].pk,
                "activity:b": tagged["b"].pk,
                "problem:a_open": a_open.pk,
                "problem:a_submitted": a_submitted.pk,
                "problem:b_submitted": b_submitted.pk,
                "photo:a": answer_a.photos.get().pk,
                "photo:b": answer_b.photos.get().pk,
                "report:a": reports["a"].pk,
                "report:b": reports["b"].pk,
                "task:a": tasks["a"].pk,
                "task:b": tasks["b"].pk,
                "task:none": tasks["none"].pk,
                "organization:a": tree.branch_a.pk,
                "organization:b": tree.branch_b.pk,
                "organization:group_a": tree.group_a.pk,
                "date:found": (today - datetime.timedelta(days=3)).isoformat(),
                "date:deadline": (today + datetime.timedelta(days=27)).isoformat(),
            }
        )
    return found


@pytest.fixture
def objects(module_objects, db):
    return dict(module_objects)


def _url(objects, name, target) -> str:
    if target is None:
        return reverse(name)
    if target == "missing":
        return reverse(name, args=[987654])
    if target.startswith("photo:"):
        problems = {
            "photo:a": ("problem:a_submitted", objects["photo:a"]),
            "photo:b": ("problem:b_submitted", objects["photo:b"]),
            "photo:a_under_b": ("problem:b_submitted", objects["photo:a"]),  # another's photo
            "photo:missing": ("problem:a_submitted", 987654),
        }
        problem, photo = problems[target]
        return reverse(name, args=[objects[problem], photo])
    return reverse(name, args=[objects[target]])


def _body(objects, data: dict | None) -> dict:
    return {
        key: objects[value[1:]] if isinstance(value, str) and value.startswith("@") else value
        for key, value in (data or {}).items()
    }


def test_the_table_covers_every_role_of_every_row():
    assert len(TABLE) == len(MATRIX) * len(ROLES)
    assert all(set(expected) == set(ROLES) for *_, expected in MATRIX)


def test_the_table_has_rows_for_every_route_of_the_app():
    names = {
        route.name
        for route in access_coverage.walk(get_resolver().url_patterns)
        if route.name.startswith(PREFIXES)
    }
    assert names == {row[1] for row in MATRIX}


@pytest.mark.parametrize(
    ("method", "name", "target", "data", "role", "expected"),
    TABLE,
    ids=[f"{m.upper()} {n}[{t or ''}] as {r} -> {e}" for m, n, t, _d, r, e in TABLE],
)
def test_permission(objects, client_for, method, name, target, data, role, expected):
    client = client_for(role)
    url = _url(objects, name, target)
    response = getattr(client, method)(url, _body(objects, data), content_type="application/json")
    assert response.status_code == expected, (method, url, role, response.content[:300])
