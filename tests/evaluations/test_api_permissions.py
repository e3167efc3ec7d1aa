"""Who may open what in the evaluations API: every route, for every role.

One row per (method, URL name, target, data) with the status each role must get (the format of
tests/pairings/test_api_permissions.py). Programs and the honour roll are read by everybody who
may log in. Applications follow `selectors.visible_applications`: a secretary sees their own
organization's, inspector_a (assigned to review the programs) the submitted ones and later of
every organization but no draft, the city-wide inspector (assigned to none) nothing, staff all;
anything else is a 404, never a 403. Designations follow the organization scope. Writes:
secretaries (and staff) start, change, submit and withdraw applications; staff nominate, start
reviews, close stages, decide and re-review (a 403 to everybody else, before any lookup);
reviewers post sheets (secretaries: 403; an unassigned inspector: 404). Inspectors never write
applications. Anonymous visitors get a 403 from the API.

The cast and the evaluation data are built once for the module (`module_cast`); every row runs
in its own savepoint, rolled back after it, so what a row writes never reaches the next.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver, reverse
from django.utils import timezone

from evaluations import services
from evaluations.defaults import seed_program
from evaluations.models import Application, Criterion, Designation, Program, ProgramKind, Stage
from evaluations.services import ApplicationInput, AssessmentInput, ScoreInput
from tests import access_coverage

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
#                               staff sec_a sec_b insp_a city anonymous
DRAFT_A = statuses(200, 200, 404, 404, 404, 403)  # a draft of branch_a: no reviewer sees it
APPLIED_A = statuses(200, 200, 404, 200, 404, 403)  # submitted or later, of branch_a
APPLIED_B = statuses(200, 404, 200, 200, 404, 403)  # submitted or later, of branch_b
SEEN_A = statuses(200, 200, 404, 200, 200, 403)  # a title of branch_a (organization scope)
SEEN_B = statuses(200, 404, 200, 404, 200, 403)  # a title of branch_b


def staff_only(ok: int) -> dict[str, int]:
    """evaluation.manage: staff; everybody else is refused before any lookup."""
    return statuses(ok, 403, 403, 403, 403, 403)


def apply_on_a(ok: int, other: int = 404) -> dict[str, int]:
    """evaluation.apply on branch_a's: staff and secretary_a; secretary_b gets `other` (404 in
    a path, 400 "does not exist" in a body); inspectors and anonymous 403 before any lookup."""
    return statuses(ok, ok, other, 403, 403, 403)


def apply_on_b(ok: int, other: int = 404) -> dict[str, int]:
    return statuses(ok, other, ok, 403, 403, 403)


def score(staff: int, inspector_a: int, inspector_city: int = 404) -> dict[str, int]:
    """evaluation.score: staff and inspectors (the city-wide one is assigned to no program, so
    the application is a 404 for them); secretaries and anonymous 403 before any lookup."""
    return statuses(staff, 403, 403, inspector_a, inspector_city, 403)


APPLY_NO_METHOD = statuses(405, 405, 405, 403, 403, 403)
MANAGE_NO_METHOD = staff_only(405)

# Bodies: "@target" is replaced by that object of the module.
NEW_A = {"program": "@program:fresh", "organization": "@organization:a", "summary": "申报"}
NEW_B = {**NEW_A, "organization": "@organization:b"}
NOMINATE = {"program": "@program:fresh", "organization": "@organization:a2"}
SCORES_BRANCH = {"scores": "@scores:branch"}

# (method, url name, target, data, {role: status}); target names an object of the module.
MATRIX: list[tuple[str, str, str | None, dict | None, dict[str, int]]] = [
    # --- programs: shared data, read by everybody who may log in
    ("get", "evaluation-program-list", None, None, API),
    (
        "get",
        "evaluation-program-list",
        None,
        {"kind": "demonstration_site", "open": "true", "year": "2026"},
        API,
    ),
    ("get", "evaluation-program-list", None, {"open": ""}, API_BAD),
    ("get", "evaluation-program-list", None, {"year": "20.5"}, API_BAD),
    ("get", "evaluation-program-detail", "program:applied", None, API),
    ("get", "evaluation-program-detail", "missing", None, API_NOT_FOUND),
    ("post", "evaluation-program-list", None, {"name": "x"}, API_NO_METHOD),
    ("patch", "evaluation-program-detail", "program:applied", {"name": "x"}, API_NO_METHOD),
    ("delete", "evaluation-program-detail", "program:applied", None, API_NO_METHOD),
    # --- applications: read in scope
    ("get", "evaluation-application-list", None, None, API),
    (
        "get",
        "evaluation-application-list",
        None,
        {"status": "submitted", "kind": "five_star", "organization_kind": "branch"},
        API,
    ),
    ("get", "evaluation-application-list", None, {"program": "abc"}, API_BAD),
    ("get", "evaluation-application-list", None, {"status": "lost"}, API_BAD),
    ("get", "evaluation-application-detail", "application:draft_a", None, DRAFT_A),
    ("get", "evaluation-application-detail", "application:submitted_a", None, APPLIED_A),
    ("get", "evaluation-application-detail", "application:submitted_b", None, APPLIED_B),
    ("get", "evaluation-application-detail", "application:review_a", None, APPLIED_A),
    ("get", "evaluation-application-detail", "missing", None, API_NOT_FOUND),
    # --- applications: secretaries start and change drafts; inspectors never write
    ("post", "evaluation-application-list", None, NEW_A, apply_on_a(201, other=400)),
    ("post", "evaluation-application-list", None, NEW_B, apply_on_b(201, other=400)),
    ("post", "evaluation-application-list", None, {}, statuses(400, 400, 400, 403, 403, 403)),
    (
        "patch",
        "evaluation-application-detail",
        "application:draft_a",
        {"summary": "改"},
        apply_on_a(200),
    ),
    (
        "patch",
        "evaluation-application-detail",
        "application:draft_b",
        {"summary": "改"},
        apply_on_b(200),
    ),
    (
        "patch",
        "evaluation-application-detail",
        "application:submitted_a",
        {"summary": "改"},
        apply_on_a(400),
    ),
    (
        "patch",
        "evaluation-application-detail",
        "missing",
        {"summary": "改"},
        statuses(404, 404, 404, 403, 403, 403),
    ),
    ("put", "evaluation-application-detail", "application:draft_a", NEW_A, APPLY_NO_METHOD),
    ("delete", "evaluation-application-detail", "application:draft_a", None, APPLY_NO_METHOD),
    # --- submit and withdraw (secretaries)
    ("post", "evaluation-application-submit", "application:draft_a", {}, apply_on_a(200)),
    ("post", "evaluation-application-submit", "application:draft_b", {}, apply_on_b(200)),
    ("post", "evaluation-application-submit", "application:submitted_a", {}, apply_on_a(400)),
    (
        "post",
        "evaluation-application-submit",
        "missing",
        {},
        statuses(404, 404, 404, 403, 403, 403),
    ),
    ("get", "evaluation-application-submit", "application:draft_a", None, API_NO_METHOD),
    ("post", "evaluation-application-withdraw", "application:submitted_a", {}, apply_on_a(200)),
    ("post", "evaluation-application-withdraw", "application:submitted_b", {}, apply_on_b(200)),
    ("post", "evaluation-application-withdraw", "application:review_a", {}, apply_on_a(400)),
    ("get", "evaluation-application-withdraw", "application:submitted_a", None, API_NO_METHOD),
    # --- staff: nominate, start the review, close a stage, decide
    ("post", "evaluation-application-nominate", None, NOMINATE, staff_only(201)),
    ("post", "evaluation-application-nominate", None, {}, staff_only(400)),
    ("get", "evaluation-application-nominate", None, None, API_NO_METHOD),
    ("post", "evaluation-application-start-review", "application:submitted_a", {}, staff_only(200)),
    ("post", "evaluation-application-start-review", "application:draft_a", {}, staff_only(400)),
    ("post", "evaluation-application-start-review", "missing", {}, staff_only(404)),
    ("post", "evaluation-application-close-stage", "application:review_a", {}, staff_only(200)),
    ("post", "evaluation-application-close-stage", "application:review_b", {}, staff_only(400)),
    ("get", "evaluation-application-close-stage", "application:review_a", None, API_NO_METHOD),
    (
        "post",
        "evaluation-application-decide",
        "application:review_a",
        {"award": False},
        staff_only(200),
    ),
    (
        "post",
        "evaluation-application-decide",
        "application:review_a",
        {"award": True},
        staff_only(400),
    ),
    ("post", "evaluation-application-decide", "application:review_a", {}, staff_only(400)),
    ("post", "evaluation-application-decide", "missing", {"award": False}, staff_only(404)),
    # --- review sheets (reviewers): staff scored review_a's first stage already
    ("get", "evaluation-application-sheets", "application:review_a", None, score(200, 200)),
    ("get", "evaluation-application-sheets", "application:review_b", None, score(200, 200)),
    ("get", "evaluation-application-sheets", "missing", None, score(404, 404)),
    (
        "post",
        "evaluation-application-sheets",
        "application:review_a",
        SCORES_BRANCH,
        score(400, 201),
    ),
    (
        "post",
        "evaluation-application-sheets",
        "application:review_b",
        SCORES_BRANCH,
        score(201, 201),
    ),
    (
        "post",
        "evaluation-application-sheets",
        "application:submitted_a",
        SCORES_BRANCH,
        score(400, 400),
    ),
    (
        "post",
        "evaluation-application-sheets",
        "application:draft_a",
        SCORES_BRANCH,
        score(400, 404),
    ),
    ("post", "evaluation-application-sheets", "application:review_b", {}, score(400, 400)),
    (
        "put",
        "evaluation-application-sheets",
        "application:review_b",
        SCORES_BRANCH,
        APPLY_NO_METHOD,
    ),
    # --- attachments, scoped like their application
    ("get", "evaluation-application-attachment", "attachment:a", None, APPLIED_A),
    ("get", "evaluation-application-attachment", "attachment:b", None, APPLIED_B),
    ("get", "evaluation-application-attachment", "attachment:a_under_b", None, API_NOT_FOUND),
    ("get", "evaluation-application-attachment", "attachment:missing", None, API_NOT_FOUND),
    ("post", "evaluation-application-attachment", "attachment:a", None, APPLY_NO_METHOD),
    # --- designations: read in the organization scope; staff re-review
    ("get", "evaluation-designation-list", None, None, API),
    (
        "get",
        "evaluation-designation-list",
        None,
        {"status": "current", "due": "false", "kind": "demonstration_site"},
        API,
    ),
    ("get", "evaluation-designation-list", None, {"due": ""}, API_BAD),
    ("get", "evaluation-designation-list", None, {"organization": str(2**70)}, API_BAD),
    ("get", "evaluation-designation-detail", "designation:a", None, SEEN_A),
    ("get", "evaluation-designation-detail", "designation:b", None, SEEN_B),
    ("get", "evaluation-designation-detail", "missing", None, API_NOT_FOUND),
    ("post", "evaluation-designation-list", None, {"title": "x"}, MANAGE_NO_METHOD),
    ("delete", "evaluation-designation-detail", "designation:a", None, MANAGE_NO_METHOD),
    (
        "post",
        "evaluation-designation-re-review",
        "designation:a",
        {"outcome": "kept", "reason": "复查合格"},
        staff_only(200),
    ),
    (
        "post",
        "evaluation-designation-re-review",
        "designation:b",
        {"outcome": "revoked", "reason": "组织生活不规范"},
        staff_only(200),
    ),
    (
        "post",
        "evaluation-designation-re-review",
        "designation:a",
        {"outcome": "forgiven", "reason": "x"},
        staff_only(400),
    ),
    (
        "post",
        "evaluation-designation-re-review",
        "missing",
        {"outcome": "kept", "reason": "x"},
        staff_only(404),
    ),
    ("get", "evaluation-designation-re-review", "designation:a", None, API_NO_METHOD),
    # --- the honour roll: public to every logged-in user
    ("get", "evaluation-honour-roll-list", None, None, API),
    ("get", "evaluation-honour-roll-list", None, {"year": "2026", "program": "1"}, API),
    ("get", "evaluation-honour-roll-list", None, {"year": "1800"}, API_BAD),
    ("post", "evaluation-honour-roll-list", None, {}, API_NO_METHOD),
]
TABLE = [
    (method, name, target, data, role, expected[role])
    for method, name, target, data, expected in MATRIX
    for role in ROLES
]

# The routes of this app (tests/test_access.py wants a row for every named route).
BASENAMES = (
    "evaluation-program",
    "evaluation-application",
    "evaluation-designation",
    "evaluation-honour-roll",
)


def _today() -> datetime.date:
    return timezone.localdate()


def _open_program(name: str, reviewers) -> Program:
    today = _today()
    program = Program.objects.create(
        name=name,
        kind=ProgramKind.DEMONSTRATION_SITE,
        year=today.year,
        opens_on=today - datetime.timedelta(days=7),
        closes_on=today + datetime.timedelta(days=30),
        title="市级机关基层党建工作示范点",
        quota={"branch": 5},
    )
    seed_program(program, Criterion, Stage)
    program.reviewers.add(*reviewers)
    return program


def _marks(program, organization, points="18") -> ApplicationInput:
    criteria = Criterion.objects.filter(program=program, organization_kind=organization.kind)
    return ApplicationInput(
        program=program,
        organization=organization,
        summary="三会一课规范",
        assessments=[AssessmentInput(c.pk, Decimal(points), "台账齐全") for c in criteria],
    )


def _scores(application, points="18") -> list[ScoreInput]:
    criteria = Criterion.objects.filter(
        program=application.program, organization_kind=application.organization.kind
    )
    return [ScoreInput(c.pk, Decimal(points), "") for c in criteria]


@pytest.fixture(scope="module")
def module_objects(module_cast, django_db_blocker):
    """Four open programs reviewed by inspector_a: drafts of branch_a and branch_b in the
    first; submitted applications of both (each with a photo) in the second; both under review
    in the third (staff scored branch_a's first stage); the fourth has none (for new
    applications and nominations). Titles of branch_a and branch_b."""
    tree, users = module_cast.tree, module_cast.users
    staff, inspector = users["staff"], users["inspector_a"]
    secretaries = {"a": users["secretary_a"], "b": users["secretary_b"]}
    branches = {"a": tree.branch_a, "b": tree.branch_b}
    found: dict[str, object] = {}
    with django_db_blocker.unblock():
        drafts = _open_program("2026年度示范点（草稿）", [inspector])
        applied = _open_program("2026年度示范点（已提交）", [inspector])
        review = _open_program("2026年度示范点（评审中）", [inspector])
        fresh = _open_program("2026年度示范点（新）", [inspector])
        for side, branch in branches.items():
            secretary = secretaries[side]
            draft = services.save_application(secretary, _marks(drafts, branch))
            photo = SimpleUploadedFile("证明.png", PNG, content_type="image/png")
            submitted = services.save_application(
                secretary, replace(_marks(applied, branch), attachments=[photo])
            )
            submitted = services.submit_application(secretary, submitted)
            in_review = services.submit_application(
                secretary, services.save_application(secretary, _marks(review, branch))
            )
            in_review = services.start_review(staff, in_review)
            title = Designation.objects.create(
                program=drafts,
                organization=branch,
                title=drafts.title,
                awarded_on=_today() - datetime.timedelta(days=400),
                valid_until=_today() + datetime.timedelta(days=700),
            )
            found.update(
                {
                    f"application:draft_{side}": draft.pk,
                    f"application:submitted_{side}": submitted.pk,
                    f"application:review_{side}": in_review.pk,
                    f"attachment:{side}": submitted.attachments.get().pk,
                    f"designation:{side}": title.pk,
                    f"organization:{side}": branch.pk,
                }
            )
        scored = Application.objects.get(pk=found["application:review_a"])
        services.submit_sheet(staff, scored, _scores(scored))
        found["program:applied"] = applied.pk
        found["program:fresh"] = fresh.pk
        found["organization:a2"] = tree.branch_a2.pk
        found["scores:branch"] = [
            {"criterion": c.pk, "score": "18.00", "comment": "良好"}
            for c in Criterion.objects.filter(program=review, organization_kind="branch")
        ]
    return found


@pytest.fixture
def objects(module_objects, db):
    return dict(module_objects)


def _url(objects, name, target) -> str:
    if target is None:
        return reverse(name)
    if target == "missing":
        return reverse(name, args=[987654])
    if target.startswith("attachment:"):
        owners = {
            "attachment:a": ("application:submitted_a", objects["attachment:a"]),
            "attachment:b": ("application:submitted_b", objects["attachment:b"]),
            # another application's attachment
            "attachment:a_under_b": ("application:submitted_b", objects["attachment:a"]),
            "attachment:missing": ("application:submitted_a", 987654),
        }
        application, attachment = owners[target]
        return reverse(name, args=[objects[application], attachment])
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
        if route.name.startswith(tuple(f"{b}-" for b in BASENAMES))
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
