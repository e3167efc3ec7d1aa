"""The committee staff's admin of evaluations (评比表彰).

Read with `committee.admin` (the site's own capability), written with `evaluation.manage`
(committee staff). Every write goes through the services, whose Chinese refusal is shown as a
form error or an admin message, never a server error:

- programs, with their criteria and stages inline and their reviewers in an autocomplete box
  (only an account that may score, i.e. an inspector or committee staff, is taken). A new
  program starts with the standard criteria and the four review stages (`defaults.seed_program`,
  the "standard" box of the add form; the list action gives them to a program that has none).
  The criteria are frozen once the window has opened or an application exists
  (`services.check_criteria_may_change`): the inline is then read-only, and a change posted
  anyway (a page opened before the freeze) is refused by the formset with the service's message,
  nothing saved. A program not yet saved has no applicant and takes its criteria as given.
- applications: nominated here (`services.nominate`); moved by the list actions (start review,
  close the current stage, award, not award: `start_review`, `close_stage`, `decide`), one
  application after the other, each refusal a message naming the application. The change page is
  read-only, self-assessments and review sheets included; the list shows the current stage's
  result as the pages compute it (`selectors.stage_results`, one query for the page).
- designations (titles): read-only; re-reviewed by the list action (keep or revoke, with the
  reason: `services.re_review`); re-reviews are a read-only history.

Every list and change page reads its rows in a constant number of queries (tests/
test_admin_queries.py).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import User
from branches.admin import OrganizationUnitFilter
from branches.models import OrganizationKind
from branches.selectors import SubqueryCount
from config.admin_base import CapabilityAdmin

from . import rules, selectors, services
from .defaults import STANDARDS_BY_KIND, seed_program
from .models import (
    Application,
    ApplicationAttachment,
    Criterion,
    Designation,
    Program,
    ReReview,
    ReReviewOutcome,
    ReviewSheet,
    Score,
    SelfAssessment,
    Stage,
)

MANAGE = "evaluation.manage"
SITE = "committee.admin"
STANDARD_KINDS = tuple(STANDARDS_BY_KIND)


# --- what the admins share ---------------------------------------------------------------------


class _Rollback(Exception):
    """Undo a service's writes: it was asked only whether it would refuse."""


def service_errors(call) -> dict[str, list[str]]:
    """What a service would refuse, by field: it runs in a savepoint that is always rolled
    back, so its own checks (the one home of its rules) decide the form's errors."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return {}
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            return exc.message_dict
        return {NON_FIELD_ERRORS: exc.messages}


def add_errors(form: forms.Form, errors: dict) -> None:
    for name, found in errors.items():
        form.add_error(name if name in form.fields else None, found)


def adopt(obj, saved) -> None:
    """Make the admin's unsaved `obj` the row a service saved (its log and redirect read it)."""
    for f in type(saved)._meta.concrete_fields:
        setattr(obj, f.attname, getattr(saved, f.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def refusal(exc: Exception) -> str:
    """A service's refusal in one line (a ValidationError's messages, or PermissionDenied's)."""
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or gettext("You may not do this.")


class ManageActionsMixin:
    """List actions declared with `permissions=["manage"]`: for holders of evaluation.manage."""

    def has_manage_permission(self, request) -> bool:
        return access.can(request.user, MANAGE)


# --- programs ----------------------------------------------------------------------------------


def criteria_refusal(program: Program, request=None) -> list[str]:
    """Why the program's criteria may not change now ([] when they may): the service's check on
    the program as stored, asked once per request (the inline's permissions ask several times)."""
    if program is None or program.pk is None:
        return []  # a program being made: nobody has applied to it
    memo = getattr(request, "_criteria_refusals", None) if request is not None else None
    if memo is not None and program.pk in memo:
        return memo[program.pk]
    try:
        # As stored: the admin's form has already put the posted name and window on `program`.
        services.check_criteria_may_change(Program.objects.get(pk=program.pk))
        found: list[str] = []
    except ValidationError as exc:
        found = exc.messages
    if request is not None:
        if memo is None:
            memo = request._criteria_refusals = {}
        memo[program.pk] = found
    return found


class CriterionFormSet(BaseInlineFormSet):
    """Refuses any change of the criteria while they are frozen, with the service's message.

    Changes are read from the posted data itself: once frozen the inline is read-only, and
    Django's read-only forms then say they never change (their data would be dropped without a
    word); a page opened before the freeze still posts its rows, and is told why nothing was
    saved."""

    def clean(self):
        super().clean()
        if self.is_bound and self.attempted_changes():
            found = criteria_refusal(self.instance)
            if found:
                raise forms.ValidationError(found)

    def attempted_changes(self) -> bool:
        """A row posted with a value other than the stored one, a row to delete, a new row."""
        skip = {"id", "DELETE", self.fk.name}
        for form in self.forms:
            if form.instance.pk and self.data.get(form.add_prefix("DELETE")) in ("on", "1", "true"):
                return True
            for name, field in form.fields.items():
                key = form.add_prefix(name)
                if name in skip or key not in self.data:
                    continue  # not posted: left as it is
                posted = field.widget.value_from_datadict(self.data, self.files, key)
                if field.has_changed(form.get_initial_for_field(field, name), posted):
                    return True
        return False


class CriterionInline(admin.TabularInline):
    model = Criterion
    formset = CriterionFormSet
    extra = 0
    fields = [
        "organization_kind",
        "sort_order",
        "name",
        "description",
        "weight",
        "max_score",
        "measure",
    ]

    def _frozen(self, request, obj) -> bool:
        return bool(criteria_refusal(obj, request))

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not self._frozen(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._frozen(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._frozen(request, obj)


class StageFormSet(BaseInlineFormSet):
    """Each kind of stage once per program (the application ledger has a column per kind)."""

    def clean(self):
        super().clean()
        kinds = [
            form.cleaned_data.get("kind")
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not self._should_delete_form(form)
            and form.cleaned_data.get("kind")
        ]
        if len(kinds) != len(set(kinds)):
            raise forms.ValidationError(gettext("A program has each kind of review stage once."))


class StageInline(admin.TabularInline):
    model = Stage
    formset = StageFormSet
    extra = 0
    fields = ["order", "kind", "name", "pass_threshold"]


class ProgramForm(forms.ModelForm):
    standard = forms.BooleanField(
        label=_("Start with the standard criteria and review stages"),
        required=False,
        initial=True,
        help_text=_(
            "The five standards for committees and general branches, the five for branches "
            "(20 points each), and the four review stages, when none are given below."
        ),
    )

    class Meta:
        model = Program
        fields = [
            "name",
            "kind",
            "year",
            "opens_on",
            "closes_on",
            "title",
            "valid_years",
            "trimmed_mean_from",
            "quota",
            "reviewers",
        ]

    def clean_quota(self):
        """{"branch": 90}: at most this many titles per organization kind (`services.decide`)."""
        quota = self.cleaned_data.get("quota") or {}
        kinds = OrganizationKind.values
        if not isinstance(quota, dict) or any(
            kind not in kinds or type(number) is not int or number < 0
            for kind, number in quota.items()
        ):
            raise forms.ValidationError(
                gettext(
                    'Give the quota by organization kind, e.g. {"branch": 90}; the kinds are '
                    "%(kinds)s."
                )
                % {
                    "kinds": "、".join(
                        f"{value}（{label}）" for value, label in OrganizationKind.choices
                    )
                }
            )
        return quota

    def clean_reviewers(self):
        reviewers = self.cleaned_data.get("reviewers")
        if reviewers is None:
            return reviewers
        refused = [user for user in reviewers if not _may_score(user)]
        if refused:
            raise forms.ValidationError(
                gettext("%(names)s cannot review: only inspectors and committee staff score.")
                % {"names": "、".join(str(user) for user in refused)}
            )
        return reviewers

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_on"), cleaned.get("closes_on")
        if opens and closes and closes < opens:
            self.add_error("closes_on", gettext("Applications cannot close before they open."))
        return cleaned


class _Assignment:
    """What `accounts.access.assigned_reviewer` asks of an object: its reviewers."""

    def __init__(self, user: User):
        self.reviewers = User.objects.filter(pk=user.pk)


def _may_score(user: User) -> bool:
    """Would this account score the program's applications once assigned to it?"""
    return access.can(user, "evaluation.score", _Assignment(user))


def _count(queryset) -> SubqueryCount:
    return SubqueryCount(queryset.values("pk"))


@admin.register(Program)
class ProgramAdmin(CapabilityAdmin, ManageActionsMixin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = MANAGE
    form = ProgramForm
    list_display = [
        "name",
        "kind",
        "year",
        "opens_on",
        "closes_on",
        "title",
        "criteria_frozen",
        "application_count",
        "designation_count",
    ]
    list_filter = ["kind", "year"]
    search_fields = ["name", "title"]
    autocomplete_fields = ["reviewers"]
    inlines = [CriterionInline, StageInline]
    actions = ["give_the_standards"]
    list_per_page = 50

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and "standard" in fields:
            fields.remove("standard")  # only a new program is given them on saving
        return fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                application_total=_count(Application.objects.filter(program=OuterRef("pk"))),
                designation_total=_count(Designation.objects.filter(program=OuterRef("pk"))),
            )
        )

    @admin.display(description=_("criteria frozen"), boolean=True)
    def criteria_frozen(self, obj):
        return rules.criteria_frozen(obj, timezone.localdate(), obj.application_total > 0)

    @admin.display(description=_("applications"), ordering="application_total")
    def application_count(self, obj):
        return obj.application_total

    @admin.display(description=_("titles awarded"), ordering="designation_total")
    def designation_count(self, obj):
        return obj.designation_total

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change and form.cleaned_data.get("standard"):
            # A new program: nobody has applied yet, whatever its window.
            seed_program(form.instance, Criterion, Stage)

    @admin.action(
        description=_("Give the standard criteria and review stages"), permissions=["manage"]
    )
    def give_the_standards(self, request, queryset):
        """The standard criteria to a program without criteria whose criteria may still change,
        the four review stages to a program without stages (`defaults.seed_program`)."""
        for program in queryset:
            refused = criteria_refusal(program, request)
            seed_program(program, Criterion, Stage, kinds=() if refused else STANDARD_KINDS)
            criteria, stages = program.criteria.count(), program.stages.count()
            if refused and not criteria:
                messages.error(request, "；".join(refused))
            messages.info(
                request,
                gettext("%(program)s has %(criteria)d criteria and %(stages)d review stages.")
                % {"program": program.name, "criteria": criteria, "stages": stages},
            )


# --- applications ------------------------------------------------------------------------------


class NominationForm(forms.ModelForm):
    """Staff nominate an organization (`services.nominate`): a submitted application without a
    self-assessment. The service's refusal is the form's error."""

    user = None

    class Meta:
        model = Application
        fields = ["program", "organization", "summary"]

    def clean(self):
        cleaned = super().clean()
        program, organization = cleaned.get("program"), cleaned.get("organization")
        if program is not None and organization is not None:
            add_errors(
                self,
                service_errors(
                    lambda: services.nominate(
                        self.user, program, organization, cleaned.get("summary") or ""
                    )
                ),
            )
        return cleaned

    def _get_validation_exclusions(self):
        # One application per organization per program: the service says it, in its words
        # (the model's constraint would say it a second time).
        return {*super()._get_validation_exclusions(), "organization"}


class ApplicationUnitFilter(OrganizationUnitFilter):
    """Applications of organizations of the unit (joint committees included)."""


class ApplicationChangeList(ChangeList):
    """Each row with its current stage's result as the pages compute it: one query a page."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        results = selectors.stage_results(self.result_list)
        for application in self.result_list:
            application.current_result = results[application.pk].get(application.stage_id)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SelfAssessmentInline(ReadOnlyInline):
    model = SelfAssessment
    fields = ["criterion", "score", "evidence"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("criterion")


class ReviewSheetInline(ReadOnlyInline):
    model = ReviewSheet
    fields = ["stage", "reviewer", "total", "submitted_at", "scores"]
    verbose_name_plural = _("review sheets")

    def get_queryset(self, request):
        scores = Score.objects.select_related("criterion").order_by(
            "criterion__sort_order", "criterion_id"
        )
        return (
            super()
            .get_queryset(request)
            .select_related(
                "stage", "reviewer", "application__organization", "application__program"
            )
            .prefetch_related(Prefetch("scores", queryset=scores))
        )

    @admin.display(description=_("scores"))
    def scores(self, obj):
        return "；".join(f"{s.criterion.name} {s.score}" for s in obj.scores.all()) or "—"


class AttachmentInline(ReadOnlyInline):
    model = ApplicationAttachment
    fields = ["original_name", "content_type", "size", "uploaded_at"]


@admin.register(Application)
class ApplicationAdmin(CapabilityAdmin, ManageActionsMixin, admin.ModelAdmin):
    """Nominations here; everything else through the list actions (the services)."""

    read_capability = SITE
    write_capability = MANAGE
    form = NominationForm
    list_display = [
        "organization",
        "program",
        "organization_kind",
        "unit",
        "status",
        "stage",
        "result",
        "reviewer_count",
        "nominated",
        "submitted_at",
    ]
    list_filter = [
        "program",
        "status",
        "stage__kind",
        "organization__kind",
        ApplicationUnitFilter,
        "nominated",
    ]
    list_select_related = ["program", "organization", "organization__unit", "stage"]
    search_fields = ["organization__name", "organization__code", "program__name"]
    autocomplete_fields = ["organization"]
    actions = ["start_review", "close_stage", "award", "not_award"]
    inlines = [SelfAssessmentInline, ReviewSheetInline, AttachmentInline]
    list_per_page = 50
    change_fields = [
        "program",
        "organization",
        "status",
        "stage",
        "stage_results",
        "summary",
        "nominated",
        "created_by",
        "created_at",
        "submitted_at",
        "decided_at",
    ]
    readonly_fields = ["stage_results"]

    def get_fields(self, request, obj=None):
        return ["program", "organization", "summary"] if obj is None else self.change_fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user  # a class made for this request (modelform_factory)
        return form

    def get_inline_instances(self, request, obj=None):
        return [] if obj is None else super().get_inline_instances(request, obj)

    def get_queryset(self, request):
        current = Count(
            "sheets",
            filter=Q(sheets__stage=F("stage"), sheets__submitted_at__isnull=False),
        )
        return (
            super()
            .get_queryset(request)
            .select_related("program", "organization", "organization__unit", "stage", "created_by")
            .annotate(reviewer_total=current)
        )

    def get_changelist(self, request, **kwargs):
        return ApplicationChangeList

    def has_change_permission(self, request, obj=None):
        # Read-only once made: it moves by the list actions, through the services.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # withdrawn or not awarded, an application stays on record

    # -- the list's columns -------------------------------------------------------------------
    @admin.display(description=_("organization kind"), ordering="organization__kind")
    def organization_kind(self, obj):
        return obj.organization.get_kind_display()

    @admin.display(description=_("unit"), ordering="organization__unit__sort_order")
    def unit(self, obj):
        return obj.organization.unit

    @admin.display(description=_("current stage's result"))
    def result(self, obj):
        value = getattr(obj, "current_result", None)
        return "—" if value is None else value

    @admin.display(description=_("reviewers at the current stage"), ordering="reviewer_total")
    def reviewer_count(self, obj):
        return obj.reviewer_total if obj.stage_id else "—"

    @admin.display(description=_("results by stage"))
    def stage_results(self, obj):
        if obj.pk is None:
            return "—"
        results = selectors.stage_results([obj])[obj.pk]
        stages = obj.program.stages.order_by("order")
        lines = [f"{stage.name} {results[stage.pk]}" for stage in stages if stage.pk in results]
        return "；".join(lines) or "—"

    # -- saving: a nomination -----------------------------------------------------------------
    def save_model(self, request, obj, form, change):
        cleaned = form.cleaned_data
        adopt(
            obj,
            services.nominate(
                request.user,
                cleaned["program"],
                cleaned["organization"],
                cleaned.get("summary") or "",
            ),
        )

    # -- the actions: one service call per application ------------------------------------------
    def _each(self, request, queryset, act, done: str) -> None:
        moved = 0
        for application in queryset.select_related("program", "organization", "stage"):
            try:
                act(application)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(
                    request,
                    gettext("%(application)s: %(reason)s")
                    % {"application": application, "reason": refusal(exc)},
                )
            else:
                moved += 1
        if moved:
            messages.success(request, done % {"count": moved})

    @admin.action(description=_("Start the review (first stage)"), permissions=["manage"])
    def start_review(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a: services.start_review(request.user, a),
            gettext("Review started for %(count)d application(s)."),
        )

    @admin.action(description=_("Close the current stage"), permissions=["manage"])
    def close_stage(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a: services.close_stage(request.user, a),
            gettext("Stage closed for %(count)d application(s)."),
        )

    @admin.action(description=_("Award the title"), permissions=["manage"])
    def award(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a: services.decide(request.user, a, award=True),
            gettext("Title awarded to %(count)d application(s)."),
        )

    @admin.action(description=_("Do not award"), permissions=["manage"])
    def not_award(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda a: services.decide(request.user, a, award=False),
            gettext("%(count)d application(s) not awarded."),
        )


# --- designations and re-reviews ---------------------------------------------------------------


class DueForReReviewFilter(admin.SimpleListFilter):
    title = _("re-review")
    parameter_name = "re_review"

    def lookups(self, request, model_admin):
        return [
            ("due", _("Due within a month (or overdue)")),
            ("listed", _("Listed for re-review")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "due":
            due = selectors.due_for_re_review().order_by().values("pk")
            return queryset.filter(pk__in=due)
        if self.value() == "listed":
            return queryset.filter(re_review_listed_on__isnull=False)
        return queryset


class DesignationUnitFilter(OrganizationUnitFilter):
    """Titles of organizations of the unit (joint committees included)."""


class ReReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=ReReviewOutcome.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea)


class ReReviewInline(ReadOnlyInline):
    model = ReReview
    fields = ["due_on", "outcome", "reason", "decided_on", "decided_by"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("designation__organization", "decided_by")
        )


def _last_re_review(field: str) -> Subquery:
    latest = ReReview.objects.filter(designation=OuterRef("pk")).order_by("-decided_on", "-pk")
    return Subquery(latest.values(field)[:1])


@admin.register(Designation)
class DesignationAdmin(CapabilityAdmin, ManageActionsMixin, admin.ModelAdmin):
    """Titles are made by awarding (`services.decide`); here they are read and re-reviewed."""

    read_capability = SITE
    write_capability = MANAGE
    re_review_template = "admin/evaluations/designation/re_review.html"
    list_display = [
        "organization",
        "title",
        "program",
        "awarded_on",
        "valid_until",
        "status",
        "re_review_listed_on",
        "last_outcome",
        "revoked_on",
    ]
    list_filter = [
        "program__kind",
        "status",
        DueForReReviewFilter,
        DesignationUnitFilter,
        "program",
    ]
    list_select_related = ["program", "organization"]
    search_fields = ["organization__name", "organization__code", "title", "program__name"]
    actions = ["re_review"]
    inlines = [ReReviewInline]
    fields = [
        "program",
        "organization",
        "application",
        "title",
        "awarded_on",
        "valid_until",
        "status",
        "re_review_listed_on",
        "revoked_on",
        "revoke_reason",
    ]
    list_per_page = 50

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("program", "organization", "application")
            .annotate(last_re_review_outcome=_last_re_review("outcome"))
        )

    def has_add_permission(self, request):
        return False  # awarded through an application

    def has_change_permission(self, request, obj=None):
        return False  # re-reviewed by the list action

    def has_delete_permission(self, request, obj=None):
        return False  # a revoked title stays in the history

    @admin.display(description=_("last re-review"), ordering="last_re_review_outcome")
    def last_outcome(self, obj):
        value = obj.last_re_review_outcome
        return ReReviewOutcome(value).label if value else "—"

    @admin.action(description=_("Re-review: keep or revoke"), permissions=["manage"])
    def re_review(self, request, queryset):
        form = ReReviewForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            kept = 0
            for designation in queryset.select_related("program", "organization"):
                try:
                    services.re_review(
                        request.user,
                        designation,
                        form.cleaned_data["outcome"],
                        form.cleaned_data["reason"],
                    )
                except (ValidationError, PermissionDenied) as exc:
                    messages.error(
                        request,
                        gettext("%(designation)s: %(reason)s")
                        % {"designation": designation, "reason": refusal(exc)},
                    )
                else:
                    kept += 1
            if kept:
                messages.success(
                    request,
                    gettext("Re-review recorded for %(count)d title(s).") % {"count": kept},
                )
            return None  # back to the list
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Re-review titles"),
            "form": form,
            "designations": queryset.select_related("program", "organization"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, self.re_review_template, context)


@admin.register(ReReview)
class ReReviewAdmin(CapabilityAdmin, admin.ModelAdmin):
    """The history of re-reviews: made by the designation list's action, never changed."""

    read_capability = SITE
    write_capability = None
    list_display = ["designation", "outcome", "reason", "due_on", "decided_on", "decided_by"]
    list_filter = ["outcome", "designation__program__kind"]
    list_select_related = ["designation__organization", "decided_by"]
    search_fields = ["designation__organization__name", "designation__title", "reason"]
    fields = ["designation", "due_on", "outcome", "reason", "decided_on", "decided_by"]
    list_per_page = 50

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("designation__organization", "decided_by")
        )
