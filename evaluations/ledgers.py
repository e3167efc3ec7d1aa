"""The evaluations app's ledgers (台账): applications with their review (申报评审台账) and
titles awarded (称号台账).

Each starts from the evaluations selectors, so a user's file holds what their pages show: staff
everything; a secretary their organizations' applications and titles; an inspector the
applications of the programs they are assigned to review (`visible_applications`) and the titles
in their scope (`visible_designations`). Filters: a program (`ProgramFilter`), a program kind, a
unit and an organization (the framework's, through `Ledger.organizations()`), and the status; the
application ledger also the review stage (the kind of stage an application is at, or stopped at).

The columns are declared once, whatever the data, as the framework needs them (the API lists
them, the portal describes them, the export job writes them):

- a stage's result and its reviewers: two columns per *kind* of stage (`StageKind`: 实地考察、
  集体评审、互比互评、现场考核, the four stages `defaults.seed_program` gives a program). The
  result is the one `selectors.stage_results` gives the pages (`rules.stage_result`: the mean of
  the submitted sheets' totals, trimmed from the program's `trimmed_mean_from` reviewers on); the
  reviewers are the submitted sheets. Should a program have two stages of one kind, the later
  stage's figures are shown.
- the criteria: one column per criterion of the standards (`defaults.STANDARDS_BY_KIND`, five for
  committees and general branches, five for branches), matched by name, holding the mean score
  of the sheets that count at the application's last scored stage: those its result counts (the
  highest and lowest totals dropped when the result is a trimmed mean, ties broken by the older
  sheet), so that with the standard weights the scores add up to that stage's result. A criterion
  staff renamed or added is in "Other criteria" as text ("name：score"). Which stage the scores are
  of is a column of its own.
- the self-assessed total is `rules.sheet_total` of the self-assessment (out of 100, like a
  reviewer's total); empty without any self-assessed score (a nomination).

Queries, whatever the number of rows: the application ledger one for the applications and, per
`chunk_size` applications, four (the sheets, the scores that count, the self-assessments, the
criteria); the designation ledger one (the last re-review and the count as subqueries). An
inspector's scope of titles adds one (`branches.selectors.within_scope` reads its ids first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

from django import forms
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from branches.models import OrganizationKind
from branches.selectors import SubqueryCount
from reports.ledgers import (
    BOOL,
    DATE,
    DATETIME,
    DECIMAL,
    INT,
    ChoicesFilter,
    Column,
    Computed,
    Label,
    Ledger,
    LedgerFilter,
    OrganizationFilter,
    Row,
    UnitFilter,
    register,
)

from . import rules
from .defaults import STANDARDS_BY_KIND
from .models import (
    Application,
    ApplicationStatus,
    Criterion,
    Designation,
    DesignationStatus,
    Program,
    ProgramKind,
    ReReview,
    ReReviewOutcome,
    ReviewSheet,
    Score,
    SelfAssessment,
    StageKind,
)
from .selectors import visible_applications, visible_designations

if TYPE_CHECKING:
    from accounts.models import User


def _chunks(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


# -- filters ----------------------------------------------------------------------------------


class ProgramFilter(LedgerFilter):
    """An evaluation program. Every program is offered (a program, like the titles it awards, is
    public); the rows stay those of the user's scope."""

    name = "program"
    label = _("Evaluation program")
    api_type = "integer"
    api_help = "The id of an evaluation program."

    def form_field(self, user: User | None) -> forms.Field:
        return forms.ModelChoiceField(
            label=self.label,
            queryset=Program.objects.order_by("-year", "name"),
            required=self.required,
            empty_label=_("All programs"),
        )

    def to_json(self, value: Any) -> Any:
        return value.pk

    def describe(self, value: Any) -> str:
        return gettext("Evaluation program: %(name)s") % {"name": value.name}

    def filename_part(self, value: Any) -> str:
        return f"program{value.pk}"


def program_kind_filter() -> ChoicesFilter:
    return ChoicesFilter(
        "program_kind", _("Program kind"), ProgramKind, empty_label=_("Every kind of program")
    )


# -- what the ledgers share -------------------------------------------------------------------


class EvaluationLedgerBase(Ledger):
    """Narrowing by the filters both ledgers take (their rows have `program` and
    `organization`)."""

    def narrow(self, rows: QuerySet) -> QuerySet:
        params = self.params
        if params["program"] is not None:
            rows = rows.filter(program=params["program"])
        if params["program_kind"] is not None:
            rows = rows.filter(program__kind=params["program_kind"])
        if params["status"] is not None:
            rows = rows.filter(status=params["status"])
        if params["unit"] is not None or params["organization"] is not None:
            # Within the scope already; narrowed by unit (joint committees included) and by
            # organization (and all under it), as every ledger narrows.
            rows = rows.filter(organization__in=self.organizations().values("pk"))
        return rows


ORDER = (
    "-program__year",
    "program__name",
    "organization__unit__sort_order",
    "organization__path",
    "pk",
)


# -- 申报评审台账 ---------------------------------------------------------------------------------

# Two columns per kind of stage: its result and how many reviewers' sheets it counts.
STAGE_HEADERS = {
    StageKind.FIELD_VISIT: (_("Field visit: result"), _("Field visit: reviewers")),
    StageKind.COLLECTIVE_REVIEW: (
        _("Collective review: result"),
        _("Collective review: reviewers"),
    ),
    StageKind.PEER_COMPARISON: (_("Peer comparison: result"), _("Peer comparison: reviewers")),
    StageKind.ON_SITE_ASSESSMENT: (
        _("On-site assessment: result"),
        _("On-site assessment: reviewers"),
    ),
}
# The standards' criteria, by name (committees' and general branches' first, then branches').
STANDARD_CRITERIA = list(
    dict.fromkeys(name for standards in STANDARDS_BY_KIND.values() for name, _d, _m in standards)
)


class _Criterion(NamedTuple):
    """What `rules.sheet_total` reads of a criterion."""

    pk: int
    weight: Decimal
    max_score: Decimal


def counted_sheets(sheets: list[tuple[Decimal, int]], trimmed_from: int) -> list[int]:
    """The sheets (total, id) a stage's result counts, as `rules.stage_result` counts totals:
    all, or from `trimmed_from` reviewers on all but the highest and the lowest total (of equal
    totals, the older sheet is dropped first at the bottom and the newer at the top)."""
    return [pk for _total, pk in rules.counted(sorted(sheets), trimmed_from)]


def _stage_value(kind: str, index: int) -> Computed:
    return Computed(lambda row: row["stages"].get(kind, (None, None))[index])


def _criterion_value(name: str) -> Computed:
    return Computed(lambda row: row["criterion_means"].get(name))


def _other_criteria(row: Row) -> str | None:
    others = [
        f"{name}：{mean}"
        for name, mean in row["criterion_means"].items()
        if name not in STANDARD_CRITERIA
    ]
    return "；".join(others) or None


@register
class ApplicationLedger(EvaluationLedgerBase):
    """Every application in scope with its self-assessment and each stage's result."""

    code = "evaluation_applications"
    title = _("Application and review ledger")
    description = _(
        "Every application to an evaluation program: the organization, its status and stage, "
        "the self-assessed total, each review stage's result and reviewers, and the mean score "
        "of each criterion at the last stage scored."
    )
    filters = [
        ProgramFilter(),
        program_kind_filter(),
        UnitFilter(),
        OrganizationFilter(),
        ChoicesFilter("stage", _("Review stage"), StageKind, empty_label=_("Every stage")),
        ChoicesFilter(
            "status", _("Application status"), ApplicationStatus, empty_label=_("Every status")
        ),
    ]
    # rows() reads the scores by the application, its program and its organization's kind.
    extra_fields = ("pk", "program_id", "program__trimmed_mean_from", "organization__kind")
    columns = [
        Column(_("Evaluation program"), "program__name", 28),
        Column(_("Program kind"), Label("program__kind", ProgramKind), 14),
        Column(_("Program year"), "program__year", 8, INT),
        Column(_("Unit"), "organization__unit__name", 24),
        Column(_("Organization"), "organization__name", 26),
        Column(_("Organization code"), "organization__code", 12),
        Column(_("Organization kind"), Label("organization__kind", OrganizationKind), 12),
        Column(_("Application status"), Label("status", ApplicationStatus), 10),
        Column(_("Nominated by staff"), "nominated", 8, BOOL),
        Column(_("Current stage"), "stage__name", 12),
        Column(_("Submitted at"), "submitted_at", 16, DATETIME),
        Column(_("Decided at"), "decided_at", 16, DATETIME),
        Column(_("Self-assessed total"), Computed(lambda row: row["self_total"]), 10, DECIMAL),
        *[
            column
            for kind, (result, reviewers) in STAGE_HEADERS.items()
            for column in (
                Column(result, _stage_value(kind, 0), 10, DECIMAL),
                Column(reviewers, _stage_value(kind, 1), 8, INT),
            )
        ],
        Column(_("Criterion scores at stage"), Computed(lambda row: row["scored_stage"]), 12),
        *[Column(name, _criterion_value(name), 10, DECIMAL) for name in STANDARD_CRITERIA],
        Column(_("Other criteria"), Computed(_other_criteria), 30),
    ]

    def queryset(self) -> QuerySet[Application]:
        applications = self.narrow(visible_applications(self.user))
        if self.params["stage"] is not None:
            applications = applications.filter(stage__kind=self.params["stage"])
        return applications.order_by(*ORDER)

    def rows(self) -> Iterable[Row]:
        for chunk in _chunks(super().rows(), self.chunk_size):
            found = self.reviews(chunk)
            for row in chunk:
                row.update(found[row["pk"]])
                yield row

    def reviews(self, chunk: list[dict]) -> dict[int, dict[str, Any]]:
        """application id -> its self-assessed total, its stages' results and reviewers, and
        the criteria's mean scores at its last scored stage: four queries."""
        ids = [row["pk"] for row in chunk]
        trimmed = {row["pk"]: row["program__trimmed_mean_from"] for row in chunk}
        found: dict[int, dict[str, Any]] = {
            pk: {"stages": {}, "scored_stage": None, "criterion_means": {}, "self_total": None}
            for pk in ids
        }
        # The submitted sheets, by application and stage (as selectors.stage_results reads).
        sheets: dict[int, dict[int, list[tuple[Decimal, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        stages: dict[int, tuple[int, str, str]] = {}
        for app_id, stage_id, order, kind, name, total, pk in (
            ReviewSheet.objects.filter(application_id__in=ids, submitted_at__isnull=False)
            .order_by()
            .values_list(
                "application_id",
                "stage_id",
                "stage__order",
                "stage__kind",
                "stage__name",
                "total",
                "pk",
            )
        ):
            sheets[app_id][stage_id].append((total, pk))
            stages[stage_id] = (order, kind, name)
        counted: dict[int, int] = {}  # sheet id -> application id, at its last scored stage
        for app_id, by_stage in sheets.items():
            into = found[app_id]
            ordered = sorted(by_stage, key=lambda stage_id: stages[stage_id][0])
            for stage_id in ordered:  # a later stage of the same kind wins
                totals = by_stage[stage_id]
                result = rules.stage_result([t for t, _pk in totals], trimmed[app_id])
                into["stages"][stages[stage_id][1]] = (result, len(totals))
            last = ordered[-1]
            into["scored_stage"] = stages[last][2]
            for pk in counted_sheets(by_stage[last], trimmed[app_id]):
                counted[pk] = app_id
        # The criteria's scores on the sheets that count, in the criteria's order.
        scores: dict[int, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
        for sheet_id, name, score in (
            Score.objects.filter(sheet_id__in=list(counted))
            .order_by("criterion__sort_order", "criterion_id")
            .values_list("sheet_id", "criterion__name", "score")
        ):
            scores[counted[sheet_id]][name].append(score)
        for app_id, by_name in scores.items():
            found[app_id]["criterion_means"] = {
                name: rules.rounded(sum(values, Decimal(0)) / len(values))
                for name, values in by_name.items()
            }
        # The self-assessment: a total out of 100 over the criteria of the organization's kind.
        assessed: dict[int, dict[int, Decimal]] = defaultdict(dict)
        for app_id, criterion_id, score in (
            SelfAssessment.objects.filter(application_id__in=ids, score__isnull=False)
            .order_by()
            .values_list("application_id", "criterion_id", "score")
        ):
            assessed[app_id][criterion_id] = score
        criteria: dict[tuple[int, str], list[_Criterion]] = defaultdict(list)
        programs = {row["program_id"] for row in chunk}
        for pk, program_id, kind, weight, max_score in (
            Criterion.objects.filter(program_id__in=programs)
            .order_by()
            .values_list("pk", "program_id", "organization_kind", "weight", "max_score")
        ):
            criteria[(program_id, kind)].append(_Criterion(pk, weight, max_score))
        for row in chunk:
            given = assessed.get(row["pk"])
            if given:
                of_kind = criteria[(row["program_id"], row["organization__kind"])]
                found[row["pk"]]["self_total"] = rules.sheet_total(given, of_kind)
        return found


# -- 称号台账 -------------------------------------------------------------------------------------


def _last_re_review(field: str) -> Subquery:
    latest = ReReview.objects.filter(designation=OuterRef("pk")).order_by("-decided_on", "-pk")
    return Subquery(latest.values(field)[:1])


@register
class DesignationLedger(EvaluationLedgerBase):
    """Every title awarded in scope, current and revoked, with its last re-review."""

    code = "designations"
    title = _("Designation ledger")
    description = _(
        "Every title awarded by an evaluation program, current and revoked: the organization, "
        "when it was awarded and until when it is valid, its re-reviews and any revocation."
    )
    filters = [
        ProgramFilter(),
        program_kind_filter(),
        UnitFilter(),
        OrganizationFilter(),
        ChoicesFilter(
            "status", _("Title status"), DesignationStatus, empty_label=_("Every status")
        ),
    ]
    columns = [
        Column(_("Evaluation program"), "program__name", 28),
        Column(_("Program kind"), Label("program__kind", ProgramKind), 14),
        Column(_("Title"), "title", 26),
        Column(_("Unit"), "organization__unit__name", 24),
        Column(_("Organization"), "organization__name", 26),
        Column(_("Organization code"), "organization__code", 12),
        Column(_("Organization kind"), Label("organization__kind", OrganizationKind), 12),
        Column(_("Awarded on"), "awarded_on", 12, DATE),
        Column(_("Valid until"), "valid_until", 12, DATE),
        Column(_("Title status"), Label("status", DesignationStatus), 8),
        Column(_("Listed for re-review on"), "re_review_listed_on", 12, DATE),
        Column(_("Revoked on"), "revoked_on", 12, DATE),
        Column(_("Reason for revoking"), "revoke_reason", 30),
        Column(_("Re-reviews"), "re_review_count", 8, INT),
        Column(_("Last re-review on"), "last_re_review_on", 12, DATE),
        Column(_("Last re-review outcome"), Label("last_outcome", ReReviewOutcome), 10),
        Column(_("Last re-review reason"), "last_reason", 30),
    ]

    def queryset(self) -> QuerySet[Designation]:
        return self.narrow(visible_designations(self.user)).order_by(*ORDER)

    def annotate(self, queryset: QuerySet) -> QuerySet:
        reviews = ReReview.objects.filter(designation=OuterRef("pk")).values("pk")
        return queryset.annotate(
            re_review_count=SubqueryCount(reviews),
            last_re_review_on=_last_re_review("decided_on"),
            last_outcome=_last_re_review("outcome"),
            last_reason=_last_re_review("reason"),
        )
