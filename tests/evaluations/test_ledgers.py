"""The evaluations app's ledgers (台账): applications with their review, and titles awarded.
Registered with the framework, scoped by the selectors, filtered by program, program kind, unit,
organization, stage and status, typed cells in a file that opens with openpyxl, each stage's
result the one the pages show (`selectors.stage_results`), and a number of queries that does not
grow with the rows."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils.translation import gettext, override

from accounts.models import Role, User
from branches.models import Organization, OrganizationKind
from evaluations import selectors, services
from evaluations.defaults import BRANCH_STANDARDS, seed_program
from evaluations.ledgers import STANDARD_CRITERIA, counted_sheets
from evaluations.models import (
    Application,
    ApplicationStatus,
    Criterion,
    Designation,
    DesignationStatus,
    Program,
    ProgramKind,
    ReReviewOutcome,
    ReviewSheet,
    Score,
    Stage,
    StageKind,
)
from evaluations.rules import stage_result
from evaluations.services import ScoreInput
from reports.ledgers import REGISTRY, LedgerFilterForm, params_from_json, write_xlsx
from tests.evaluations.conftest import full_marks
from tests.reports.test_ledger_files import assert_ledger_file

D = datetime.date
CODES = ["evaluation_applications", "designations"]
BRANCH = [name for name, _d, _m in BRANCH_STANDARDS]

pytestmark = pytest.mark.django_db


def criteria_of(program, kind="branch"):
    return list(
        Criterion.objects.filter(program=program, organization_kind=kind).order_by(
            "sort_order", "pk"
        )
    )


def sheet(user, application, points):
    """`user` scores `application` at its stage: `points` per criterion, in their order."""
    criteria = criteria_of(application.program, application.organization.kind)
    if not isinstance(points, list | tuple):
        points = [points] * len(criteria)
    scores = [ScoreInput(c.pk, Decimal(p)) for c, p in zip(criteria, points, strict=True)]
    return services.submit_sheet(user, application, scores)


def inspector(name):
    return User.objects.create_user(username=name, password="x-123456789", role=Role.INSPECTOR)


@pytest.fixture
def data(tree, program, staff, secretary_a, inspector_a):
    """In this year's 示范点 program (inspector_a reviews it):

    - A-1 applied (18 points a criterion: 90 self-assessed); at 实地考察 inspector_a gave 85 and
      staff 95 (90.00), the stage closed; at 集体评审 inspector_a gave 80 so far.
    - B-1 nominated by staff, at 实地考察 with five reviewers (60, 80, 85, 90, 100: 85.00
      trimmed, the 60 and the 100 dropped).
    - A-2 a draft (made in the database: its secretary is not in the cast).

    Titles of last year's 五星 program: A-1's kept at a re-review, B-1's revoked; and A-2's title of
    a demonstration program (current, never re-reviewed)."""
    a1 = services.save_application(secretary_a, full_marks(program, tree.branch_a))
    a1 = services.submit_application(secretary_a, a1)
    a1 = services.start_review(staff, a1)
    sheet(inspector_a, a1, 17)
    sheet(staff, a1, 19)
    a1 = services.close_stage(staff, a1)
    sheet(inspector_a, a1, 16)

    b1 = services.start_review(staff, services.nominate(staff, program, tree.branch_b))
    others = [inspector(f"reviewer{i}") for i in range(3)]
    program.reviewers.add(*others)
    sheet(inspector_a, b1, [12, 12, 12, 12, 12])  # 60: dropped
    sheet(staff, b1, [12, 16, 18, 16, 18])  # 80
    sheet(others[0], b1, [15, 17, 18, 17, 18])  # 85
    sheet(others[1], b1, [18, 18, 18, 18, 18])  # 90
    sheet(others[2], b1, [20, 20, 20, 20, 20])  # 100: dropped

    a2 = Application.objects.create(program=program, organization=tree.branch_a2)

    stars = Program.objects.create(
        name="2023年度五星支部",
        kind=ProgramKind.FIVE_STAR,
        year=2023,
        opens_on=D(2023, 3, 1),
        closes_on=D(2023, 4, 1),
        title="五星党支部",
    )
    seed_program(stars, Criterion, Stage)
    star_a = Designation.objects.create(
        program=stars,
        organization=tree.branch_a,
        title="五星党支部",
        awarded_on=D(2023, 12, 1),
        valid_until=D(2026, 12, 1),
    )
    services.re_review(staff, star_a, ReReviewOutcome.KEPT, "复查合格", on=D(2026, 11, 20))
    star_b = Designation.objects.create(
        program=stars,
        organization=tree.branch_b,
        title="五星党支部",
        awarded_on=D(2023, 12, 1),
        valid_until=D(2026, 12, 1),
    )
    services.re_review(staff, star_b, ReReviewOutcome.REVOKED, "组织生活不规范", on=D(2025, 6, 1))
    site_a2 = Designation.objects.create(
        program=program,
        organization=tree.branch_a2,
        title=program.title,
        awarded_on=D(2025, 12, 1),
        valid_until=D(2028, 12, 1),
    )
    return {
        "a1": a1,
        "b1": b1,
        "a2": a2,
        "stars": stars,
        "star_a": star_a,
        "star_b": star_b,
        "site_a2": site_a2,
    }


def build(code, user, **params):
    """(ledger, worksheet, data rows as dicts by English header, file) of a ledger as written."""
    ledger = REGISTRY[code](user, params)
    out = io.BytesIO()
    written = write_xlsx(ledger, out)
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    with override("en"):
        names = [str(c.header) for c in ledger.columns]
    rows = [dict(zip(names, r, strict=True)) for r in ws.iter_rows(min_row=5, values_only=True)]
    if not written:
        rows = []
    assert len(rows) == written == ledger.count()
    return ledger, ws, rows, out.getvalue()


def by(rows, key, value) -> dict:
    (found,) = [r for r in rows if r[key] == value]
    return found


# --- registration --------------------------------------------------------------------------------


def test_the_two_ledgers_are_registered_with_their_filters():
    filters = {code: [f.name for f in REGISTRY[code].filters] for code in CODES}
    assert filters == {
        "evaluation_applications": [
            "program",
            "program_kind",
            "unit",
            "organization",
            "stage",
            "status",
        ],
        "designations": ["program", "program_kind", "unit", "organization", "status"],
    }


def test_the_columns_are_declared_whatever_the_data():
    """A column per kind of stage (result, reviewers) and per criterion of the standards: the
    same list for every user and every program."""
    with override("zh-hans"):
        headers = [str(c.header) for c in REGISTRY["evaluation_applications"].columns]
    for kind in StageKind:
        assert f"{kind.label}得分" in headers and f"{kind.label}评委人数" in headers
    assert [h for h in headers if h in STANDARD_CRITERIA] == STANDARD_CRITERIA
    assert len(STANDARD_CRITERIA) == 10 and set(BRANCH) <= set(STANDARD_CRITERIA)


def test_the_api_lists_them_and_builds_one_as_a_job(
    client_for, data, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client = client_for("secretary_a")
    listed = {item["code"] for item in client.get(reverse("ledger-list")).json()}
    assert set(CODES) <= listed
    with django_capture_on_commit_callbacks(execute=True):  # the (eager) task builds it
        response = client.post(
            reverse("ledger-export-list"),
            {
                "ledger": "evaluation_applications",
                "program": data["a1"].program_id,
                "stage": "collective_review",
            },
            content_type="application/json",
        )
    assert response.status_code == 201, response.json()
    job = client.get(response["Location"]).json()
    assert job["params"] == {
        "program": data["a1"].program_id,
        "program_kind": None,
        "unit": None,
        "organization": None,
        "stage": "collective_review",
        "status": None,
    }
    assert job["status"] == "done" and job["rows_written"] == 1
    bad = client.post(
        reverse("ledger-export-list"),
        {"ledger": "designations", "status": "under_review"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "status" in bad.json()
    bad = client.post(
        reverse("ledger-export-list"),
        {"ledger": "designations", "stage": "field_visit"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "stage" in bad.json()


def test_the_downloads_page_offers_them(client_for, data):
    with override("zh-hans"):
        html = client_for("secretary_a").get(reverse("portal:downloads")).content.decode()
    assert "申报评审台账" in html and "称号台账" in html


# --- rows, types, and results that add up ----------------------------------------------------


def test_application_rows_carry_the_review(data, staff):
    with override("zh-hans"):
        ledger, _ws, rows, content = build("evaluation_applications", staff)
        yes, no = gettext("Yes"), gettext("No")
        seen = assert_ledger_file(ledger, content)
    assert seen == {"text", "int", "decimal", "datetime", "bool"}
    a1 = by(rows, "Organization code", "A-1")
    assert a1["Evaluation program"] == data["a1"].program.name
    assert (a1["Program kind"], a1["Program year"]) == ("示范点", data["a1"].program.year)
    assert (a1["Unit"], a1["Organization"]) == ("市统计局", "统计局第一党支部")
    assert (a1["Organization kind"], a1["Application status"]) == ("党支部", "评审中")
    assert (a1["Current stage"], a1["Nominated by staff"]) == ("集体评审", no)
    assert isinstance(a1["Submitted at"], datetime.datetime) and a1["Decided at"] is None
    assert a1["Self-assessed total"] == 90
    assert (a1["Field visit: result"], a1["Field visit: reviewers"]) == (90, 2)
    assert (a1["Collective review: result"], a1["Collective review: reviewers"]) == (80, 1)
    assert a1["Peer comparison: result"] is None and a1["Peer comparison: reviewers"] is None
    # The criteria at the last stage scored (集体评审): inspector_a's 16 points each.
    assert a1["Criterion scores at stage"] == "集体评审"
    assert [a1[name] for name in BRANCH] == [16] * 5
    assert all(a1[name] is None for name in STANDARD_CRITERIA if name not in BRANCH)
    assert a1["Other criteria"] is None

    b1 = by(rows, "Organization code", "B-1")
    assert (b1["Nominated by staff"], b1["Self-assessed total"]) == (yes, None)
    assert (b1["Field visit: result"], b1["Field visit: reviewers"]) == (85, 5)
    # The three sheets the trimmed mean counts (80, 85, 90): they add up to its 85.00.
    assert [b1[name] for name in BRANCH] == [15, 17, 18, 17, 18]
    assert sum(b1[name] for name in BRANCH) == b1["Field visit: result"]

    a2 = by(rows, "Organization code", "A-2")
    assert a2["Application status"] == "草稿" and a2["Submitted at"] is None
    assert a2["Criterion scores at stage"] is None and a2["Self-assessed total"] is None


def test_each_stage_result_is_the_one_the_pages_show(data, staff, inspector_a):
    """The ledger's stage results are `selectors.stage_results`, to the cent, with one reviewer,
    two, or five (trimmed); a mean made of the ledger's cells equals the page's."""
    services.close_stage(staff, Application.objects.get(pk=data["b1"].pk))  # 85 ≥ 60: goes on
    b1 = Application.objects.get(pk=data["b1"].pk)
    sheet(inspector_a, b1, [13, 14, 15, 16, 17])  # 75 at 集体评审
    ledger = REGISTRY["evaluation_applications"](staff, {})
    rows = {row["pk"]: row for row in ledger.rows()}
    applications = list(Application.objects.select_related("program").order_by("pk"))
    pages = selectors.stage_results(applications)
    kinds = dict(Stage.objects.values_list("pk", "kind"))
    compared = 0
    for application in applications:
        shown = {kind: result for kind, (result, _n) in rows[application.pk]["stages"].items()}
        assert shown == {kinds[pk]: value for pk, value in pages[application.pk].items()}
        compared += len(shown)
    assert compared == 4
    # The sheets' totals of a stage, read from the sheets, give the same mean.
    totals = list(
        ReviewSheet.objects.filter(application=b1, stage__kind="field_visit").values_list(
            "total", flat=True
        )
    )
    assert stage_result(totals, b1.program.trimmed_mean_from) == Decimal("85.00")
    assert rows[b1.pk]["stages"]["field_visit"] == (Decimal("85.00"), 5)
    assert rows[b1.pk]["stages"]["collective_review"] == (Decimal("75.00"), 1)
    assert rows[b1.pk]["scored_stage"] == "集体评审"


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7])
def test_the_sheets_counted_are_those_the_result_counts(count):
    sheets = [(Decimal(60 + 7 * i % 40), i + 1) for i in range(count)]
    kept = counted_sheets(sheets, 5)
    totals = {pk: total for total, pk in sheets}
    mean = sum(totals[pk] for pk in kept) / len(kept)
    assert stage_result([t for t, _pk in sheets], 5) == mean.quantize(Decimal("0.01"))
    assert len(kept) == (count - 2 if count >= 5 else count)


def test_a_renamed_criterion_is_among_the_others(data, staff):
    Criterion.objects.filter(program=data["a1"].program, name="工作业绩好").update(
        name="工作业绩突出"
    )
    rows = build("evaluation_applications", staff, organization=data["a1"].organization)[2]
    assert rows[0]["工作业绩好"] is None
    assert rows[0]["Other criteria"] == "工作业绩突出：16.00"


def test_designation_rows_carry_revocation_and_re_review(data, staff):
    with override("zh-hans"):
        ledger, _ws, rows, content = build("designations", staff)
        seen = assert_ledger_file(ledger, content)
    assert seen == {"text", "int", "date"}
    assert len(rows) == 3
    kept = by(rows, "Organization code", "A-1")
    assert (
        kept["Evaluation program"] == "2023年度五星支部"
        and kept["Program kind"] == "五星达标党支部"
    )
    assert (kept["Title"], kept["Title status"]) == ("五星党支部", "有效")
    assert kept["Awarded on"] == datetime.datetime(2023, 12, 1)
    assert kept["Valid until"] == datetime.datetime(2029, 12, 1)  # kept: another term
    assert (kept["Re-reviews"], kept["Last re-review outcome"]) == (1, "保留")
    assert kept["Last re-review on"] == datetime.datetime(2026, 11, 20)
    assert kept["Last re-review reason"] == "复查合格"
    assert kept["Revoked on"] is None and kept["Reason for revoking"] is None
    revoked = by(rows, "Organization code", "B-1")
    assert (revoked["Title status"], revoked["Revoked on"]) == (
        "已撤销",
        datetime.datetime(2025, 6, 1),
    )
    assert revoked["Reason for revoking"] == "组织生活不规范"
    assert revoked["Last re-review outcome"] == "已撤销"
    fresh = by(rows, "Organization code", "A-2")
    assert (fresh["Re-reviews"], fresh["Last re-review outcome"]) == (0, None)
    assert fresh["Organization kind"] == "党支部" and fresh["Unit"] == "市统计局"


# --- scope -----------------------------------------------------------------------------------

SCOPE = [
    ("evaluation_applications", "secretary_a", {"A-1"}),
    ("evaluation_applications", "secretary_b", {"B-1"}),
    ("evaluation_applications", "inspector_a", {"A-1", "B-1"}),  # assigned: not the draft
    ("evaluation_applications", "inspector_city", set()),  # not assigned
    ("evaluation_applications", "staff", {"A-1", "A-2", "B-1"}),
    ("designations", "secretary_a", {"A-1"}),
    ("designations", "secretary_b", {"B-1"}),
    ("designations", "inspector_a", {"A-1", "A-2"}),
    ("designations", "inspector_city", {"A-1", "A-2", "B-1"}),
    ("designations", "staff", {"A-1", "A-2", "B-1"}),
]


@pytest.mark.parametrize("code, role, expected", SCOPE)
def test_each_user_gets_only_the_rows_of_their_scope(code, role, expected, data, users):
    rows = build(code, users[role])[2]
    assert {r["Organization code"] for r in rows} == expected


def test_a_filter_outside_the_scope_gives_nothing(data, secretary_a, tree):
    for code in CODES:
        assert build(code, secretary_a, unit=tree.unit_b)[2] == [], code
        assert build(code, secretary_a, organization=tree.branch_b)[2] == [], code


# --- filters ---------------------------------------------------------------------------------


def test_application_filters(data, staff, tree):
    def codes(**params):
        rows = build("evaluation_applications", staff, **params)[2]
        return sorted(r["Organization code"] for r in rows)

    program = data["a1"].program
    assert codes(program=program) == ["A-1", "A-2", "B-1"]
    assert codes(program=data["stars"]) == []
    assert codes(program_kind=ProgramKind.DEMONSTRATION_SITE) == ["A-1", "A-2", "B-1"]
    assert codes(program_kind=ProgramKind.BRAND) == []
    assert codes(unit=tree.unit_a) == ["A-1", "A-2"]
    assert codes(organization=tree.committee_b) == ["B-1"]  # and everything under it
    assert codes(stage=StageKind.FIELD_VISIT) == ["B-1"]
    assert codes(stage=StageKind.COLLECTIVE_REVIEW) == ["A-1"]
    assert codes(status=ApplicationStatus.DRAFT) == ["A-2"]
    assert codes(status=ApplicationStatus.UNDER_REVIEW, unit=tree.unit_b) == ["B-1"]
    ledger = build(
        "evaluation_applications", staff, program=program, stage="field_visit", status="draft"
    )[0]
    with override("zh-hans"):
        assert ledger.params.describe() == [
            f"评选项目：{program.name}",
            "评审环节：实地考察",
            "申报状态：草稿",
        ]
    assert ledger.filename().startswith(
        f"evaluation_applications-program{program.pk}-field_visit-draft-"
    )


def test_designation_filters(data, staff, tree):
    def codes(**params):
        return sorted(r["Organization code"] for r in build("designations", staff, **params)[2])

    assert codes(program=data["stars"]) == ["A-1", "B-1"]
    assert codes(program_kind=ProgramKind.DEMONSTRATION_SITE) == ["A-2"]
    assert codes(status=DesignationStatus.REVOKED) == ["B-1"]
    assert codes(status=DesignationStatus.CURRENT, unit=tree.unit_a) == ["A-1", "A-2"]
    assert codes(organization=tree.branch_a) == ["A-1"]


def test_the_filter_forms_validate_choices(data, secretary_a):
    form = LedgerFilterForm(REGISTRY["evaluation_applications"], secretary_a)
    assert {p.pk for p in form.fields["program"].queryset} == {
        data["a1"].program_id,
        data["stars"].pk,
    }
    with override("zh-hans"):
        assert dict(form.fields["stage"].choices)[""] == "全部环节"
    params = params_from_json(
        REGISTRY["designations"],
        secretary_a,
        {"program": data["stars"].pk, "program_kind": "five_star", "status": "revoked"},
    )
    assert params["program"] == data["stars"] and params["status"] == "revoked"
    with pytest.raises(Exception, match="status"):
        params_from_json(REGISTRY["designations"], secretary_a, {"status": "awarded"})
    with pytest.raises(Exception, match="program"):
        params_from_json(REGISTRY["designations"], secretary_a, {"program": 999999})


# --- queries: constant, or growing only with the number of chunks ------------------------------


def _more(tree, program, staff, n, start):
    """n more branches under each committee, each with an application under review scored by
    staff at 实地考察 (every criterion), and a title."""
    branches = []
    for i in range(start, start + n):
        for parent, unit in ((tree.committee_a, tree.unit_a), (tree.committee_b, tree.unit_b)):
            branches.append(
                Organization.objects.create(
                    code=f"M{parent.code}{i}",
                    name=f"新增支部{parent.code}{i}",
                    kind=OrganizationKind.BRANCH,
                    unit=unit,
                    parent=parent,
                )
            )
    first = program.stages.order_by("order").first()
    applications = Application.objects.bulk_create(
        Application(
            program=program,
            organization=branch,
            status=ApplicationStatus.UNDER_REVIEW,
            stage=first,
            nominated=True,
        )
        for branch in branches
    )
    sheets = ReviewSheet.objects.bulk_create(
        ReviewSheet(
            application=a,
            stage=first,
            reviewer=staff,
            total=Decimal("90.00"),
            submitted_at=datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC),
        )
        for a in applications
    )
    criteria = criteria_of(program)
    Score.objects.bulk_create(
        Score(sheet=s, criterion=c, score=Decimal("18")) for s in sheets for c in criteria
    )
    Designation.objects.bulk_create(
        Designation(
            program=program,
            organization=branch,
            title=program.title,
            awarded_on=D(2025, 12, 1),
            valid_until=D(2028, 12, 1),
        )
        for branch in branches
    )


# The application ledger: one query for the rows, four a chunk (sheets, scores, self-assessments,
# criteria). The designation ledger: one; an inspector's scope of titles reads its ids first.
QUERIES = {"evaluation_applications": 5, "designations": 1}
GROWN = {
    "evaluation_applications": {"secretary_a": 0, "inspector_a": 30, "staff": 30},
    "designations": {"secretary_a": 0, "inspector_a": 15, "staff": 30},
}


@pytest.mark.parametrize("code", CODES)
def test_queries_do_not_grow_with_rows(
    code, data, users, tree, program, staff, django_assert_num_queries
):
    def write(role, **params):
        return write_xlsx(REGISTRY[code](users[role], params), io.BytesIO())

    roles = ("secretary_a", "inspector_a", "staff")
    expected = {
        role: QUERIES[code] + (code == "designations" and role == "inspector_a") for role in roles
    }
    few = {}
    for role in roles:
        with django_assert_num_queries(expected[role]):
            few[role] = write(role)
    _more(tree, program, staff, 15, 0)
    for role in roles:
        with django_assert_num_queries(expected[role]):
            many = write(role)
        assert many == few[role] + GROWN[code][role], role
    with django_assert_num_queries(QUERIES[code] + (code == "designations")):
        write("inspector_a", unit=tree.unit_a, program=program)


def test_the_reviews_are_read_per_chunk(data, staff, tree, program, django_assert_num_queries):
    _more(tree, program, staff, 15, 0)
    ledger = REGISTRY["evaluation_applications"](staff, {})
    ledger.chunk_size = 10
    total = ledger.count()
    assert total == 33
    with django_assert_num_queries(1 + 4 * -(-total // 10)):
        assert write_xlsx(ledger, io.BytesIO()) == total
