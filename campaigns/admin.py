"""The committee staff's admin of campaigns and supervision (专项活动与督导).

Read with `committee.admin` (the site's own capability), written with `campaign.manage`;
recording a problem also asks `inspection.record_problem` (the service does), and the list's
actions `problem.accept` (committee staff hold all of them). Every write that has a service
goes through it, and its Chinese refusal is a form error or an admin message, never a server
error:

- campaigns, with their targets, volunteer teams and batches inline, the targets' progress as
  the campaign's page computes it (`selectors.target_progress`) and a link to the key tasks;
- inspection groups, with their members (only accounts that may record problems: inspectors and
  committee staff), the units they visit and their visit logs (听、看、查、访) inline;
- problems: recorded through `services.record_problem`; read-only once recorded, with their
  history and the answers (photos named) inline; the list filters by campaign, group, state,
  overdue, unit and severity, and its actions accept (`services.accept_problem`) or send back
  (`services.send_back`, with the reason asked on a page of its own), one problem after the
  other, each refusal a message naming the problem;
- annual reports (述职评议): assessed through `services.assess_annual_report`; the problems
  found in one are recorded with it, through `services.record_problem` with the report set;
- key tasks with their measures inline;
- participation: filed in the portal (`services.file_participation`), read here with its goods;
- volunteer deployments (a member sent with a team in a batch of the same campaign).

Every list and change page reads its rows in a constant number of queries (tests/
test_admin_queries.py): counts are subqueries, names come with the row, and no page offers a
drop-down of a table that grows with the city (organizations, members, accounts, units,
annual reports are autocomplete or raw-id boxes).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from branches.admin import LoadedRawIdWidget, OrganizationUnitFilter
from branches.selectors import SubqueryCount
from config.admin_base import CapabilityAdmin
from config.money import fen_sum, yuan

from . import rules, services
from .models import (
    AnnualReport,
    Campaign,
    Deployment,
    InspectionGroup,
    KeyMeasure,
    KeyTask,
    Participation,
    ParticipationGoods,
    Problem,
    ProblemEvent,
    ProblemState,
    Rectification,
    RectificationPhoto,
    Target,
    VisitLog,
    VolunteerBatch,
    VolunteerTeam,
)
from .selectors import target_progress

SITE = "committee.admin"
MANAGE = "campaign.manage"
RECORD = "inspection.record_problem"
ACCEPT = "problem.accept"


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
    except PermissionDenied as exc:
        return {NON_FIELD_ERRORS: [str(exc) or gettext("You may not do this.")]}
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


def _count(queryset) -> SubqueryCount:
    return SubqueryCount(queryset.values("pk"))


def _text(value, words: int = 12) -> str:
    return Truncator(value).words(words) if value else "—"


def _not_before(form: forms.Form, first: str, last: str, message: str) -> None:
    """`last` may not come before `first` (said on `last`, before the model's constraint)."""
    start, end = form.cleaned_data.get(first), form.cleaned_data.get(last)
    if start is not None and end is not None and end < start:
        form.add_error(last, message)


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


class CampaignUnitFilter(OrganizationUnitFilter):
    """Rows of organizations of the unit (joint committees included)."""


# --- campaigns ---------------------------------------------------------------------------------


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name",
            "kind",
            "owner",
            "starts_on",
            "ends_on",
            "description",
            "topic",
            "theme_month",
        ]

    def clean(self):
        cleaned = super().clean()
        _not_before(
            self, "starts_on", "ends_on", gettext("A campaign cannot end before it starts.")
        )
        return cleaned


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    fields = ["sort_order", "indicator", "unit_of_measure", "goal", "source", "manual_progress"]


class VolunteerTeamInline(admin.TabularInline):
    model = VolunteerTeam
    extra = 0
    fields = ["name"]


class VolunteerBatchForm(forms.ModelForm):
    class Meta:
        model = VolunteerBatch
        fields = ["number", "place", "starts_on", "ends_on"]

    def clean(self):
        cleaned = super().clean()
        _not_before(self, "starts_on", "ends_on", gettext("A batch cannot end before it starts."))
        return cleaned


class VolunteerBatchInline(admin.TabularInline):
    model = VolunteerBatch
    form = VolunteerBatchForm
    extra = 0
    fields = ["number", "place", "starts_on", "ends_on"]

    def get_queryset(self, request):
        # Each row's title is `VolunteerBatch.__str__`, which names the campaign.
        return super().get_queryset(request).select_related("campaign")


@admin.register(Campaign)
class CampaignAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = MANAGE
    form = CampaignForm
    list_display = [
        "name",
        "kind",
        "starts_on",
        "ends_on",
        "owner",
        "target_count",
        "participation_count",
        "group_count",
        "open_problem_count",
        "key_tasks",
    ]
    list_filter = ["kind"]
    search_fields = ["name", "owner", "topic"]
    date_hierarchy = "starts_on"
    fieldsets = [
        (None, {"fields": ["name", "kind", "owner", "starts_on", "ends_on", "description"]}),
        (_("Theme-day campaign"), {"fields": ["topic", "theme_month"]}),
        (_("Progress"), {"fields": ["progress", "key_tasks"]}),
    ]
    readonly_fields = ["progress", "key_tasks"]
    inlines = [TargetInline, VolunteerTeamInline, VolunteerBatchInline]
    list_per_page = 50

    def get_queryset(self, request):
        of_campaign = {"campaign": OuterRef("pk")}
        return (
            super()
            .get_queryset(request)
            .annotate(
                target_total=_count(Target.objects.filter(**of_campaign)),
                participation_total=_count(Participation.objects.filter(**of_campaign)),
                group_total=_count(InspectionGroup.objects.filter(**of_campaign)),
                open_problem_total=_count(
                    Problem.objects.unresolved().filter(group__campaign=OuterRef("pk"))
                ),
                key_task_total=_count(KeyTask.objects.filter(**of_campaign)),
            )
        )

    @admin.display(description=_("targets"), ordering="target_total")
    def target_count(self, obj):
        return obj.target_total

    @admin.display(description=_("organizations filed"), ordering="participation_total")
    def participation_count(self, obj):
        return obj.participation_total

    @admin.display(description=_("inspection groups"), ordering="group_total")
    def group_count(self, obj):
        return obj.group_total

    @admin.display(description=_("unresolved problems"), ordering="open_problem_total")
    def open_problem_count(self, obj):
        return obj.open_problem_total

    @admin.display(description=_("key tasks"))
    def key_tasks(self, obj):
        if obj.pk is None:
            return "—"
        listed = reverse("admin:campaigns_keytask_changelist")
        added = reverse("admin:campaigns_keytask_add")
        return format_html(
            '<a href="{}?campaign__id__exact={}">{}</a> · <a href="{}?campaign={}">{}</a>',
            listed,
            obj.pk,
            gettext("Key tasks: %(count)d") % {"count": getattr(obj, "key_task_total", 0)},
            added,
            obj.pk,
            gettext("Add a key task"),
        )

    @admin.display(description=_("targets' progress"))
    def progress(self, obj):
        """Each target's progress as the campaign's page has it (entered, or live)."""
        if obj.pk is None:
            return "—"
        lines = target_progress(obj)
        if not lines:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}：{} / {} {}（{}）</li>",
                (
                    (
                        line.target.indicator,
                        line.progress,
                        line.target.goal,
                        line.target.unit_of_measure,
                        "—" if line.share is None else f"{line.share:.1%}",
                    )
                    for line in lines
                ),
            ),
        )


# --- inspection groups -------------------------------------------------------------------------


class InspectionGroupForm(forms.ModelForm):
    class Meta:
        model = InspectionGroup
        fields = ["campaign", "name", "members", "units", "towns"]

    def clean_members(self):
        members = self.cleaned_data.get("members")
        if members is None:
            return members
        refused = [user for user in members if not access.can(user, RECORD)]
        if refused:
            raise forms.ValidationError(
                gettext(
                    "%(names)s cannot be in an inspection group: only inspectors and committee "
                    "staff inspect."
                )
                % {"names": "、".join(str(user) for user in refused)}
            )
        return members


class VisitLogInline(admin.TabularInline):
    model = VisitLog
    extra = 0
    fields = ["date", "method", "place", "notes"]


@admin.register(InspectionGroup)
class InspectionGroupAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = MANAGE
    form = InspectionGroupForm
    list_display = [
        "name",
        "campaign",
        "member_names",
        "unit_names",
        "towns",
        "visit_count",
        "problem_count",
        "overdue_count",
    ]
    list_filter = ["campaign"]
    list_select_related = ["campaign"]
    search_fields = ["name", "campaign__name", "towns"]
    autocomplete_fields = ["members", "units"]
    inlines = [VisitLogInline]
    list_per_page = 50

    def get_queryset(self, request):
        today = timezone.localdate()
        of_group = Problem.objects.filter(group=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .select_related("campaign")
            .prefetch_related("members", "units")
            .annotate(
                visit_total=_count(VisitLog.objects.filter(group=OuterRef("pk"))),
                problem_total=_count(of_group),
                overdue_total=_count(of_group.unresolved().filter(deadline__lt=today)),
            )
        )

    @admin.display(description=_("members"))
    def member_names(self, obj):
        return "、".join(str(user) for user in obj.members.all()) or "—"

    @admin.display(description=_("units visited"))
    def unit_names(self, obj):
        return "、".join(unit.name for unit in obj.units.all()) or "—"

    @admin.display(description=_("visits"), ordering="visit_total")
    def visit_count(self, obj):
        return obj.visit_total

    @admin.display(description=_("problems found"), ordering="problem_total")
    def problem_count(self, obj):
        return obj.problem_total

    @admin.display(description=_("overdue problems"), ordering="overdue_total")
    def overdue_count(self, obj):
        return obj.overdue_total


# --- problems ----------------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    """Past the deadline and not accepted, today (`rules.is_overdue`)."""

    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        overdue = Problem.objects.unresolved().filter(deadline__lt=timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue.values("pk"))
        if self.value() == "no":
            return queryset.exclude(pk__in=overdue.values("pk"))
        return queryset


class GroupListFilter(admin.RelatedFieldListFilter):
    """The inspection groups, named with their campaign (read with it: one query)."""

    def field_choices(self, field, request, model_admin):
        groups = InspectionGroup.objects.select_related("campaign").order_by(
            "-campaign__starts_on", "campaign__name", "pk"
        )
        return [(group.pk, str(group)) for group in groups]


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.campaign.name} {obj.name}"


def _groups() -> forms.ModelChoiceField:
    return GroupChoiceField(
        label=_("inspection group"),
        queryset=InspectionGroup.objects.select_related("campaign").order_by(
            "-campaign__starts_on", "campaign__name", "pk"
        ),
        required=False,
    )


class ProblemForm(forms.ModelForm):
    """A new problem, checked and recorded by `services.record_problem`."""

    user = None

    class Meta:
        model = Problem
        fields = [
            "organization",
            "group",
            "annual_report",
            "category",
            "description",
            "severity",
            "found_on",
            "deadline",
            "evidence",
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("organization") is None:
            return cleaned  # its own error says it is missing
        add_errors(
            self,
            service_errors(lambda: services.record_problem(self.user, self.problem_input())),
        )
        return cleaned

    def problem_input(self) -> services.ProblemInput:
        cleaned = self.cleaned_data
        return services.ProblemInput(
            organization=cleaned["organization"],
            category=cleaned.get("category") or "",
            description=cleaned.get("description") or "",
            found_on=cleaned.get("found_on"),
            deadline=cleaned.get("deadline"),
            severity=cleaned.get("severity") or "",
            evidence=cleaned.get("evidence") or "",
            group=cleaned.get("group"),
            annual_report=cleaned.get("annual_report"),
        )


class ProblemEventInline(ReadOnlyInline):
    model = ProblemEvent
    fields = ["at", "from_state", "to_state", "by", "note"]
    verbose_name_plural = _("history of the problem")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class RectificationInline(ReadOnlyInline):
    model = Rectification
    fields = ["submitted_at", "submitted_by", "measures", "evidence", "photos"]
    verbose_name_plural = _("rectification answers")

    def get_queryset(self, request):
        photos = RectificationPhoto.objects.order_by("pk")
        return (
            super()
            .get_queryset(request)
            .select_related("submitted_by")
            .prefetch_related(Prefetch("photos", queryset=photos))
        )

    @admin.display(description=_("photos"))
    def photos(self, obj):
        return "、".join(photo.original_name for photo in obj.photos.all()) or "—"


class SendBackForm(forms.Form):
    reason = forms.CharField(label=_("Why it is sent back"), max_length=500, widget=forms.Textarea)


@admin.register(Problem)
class ProblemAdmin(CapabilityAdmin, admin.ModelAdmin):
    """Recorded here (`services.record_problem`); moved by the list actions only."""

    read_capability = SITE
    write_capability = MANAGE  # and `services.record_problem` asks inspection.record_problem
    form = ProblemForm
    send_back_template = "admin/campaigns/problem/send_back.html"
    list_display = [
        "problem",
        "organization",
        "unit",
        "group",
        "category",
        "severity",
        "found_on",
        "deadline",
        "state",
        "overdue",
        "overdue_since",
        "sent_back_count",
    ]
    list_filter = [
        "group__campaign",
        ("group", GroupListFilter),
        "state",
        OverdueFilter,
        CampaignUnitFilter,
        "severity",
    ]
    list_select_related = ["organization", "organization__unit", "group", "group__campaign"]
    search_fields = ["description", "category", "organization__name", "organization__code"]
    autocomplete_fields = ["organization", "annual_report"]
    date_hierarchy = "found_on"
    actions = ["accept", "send_back"]
    inlines = [ProblemEventInline, RectificationInline]
    list_per_page = 50
    add_fields = ProblemForm.Meta.fields
    change_fields = [
        "organization",
        "group",
        "annual_report",
        "category",
        "description",
        "severity",
        "found_on",
        "deadline",
        "evidence",
        "state",
        "overdue_since",
        "created_by",
        "created_at",
    ]

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.change_fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user  # a class made for this request (modelform_factory)
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            return _groups()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_inline_instances(self, request, obj=None):
        return [] if obj is None else super().get_inline_instances(request, obj)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "organization",
                "organization__unit",
                "group",
                "group__campaign",
                "annual_report__organization",
                "created_by",
            )
            .annotate(
                sent_back_total=_count(
                    ProblemEvent.objects.filter(
                        problem=OuterRef("pk"), to_state=ProblemState.SENT_BACK
                    )
                )
            )
        )

    def has_change_permission(self, request, obj=None):
        # Read-only once recorded: it moves by the list actions, through the services.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # a problem and its history stay on record

    def has_accept_permission(self, request) -> bool:
        return access.can(request.user, ACCEPT)

    # -- the list's columns -------------------------------------------------------------------
    @admin.display(description=_("problem"), ordering="description")
    def problem(self, obj):
        return _text(obj.description)

    @admin.display(description=_("unit"), ordering="organization__unit__sort_order")
    def unit(self, obj):
        return obj.organization.unit

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return rules.is_overdue(obj.state, obj.deadline, timezone.localdate())

    @admin.display(description=_("times sent back"), ordering="sent_back_total")
    def sent_back_count(self, obj):
        return obj.sent_back_total

    # -- saving: a new problem ------------------------------------------------------------------
    def save_model(self, request, obj, form, change):
        adopt(obj, services.record_problem(request.user, form.problem_input()))

    # -- the actions: one service call per problem --------------------------------------------
    def _each(self, request, queryset, act, done: str) -> None:
        moved = 0
        for problem in queryset.select_related("organization", "group"):
            try:
                act(problem)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(
                    request,
                    gettext("%(problem)s: %(reason)s")
                    % {"problem": _text(problem.description), "reason": refusal(exc)},
                )
            else:
                moved += 1
        if moved:
            messages.success(request, done % {"count": moved})

    @admin.action(description=_("Accept the rectification"), permissions=["accept"])
    def accept(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda p: services.accept_problem(request.user, p),
            gettext("%(count)d rectification(s) accepted."),
        )

    @admin.action(description=_("Send the rectification back"), permissions=["accept"])
    def send_back(self, request, queryset):
        form = SendBackForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._each(
                request,
                queryset,
                lambda p: services.send_back(request.user, p, form.cleaned_data["reason"]),
                gettext("%(count)d rectification(s) sent back."),
            )
            return None  # back to the list
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Send rectifications back"),
            "form": form,
            "problems": queryset.select_related("organization"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, self.send_back_template, context)


# --- annual reports ----------------------------------------------------------------------------


class AnnualReportForm(forms.ModelForm):
    """The assessment is made through `services.assess_annual_report` (`save_model`)."""

    class Meta:
        model = AnnualReport
        fields = ["organization", "year", "report", "assessment"]

    def clean_assessment(self):
        assessment = self.cleaned_data.get("assessment") or ""
        if self.instance.pk and self.instance.assessment and not assessment:
            raise forms.ValidationError(gettext("An assessment can be changed, but not withdrawn."))
        return assessment


class ReportProblemInline(ReadOnlyInline):
    """The problems found in the report, as recorded (each opens on its own page)."""

    model = Problem
    fk_name = "annual_report"
    fields = ["category", "description", "severity", "found_on", "deadline", "state"]
    show_change_link = True
    verbose_name_plural = _("problems found in it")


class NewProblemForm(forms.ModelForm):
    """A problem found in the report: checked by `services.record_problem` (for the report's
    organization), recorded by `AnnualReportAdmin.save_formset`."""

    user = None
    report: AnnualReport | None = None

    class Meta:
        model = Problem
        fields = ["category", "description", "severity", "found_on", "deadline", "evidence"]

    def clean(self):
        cleaned = super().clean()
        report = self.report
        if report is None or report.organization_id is None:
            return cleaned  # the report's own form says what is missing
        add_errors(
            self,
            service_errors(
                # The report may not be saved yet: the check does not need it.
                lambda: services.record_problem(self.user, self.problem_input(None))
            ),
        )
        return cleaned

    def problem_input(self, report: AnnualReport | None) -> services.ProblemInput:
        cleaned = self.cleaned_data
        return services.ProblemInput(
            organization=self.report.organization,
            category=cleaned.get("category") or "",
            description=cleaned.get("description") or "",
            found_on=cleaned.get("found_on"),
            deadline=cleaned.get("deadline"),
            severity=cleaned.get("severity") or "",
            evidence=cleaned.get("evidence") or "",
            annual_report=report,
        )


class NewProblemFormSet(BaseInlineFormSet):
    user = None

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.user, form.report = self.user, self.instance
        return form

    @property
    def empty_form(self):
        form = super().empty_form
        form.user, form.report = self.user, self.instance
        return form


class NewProblemInline(admin.TabularInline):
    """Blank rows only: each filled one becomes a problem of the report's organization."""

    model = Problem
    fk_name = "annual_report"
    form = NewProblemForm
    formset = NewProblemFormSet
    extra = 1
    can_delete = False
    fields = NewProblemForm.Meta.fields
    verbose_name = _("problem found in it")
    verbose_name_plural = _("record problems found in it")

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.user = request.user
        return formset

    def has_add_permission(self, request, obj=None):
        return access.can(request.user, RECORD) and super().has_add_permission(request, obj)


@admin.register(AnnualReport)
class AnnualReportAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = MANAGE
    form = AnnualReportForm
    list_display = [
        "organization",
        "unit",
        "year",
        "assessment",
        "assessed_on",
        "problem_count",
        "open_problem_count",
    ]
    list_filter = ["year", "assessment", CampaignUnitFilter]
    list_select_related = ["organization", "organization__unit"]
    search_fields = ["organization__name", "organization__code", "year"]
    autocomplete_fields = ["organization"]
    fields = ["organization", "year", "report", "assessment", "assessed_on"]
    readonly_fields = ["assessed_on"]
    inlines = [ReportProblemInline, NewProblemInline]
    list_per_page = 50

    def get_queryset(self, request):
        of_report = Problem.objects.filter(annual_report=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .select_related("organization", "organization__unit")
            .annotate(
                problem_total=_count(of_report), open_problem_total=_count(of_report.unresolved())
            )
        )

    @admin.display(description=_("unit"), ordering="organization__unit__sort_order")
    def unit(self, obj):
        return obj.organization.unit

    @admin.display(description=_("problems found"), ordering="problem_total")
    def problem_count(self, obj):
        return obj.problem_total

    @admin.display(description=_("unresolved problems"), ordering="open_problem_total")
    def open_problem_count(self, obj):
        return obj.open_problem_total

    def save_model(self, request, obj, form, change):
        wanted = form.cleaned_data.get("assessment") or ""
        stored = form.initial.get("assessment") or ""
        obj.assessment = stored  # only the service assesses (and dates the assessment)
        super().save_model(request, obj, form, change)
        if wanted and wanted != stored:
            services.assess_annual_report(request.user, obj, wanted)

    def save_formset(self, request, form, formset, change):
        if not isinstance(formset, NewProblemFormSet):
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # what the admin's log says was added (nothing is saved)
        report = form.instance
        formset.new_objects = [
            services.record_problem(request.user, problem_form.problem_input(report))
            for problem_form in formset.forms
            if problem_form.has_changed()
        ]


# --- key tasks ---------------------------------------------------------------------------------


class KeyMeasureForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        widget = getattr(self.fields.get("organization"), "widget", None)
        if isinstance(widget, LoadedRawIdWidget) and KeyMeasure.organization.is_cached(
            self.instance
        ):
            widget.loaded = self.instance.organization


class KeyMeasureInline(admin.TabularInline):
    """The organization is a raw-id box labelled from the row read with it."""

    model = KeyMeasure
    form = KeyMeasureForm
    extra = 0
    fields = ["description", "organization", "deadline", "progress", "done_on"]
    raw_id_fields = ["organization"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization":
            kwargs["widget"] = LoadedRawIdWidget(
                db_field.remote_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(KeyTask)
class KeyTaskAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = MANAGE
    list_display = [
        "title",
        "campaign",
        "sort_order",
        "measure_count",
        "done_count",
        "overdue_count",
    ]
    list_filter = ["campaign"]
    list_select_related = ["campaign"]
    search_fields = ["title", "campaign__name"]
    fields = ["campaign", "title", "sort_order"]
    inlines = [KeyMeasureInline]
    list_per_page = 50

    def get_queryset(self, request):
        measures = KeyMeasure.objects.filter(task=OuterRef("pk"))
        undone = measures.filter(done_on__isnull=True)
        return (
            super()
            .get_queryset(request)
            .select_related("campaign")
            .annotate(
                measure_total=_count(measures),
                done_total=_count(measures.filter(done_on__isnull=False)),
                overdue_total=_count(undone.filter(deadline__lt=timezone.localdate())),
            )
        )

    @admin.display(description=_("measures"), ordering="measure_total")
    def measure_count(self, obj):
        return obj.measure_total

    @admin.display(description=_("measures done"), ordering="done_total")
    def done_count(self, obj):
        return obj.done_total

    @admin.display(description=_("measures overdue"), ordering="overdue_total")
    def overdue_count(self, obj):
        return obj.overdue_total


# --- participation (filed in the portal) -------------------------------------------------------


class GoodsInline(ReadOnlyInline):
    model = ParticipationGoods
    fields = ["item", "quantity", "unit_of_measure", "value"]


def _goods_value_fen() -> Subquery:
    """The participation's goods value in whole fen (`config.money`): exact on every database."""
    goods = (
        ParticipationGoods.objects.filter(participation=OuterRef("pk"))
        .order_by()
        .values("participation")
        .annotate(fen=fen_sum("value"))
        .values("fen")
    )
    return Subquery(goods)


@admin.register(Participation)
class ParticipationAdmin(CapabilityAdmin, admin.ModelAdmin):
    """Read-mostly: filed by the organizations in the portal (`services.file_participation`,
    which replaces an earlier filing); staff read it here, and may delete a filing made in
    error."""

    read_capability = SITE
    write_capability = MANAGE
    list_display = [
        "organization",
        "unit",
        "campaign",
        "members",
        "money",
        "goods_value",
        "filed_by",
        "filed_at",
    ]
    list_filter = ["campaign", "campaign__kind", CampaignUnitFilter]
    list_select_related = ["organization", "organization__unit", "campaign", "filed_by"]
    search_fields = ["organization__name", "organization__code", "campaign__name", "note"]
    fields = [
        "campaign",
        "organization",
        "members",
        "money",
        "goods_value",
        "note",
        "filed_by",
        "filed_at",
    ]
    readonly_fields = fields
    inlines = [GoodsInline]
    list_per_page = 50

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("organization", "organization__unit", "campaign", "filed_by")
            .annotate(goods_fen=_goods_value_fen())
        )

    def has_add_permission(self, request):
        return False  # filed in the portal

    def has_change_permission(self, request, obj=None):
        return False  # read only: what was filed stays as filed

    @admin.display(description=_("unit"), ordering="organization__unit__sort_order")
    def unit(self, obj):
        return obj.organization.unit

    @admin.display(description=_("goods value (yuan)"), ordering="goods_fen")
    def goods_value(self, obj):
        return yuan(getattr(obj, "goods_fen", None))


# --- volunteer deployments ---------------------------------------------------------------------


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.campaign.name} {obj.name}"


class DeploymentForm(forms.ModelForm):
    class Meta:
        model = Deployment
        fields = ["batch", "team", "member"]

    def clean(self):
        cleaned = super().clean()
        batch, team = cleaned.get("batch"), cleaned.get("team")
        if batch is not None and team is not None and batch.campaign_id != team.campaign_id:
            self.add_error("team", gettext("The team and the batch are of different campaigns."))
        return cleaned


@admin.register(Deployment)
class DeploymentAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = MANAGE
    form = DeploymentForm
    list_display = ["member", "branch", "team", "batch_number", "campaign", "place", "period"]
    list_filter = ["batch__campaign"]
    list_select_related = ["member", "member__branch", "team", "batch", "batch__campaign"]
    search_fields = ["member__name", "member__member_no", "team__name", "batch__place"]
    raw_id_fields = ["member"]
    list_per_page = 50

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("member", "member__branch", "team", "batch", "batch__campaign")
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "batch":
            kwargs["queryset"] = VolunteerBatch.objects.select_related("campaign")
        elif db_field.name == "team":
            return TeamChoiceField(
                label=db_field.verbose_name,
                queryset=VolunteerTeam.objects.select_related("campaign").order_by(
                    "campaign", "pk"
                ),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("party branch"), ordering="member__branch__path")
    def branch(self, obj):
        return obj.member.branch

    @admin.display(description=_("batch"), ordering="batch__number")
    def batch_number(self, obj):
        return obj.batch.number

    @admin.display(description=_("campaign"), ordering="batch__campaign__name")
    def campaign(self, obj):
        return obj.batch.campaign

    @admin.display(description=_("where"), ordering="batch__place")
    def place(self, obj):
        return obj.batch.place

    @admin.display(description=_("batch dates"), ordering="batch__starts_on")
    def period(self, obj):
        return f"{obj.batch.starts_on:%Y-%m-%d} — {obj.batch.ends_on:%Y-%m-%d}"
