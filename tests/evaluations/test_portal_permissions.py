"""Who may open what in the evaluations portal: every page and form, for every role.

One row per (method, URL, target, data) with the status each role must get, in the format of
tests/reports/test_reports_permissions.py (`MATRIX`, read by tests/test_access.py). Outsiders
get 404, never 403, so a page does not confirm that an application exists; inspectors never
apply (403 where they may see the organization or the application); secretaries never score
(403 on their own application's score sheet); anonymous visitors go to the login page.

The data, built once for the module (`module_cast`, tests/conftest.py), every row in its own
savepoint: `open`, a program taking applications, inspector_a its assigned reviewer, with
three applications: branch_a's under review (secretary_a's), branch_b's draft (secretary_b's)
and branch_a2's submitted (nominated by staff; nobody's secretary here); each with a file.
`fresh`, another open program nobody applied to, and `closed`, one whose window has passed,
for the application form.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from evaluations import services
from evaluations.defaults import seed_program
from evaluations.models import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    Criterion,
    Program,
    ProgramKind,
    ReviewSheet,
    Stage,
)

pytestmark = pytest.mark.usefixtures("module_cast")

ROLES = ("staff", "secretary_a", "secretary_b", "inspector_a", "inspector_city", "anonymous")
MISSING_PK = 987654
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


# Who sees each organization (the application form) and each application (its page, its files):
#                  staff sec_a sec_b insp_a city
ORGANIZATIONS = {
    "branch_a": (200, 200, 404, 200, 200),
    "group_a": (200, 200, 404, 200, 200),
    "branch_a2": (200, 404, 404, 200, 200),
    "branch_b": (200, 404, 200, 404, 200),
    "missing": (404, 404, 404, 404, 404),
}
# Inspectors see the applications of the programs they review, drafts excepted.
APPLICATIONS = {
    "review_a": (200, 200, 404, 200, 404),
    "draft_b": (200, 404, 200, 404, 404),
    "submitted_a2": (200, 404, 404, 200, 404),
    "missing": (404, 404, 404, 404, 404),
}


def reads(owner: str) -> dict[str, int]:
    return statuses(*APPLICATIONS[owner], anonymous=302)


def applies(seen: tuple[int, ...], ok: int | tuple[int, int] = 200) -> dict[str, int]:
    """Applying (and changing, withdrawing): `ok` where staff and secretaries see the target
    (a pair: staff's, secretaries'), 403 for inspectors who see it, 404 elsewhere."""
    ok_staff, ok_secretary = ok if isinstance(ok, tuple) else (ok, ok)
    staff, sec_a, sec_b, insp_a, city = seen
    return statuses(
        ok_staff if staff == 200 else 404,
        ok_secretary if sec_a == 200 else 404,
        ok_secretary if sec_b == 200 else 404,
        403 if insp_a == 200 else 404,
        403 if city == 200 else 404,
        anonymous=302,
    )


def scores(owner: str, ok: int = 200) -> dict[str, int]:
    """Scoring: `ok` for staff and the assigned inspector where they see the application, 403
    for the secretary whose it is, 404 elsewhere."""
    staff, sec_a, sec_b, insp_a, city = APPLICATIONS[owner]
    return statuses(
        ok if staff == 200 else 404,
        403 if sec_a == 200 else 404,
        403 if sec_b == 200 else 404,
        ok if insp_a == 200 else 404,
        ok if city == 200 else 404,
        anonymous=302,
    )


PORTAL = statuses(200, 200, 200, 200, 200, 302)
REVIEWERS = statuses(200, 403, 403, 200, 200, 302)
NO_METHOD = statuses(405, 405, 405, 405, 405, 302)
# Reviewers' pages: a secretary is refused before the method is looked at.
REVIEWERS_NO_METHOD = statuses(405, 403, 403, 405, 405, 302)
OWNERS = ["review_a", "draft_b", "submitted_a2", "missing"]
ORGS = list(ORGANIZATIONS)

# Data each form takes. A score sheet of 18 on each of a branch's five criteria; an
# application submitted with 18 on each (the keys are filled in per row: `_data`).
FULL_SCORES = "scores"
FULL_APPLICATION = "application"

# (method, url name, target, data, {role: status}); target names the URL's objects:
# "application:review_a", "file:draft_b", "apply:fresh:branch_a", "apply:closed:branch_a"...
MATRIX: list[tuple[str, str, str | None, dict | str | None, dict[str, int]]] = [
    # --- lists
    ("get", "portal:evaluation_programs", None, None, PORTAL),
    ("get", "portal:evaluation_programs", None, {"page": "-1"}, PORTAL),
    ("get", "portal:evaluation_honours", None, None, PORTAL),
    ("get", "portal:evaluation_honours", None, {"kind": "x", "page": "abc"}, PORTAL),
    ("get", "portal:evaluation_reviews", None, None, REVIEWERS),
    ("get", "portal:evaluation_reviews", None, {"program": "x", "status": "nope"}, REVIEWERS),
    ("get", "portal:evaluation_re_reviews", None, None, REVIEWERS),
    ("post", "portal:evaluation_programs", None, None, NO_METHOD),
    ("post", "portal:evaluation_honours", None, None, NO_METHOD),
    ("post", "portal:evaluation_reviews", None, None, REVIEWERS_NO_METHOD),
    ("post", "portal:evaluation_re_reviews", None, None, REVIEWERS_NO_METHOD),
    # --- an application's page and files
    *[("get", "portal:evaluation_application", f"application:{o}", None, reads(o)) for o in OWNERS],
    *[("get", "portal:evaluation_attachment", f"file:{o}", None, reads(o)) for o in OWNERS],
    ("post", "portal:evaluation_application", "application:review_a", None, NO_METHOD),
    ("post", "portal:evaluation_attachment", "file:review_a", None, NO_METHOD),
    # --- applying: the form, an empty POST (a blank draft where the program takes the kind),
    # an application submitted
    *[
        ("get", "portal:evaluation_apply", f"apply:fresh:{o}", None, applies(ORGANIZATIONS[o]))
        for o in ORGS
    ],
    *[
        (
            "post",
            "portal:evaluation_apply",
            f"apply:fresh:{o}",
            None,
            applies(ORGANIZATIONS[o], 302),
        )
        for o in ("branch_a", "branch_a2", "branch_b", "missing")
    ],
    (
        "post",
        "portal:evaluation_apply",
        "apply:fresh:group_a",
        None,
        applies(ORGANIZATIONS["group_a"]),
    ),
    *[
        (
            "post",
            "portal:evaluation_apply",
            f"apply:fresh:{o}",
            FULL_APPLICATION,
            applies(ORGANIZATIONS[o], 302),
        )
        for o in ("branch_a", "branch_a2", "branch_b")
    ],
    # A closed window: the form says so; nothing is taken.
    (
        "get",
        "portal:evaluation_apply",
        "apply:closed:branch_a",
        None,
        applies(ORGANIZATIONS["branch_a"]),
    ),
    (
        "post",
        "portal:evaluation_apply",
        "apply:closed:branch_a",
        FULL_APPLICATION,
        applies(ORGANIZATIONS["branch_a"]),
    ),
    # Applied already: to the application's page; a second one is refused on the form.
    (
        "get",
        "portal:evaluation_apply",
        "apply:open:branch_a",
        None,
        applies(ORGANIZATIONS["branch_a"], 302),
    ),
    (
        "post",
        "portal:evaluation_apply",
        "apply:open:branch_a",
        FULL_APPLICATION,
        applies(ORGANIZATIONS["branch_a"]),
    ),
    (
        "get",
        "portal:evaluation_apply",
        "apply:missing:branch_a",
        None,
        statuses(404, 404, 404, 404, 404, 302),
    ),
    ("put", "portal:evaluation_apply", "apply:fresh:branch_a", None, NO_METHOD),
    # --- changing a draft (a submitted one: back to its page), withdrawing
    (
        "get",
        "portal:evaluation_application_edit",
        "application:draft_b",
        None,
        applies(APPLICATIONS["draft_b"]),
    ),
    (
        "post",
        "portal:evaluation_application_edit",
        "application:draft_b",
        None,
        applies(APPLICATIONS["draft_b"], 302),
    ),
    *[
        (
            "get",
            "portal:evaluation_application_edit",
            f"application:{o}",
            None,
            applies(APPLICATIONS[o], 302),
        )
        for o in ("review_a", "submitted_a2", "missing")
    ],
    *[
        (
            "post",
            "portal:evaluation_application_edit",
            f"application:{o}",
            FULL_APPLICATION,
            applies(APPLICATIONS[o], 302),
        )
        for o in ("review_a", "submitted_a2")
    ],
    *[
        (
            "post",
            "portal:evaluation_withdraw",
            f"application:{o}",
            None,
            applies(APPLICATIONS[o], 302),
        )
        for o in OWNERS
    ],
    ("get", "portal:evaluation_withdraw", "application:draft_b", None, NO_METHOD),
    # --- scoring: an empty sheet (the page again, errors), a full one (taken under review,
    # refused on the page otherwise)
    *[("post", "portal:evaluation_score", f"application:{o}", None, scores(o)) for o in OWNERS],
    (
        "post",
        "portal:evaluation_score",
        "application:review_a",
        FULL_SCORES,
        scores("review_a", 302),
    ),
    (
        "post",
        "portal:evaluation_score",
        "application:submitted_a2",
        FULL_SCORES,
        scores("submitted_a2"),
    ),
    ("get", "portal:evaluation_score", "application:review_a", None, NO_METHOD),
]
TABLE = [
    (method, name, target, data, role, expected[role])
    for method, name, target, data, expected in MATRIX
    for role in ROLES
]


@pytest.fixture(scope="module")
def module_objects(module_cast, django_db_blocker):
    """The programs, applications and files: built once, in the module's transaction (the
    files in its temporary MEDIA_ROOT)."""
    tree, users = module_cast.tree, module_cast.users
    today = timezone.localdate()
    week = datetime.timedelta(days=7)
    with django_db_blocker.unblock():
        programs = {}
        for key, opens, closes in (
            ("open", today - week, today + 4 * week),
            ("fresh", today - week, today + 4 * week),
            ("closed", today - 8 * week, today - week),
        ):
            program = Program.objects.create(
                name=f"权限表评选（{key}）",
                kind=ProgramKind.DEMONSTRATION_SITE,
                year=today.year,
                opens_on=opens,
                closes_on=closes,
                title="示范点",
            )
            seed_program(program, Criterion, Stage)
            program.reviewers.add(users["inspector_a"])
            programs[key] = program
        open_ = programs["open"]

        def full(organization) -> services.ApplicationInput:
            return services.ApplicationInput(
                program=open_,
                organization=organization,
                summary="概述",
                assessments=[
                    services.AssessmentInput(c.pk, Decimal("18"), "台账")
                    for c in services.criteria_of(open_, organization.kind)
                ],
            )

        review_a = services.save_application(users["secretary_a"], full(tree.branch_a))
        review_a = services.submit_application(users["secretary_a"], review_a)
        review_a = services.start_review(users["staff"], review_a)
        draft_b = services.save_application(users["secretary_b"], full(tree.branch_b))
        submitted_a2 = services.nominate(users["staff"], open_, tree.branch_a2)
        found = {}
        for key, application in (
            ("review_a", review_a),
            ("draft_b", draft_b),
            ("submitted_a2", submitted_a2),
        ):
            attachment = ApplicationAttachment.objects.create(
                application=application,
                file=ContentFile(PNG, name="photo.png"),
                original_name="证明.png",
                content_type="image/png",
                size=len(PNG),
            )
            found[f"application:{key}"] = [application.pk]
            found[f"file:{key}"] = [attachment.pk]
        for key, program in programs.items():
            for owner in ORGS:
                organization = getattr(tree, owner, None)
                found[f"apply:{key}:{owner}"] = [
                    program.pk,
                    getattr(organization, "pk", MISSING_PK),
                ]
        for owner in ORGS:
            found[f"apply:missing:{owner}"] = [
                MISSING_PK,
                getattr(getattr(tree, owner, None), "pk", MISSING_PK),
            ]
    return found


@pytest.fixture
def objects(module_objects, db):
    return dict(module_objects)


def _url(objects, name, target) -> str:
    if target is None:
        return reverse(name)
    return reverse(name, args=objects.get(target, [MISSING_PK]))


def _data(data, target: str | None) -> dict:
    """The rows' data: FULL_APPLICATION and FULL_SCORES are filled in with the criteria of a
    branch in the target's program (every organization of these rows is a branch)."""
    if data not in (FULL_APPLICATION, FULL_SCORES):
        return data or {}
    key = target.split(":")[1] if target and target.startswith("apply:") else "open"
    criteria = Criterion.objects.filter(
        program__name=f"权限表评选（{key}）", organization_kind="branch"
    )
    if data == FULL_SCORES:
        return {f"score_{c.pk}": "18" for c in criteria}
    values = {"summary": "概述", "action": "submit"}
    for c in criteria:
        values[f"score_{c.pk}"] = "18"
        values[f"evidence_{c.pk}"] = "台账"
    return values


def test_the_table_covers_every_role_of_every_row():
    assert len(TABLE) == len(MATRIX) * len(ROLES)
    assert all(set(expected) == set(ROLES) for *_, expected in MATRIX)


def test_the_table_covers_every_route_of_the_app():
    from evaluations.urls import urlpatterns

    assert {f"portal:{p.name}" for p in urlpatterns} == {row[1] for row in MATRIX}


@pytest.mark.parametrize(
    ("method", "name", "target", "data", "role", "expected"),
    TABLE,
    ids=[
        f"{m.upper()} {n}[{t or ''}]{'+' + (d if isinstance(d, str) else 'data') if d else ''}"
        f" as {r} -> {e}"
        for m, n, t, d, r, e in TABLE
    ],
)
def test_permission(objects, client_for, method, name, target, data, role, expected):
    client = client_for(role)
    address = _url(objects, name, target)
    response = getattr(client, method)(address, _data(data, target))
    assert response.status_code == expected, (method, address, role)
    if role == "anonymous" and expected == 302:
        assert response["Location"].startswith(reverse("portal:login") + "?next=")
    elif expected == 302:  # taken, or sent back: to an application's page or the form
        assert response["Location"].startswith("/portal/evaluations/applications/")


@pytest.mark.parametrize("role", ["inspector_a", "inspector_city", "secretary_b"])
def test_refused_writes_leave_the_applications_alone(objects, client_for, role):
    client = client_for(role)
    review_a = objects["application:review_a"][0]
    before = list(Application.objects.order_by("pk").values_list("pk", "status", "summary"))
    client.post(
        reverse("portal:evaluation_apply", args=objects["apply:fresh:branch_a"]),
        _data(FULL_APPLICATION, "apply:fresh:branch_a"),
    )
    client.post(reverse("portal:evaluation_application_edit", args=[review_a]), {"summary": "改"})
    client.post(reverse("portal:evaluation_withdraw", args=[review_a]))
    assert list(Application.objects.order_by("pk").values_list("pk", "status", "summary")) == before
    assert Application.objects.get(pk=review_a).status == ApplicationStatus.UNDER_REVIEW


@pytest.mark.parametrize("role", ["secretary_a", "secretary_b", "inspector_city"])
def test_refused_score_sheets_leave_nothing(objects, client_for, role):
    review_a = objects["application:review_a"][0]
    client_for(role).post(
        reverse("portal:evaluation_score", args=[review_a]), _data(FULL_SCORES, None)
    )
    assert not ReviewSheet.objects.exists()
