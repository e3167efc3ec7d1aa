"""The committee staff's admin of the pairings app.

Partners, schemes and pairings are written with `pairing.manage`; needs, projects, member pairs
and help records with `pairing.report` (staff hold both everywhere). Writes go through the
services: a new pairing through `services.create_pairing` after its form has asked
`services.pairing_errors` (a breach of the scheme's rule is the form's error, in Chinese, and the
override reason makes it anyway, flagged); a new need, measure, project or member pair through
its service, whose refusal the form shows (`service_errors`). Help records are filed in the
portal: here they are read, and deleted through `services.delete_help_record` (their theme party
day goes with them).

Every list reads its rows in one query (`list_select_related`, totals as subqueries); the pairing
list has 批量导入: an .xlsx of pairings checked row by row and saved all or nothing
(`pairings.imports`).
"""

from __future__ import annotations

import io

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from branches.admin import OrganizationUnitFilter
from branches.models import Organization, OrganizationKind
from branches.selectors import within_scope
from config.admin_base import CapabilityAdmin
from config.files import XLSX
from config.money import yuan
from reports.ledgers import STYLES
from reports.xlsx import XlsxSheet

from . import imports, services
from .models import (
    HelpPhoto,
    HelpRecord,
    Measure,
    MemberPair,
    Milestone,
    Need,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
    Project,
    ProjectStatus,
    Scheme,
)
from .rules import kinds_text
from .selectors import help_totals_of_pairing

MANAGE = "pairing.manage"
REPORT = "pairing.report"
SITE = "committee.admin"
PAIRING_RELATED = ("pairing__scheme", "pairing__organization", "pairing__partner")


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


class UserFormMixin:
    """The admin's form knows who submits it (the services ask)."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user  # a class made for this request (modelform_factory)
        return form


class PairingUnitFilter(OrganizationUnitFilter):
    """Rows of pairings whose organization is of the unit (joint committees included)."""

    def of_unit(self, queryset, unit_id):
        of_unit = Organization.objects.of_unit(unit_id).values("pk")
        return queryset.filter(pairing__organization__in=of_unit)


def _text(value, words: int = 12) -> str:
    return Truncator(value).words(words) if value else "—"


# --- partners ----------------------------------------------------------------------------------


class PartnerPairingInline(admin.TabularInline):
    """The partner's pairings, read only (made on the pairing list)."""

    model = Pairing
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["scheme", "organization", "status", "started_on", "docked_on", "override_reason"]
    readonly_fields = fields
    verbose_name_plural = _("pairings")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("scheme", "organization", "partner")


@admin.register(PartnerOrganization)
class PartnerOrganizationAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = MANAGE
    list_display = [
        "name",
        "kind",
        "district",
        "town",
        "contact_name",
        "contact_phone",
        "current_pairings",
    ]
    list_filter = ["kind", "district", "town"]
    search_fields = ["name", "town", "district", "contact_name"]
    fields = ["name", "kind", "district", "town", "contact_name", "contact_phone", "situation"]
    inlines = [PartnerPairingInline]
    list_per_page = 50

    def get_queryset(self, request):
        current = Count("pairings", filter=~Q(pairings__status=PairingStatus.ENDED))
        return super().get_queryset(request).annotate(current_pairing_count=current)

    @admin.display(description=_("current pairings"), ordering="current_pairing_count")
    def current_pairings(self, obj):
        return obj.current_pairing_count


# --- schemes -----------------------------------------------------------------------------------


def rule_text(scheme: Scheme) -> str:
    """A scheme's rule in one line: who pairs with whom, and the limits."""
    parts = [
        gettext("%(organizations)s with %(partners)s")
        % {
            "organizations": kinds_text(scheme.organization_kinds, OrganizationKind) or "—",
            "partners": kinds_text(scheme.partner_kinds, PartnerKind) or "—",
        }
    ]
    least, most = scheme.min_organizations_per_partner, scheme.max_organizations_per_partner
    if most is None:
        parts.append(gettext("at least %(n)s organ organization(s) per partner") % {"n": least})
    elif least == most:
        parts.append(gettext("%(n)s organ organization(s) per partner") % {"n": most})
    else:
        parts.append(
            gettext("%(least)s to %(most)s organ organizations per partner")
            % {"least": least, "most": most}
        )
    if scheme.max_partners_per_organization is not None:
        parts.append(
            gettext("at most %(n)s partner(s) per organ organization")
            % {"n": scheme.max_partners_per_organization}
        )
    if scheme.min_projects_per_organization:
        parts.append(
            gettext("each leads at least %(n)s project(s)")
            % {"n": scheme.min_projects_per_organization}
        )
    if scheme.member_pairs:
        parts.append(gettext("members pair too"))
    return "；".join(parts)


class SchemeForm(forms.ModelForm):
    organization_kinds = forms.MultipleChoiceField(
        label=_("organ organization kinds"),
        choices=OrganizationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Which organ organizations may pair under this scheme."),
    )
    partner_kinds = forms.MultipleChoiceField(
        label=_("partner kinds"),
        choices=PartnerKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Which partners this scheme pairs with."),
    )

    class Meta:
        model = Scheme
        fields = [
            "code",
            "name",
            "description",
            "organization_kinds",
            "partner_kinds",
            "universal",
            "min_organizations_per_partner",
            "max_organizations_per_partner",
            "max_partners_per_organization",
            "min_projects_per_organization",
            "member_pairs",
            "active",
            "sort_order",
        ]


@admin.register(Scheme)
class SchemeAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = MANAGE
    form = SchemeForm
    list_display = ["name", "code", "rule", "universal", "active", "current_pairings", "sort_order"]
    list_filter = ["active", "universal"]
    search_fields = ["name", "code"]

    def get_queryset(self, request):
        current = Count("pairings", filter=~Q(pairings__status=PairingStatus.ENDED))
        return super().get_queryset(request).annotate(current_pairing_count=current)

    @admin.display(description=_("rule"))
    def rule(self, obj):
        return rule_text(obj)

    @admin.display(description=_("current pairings"), ordering="current_pairing_count")
    def current_pairings(self, obj):
        return obj.current_pairing_count


# --- pairings ----------------------------------------------------------------------------------


class FlaggedFilter(admin.SimpleListFilter):
    title = _("breaks the scheme's rule")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(override_reason="")
        if self.value() == "no":
            return queryset.filter(override_reason="")
        return queryset


class PairingForm(forms.ModelForm):
    """Checked as `services.pairing_errors` checks a pairing: a breach of the scheme's rule is
    an error on its field, and the override reason field takes the reason to make it anyway."""

    user = None

    class Meta:
        model = Pairing
        fields = [
            "scheme",
            "organization",
            "partner",
            "status",
            "started_on",
            "docked_on",
            "ended_on",
            "override_reason",
            "note",
        ]
        help_texts = {
            "override_reason": _(
                "Only when the scheme's rule refuses the pairing and it is to be made anyway: "
                "the pairing is then flagged in the lists."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        needed = ("scheme", "organization", "partner", "started_on", "status")
        if any(cleaned.get(name) in (None, "") for name in needed):
            return cleaned  # their own errors say what is missing
        data = services.PairingInput(
            scheme=cleaned["scheme"],
            organization=cleaned["organization"],
            partner=cleaned["partner"],
            started_on=cleaned["started_on"],
            status=cleaned["status"],
            docked_on=cleaned.get("docked_on"),
            note=cleaned.get("note") or "",
            override_reason=cleaned.get("override_reason") or "",
        )
        pairing = self.instance if self.instance.pk else None
        errors = services.pairing_errors(data, pairing=pairing)
        ended_on = cleaned.get("ended_on")
        if cleaned["status"] == PairingStatus.ENDED and ended_on is None:
            errors.setdefault("ended_on", gettext("Give the day the pairing ended."))
        elif cleaned["status"] != PairingStatus.ENDED and ended_on is not None:
            errors.setdefault("ended_on", gettext("Only an ended pairing has an end date."))
        elif ended_on is not None:
            if ended_on < cleaned["started_on"]:
                errors.setdefault(
                    "ended_on", gettext("The date cannot come before the pairing started.")
                )
            elif ended_on > timezone.localdate():
                errors.setdefault("ended_on", gettext("The date cannot be in the future."))
        add_errors(self, errors)
        return cleaned

    def pairing_input(self) -> services.PairingInput:
        cleaned = self.cleaned_data
        return services.PairingInput(
            scheme=cleaned["scheme"],
            organization=cleaned["organization"],
            partner=cleaned["partner"],
            started_on=cleaned["started_on"],
            status=cleaned["status"],
            docked_on=cleaned.get("docked_on"),
            note=cleaned.get("note") or "",
            override_reason=cleaned.get("override_reason") or "",
        )


class PairingUploadForm(forms.Form):
    import_file = forms.FileField(
        label=_("Pairing file"),
        help_text=_("An Excel workbook (.xlsx)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
    check_only = forms.BooleanField(
        label=_("Only check the file: save nothing"), required=False, initial=False
    )


@admin.register(Pairing)
class PairingAdmin(CapabilityAdmin, UserFormMixin, admin.ModelAdmin):
    """Pairings with their totals; new ones through `services.create_pairing`; 批量导入."""

    read_capability = SITE
    write_capability = MANAGE
    form = PairingForm
    change_list_template = "admin/pairings/pairing/change_list.html"
    import_template = "admin/pairings/pairing/import.html"
    list_display = [
        "organization",
        "partner",
        "scheme",
        "status",
        "started_on",
        "docked_on",
        "visits",
        "last_visit_on",
        "funds",
        "goods_value",
        "open_needs",
        "projects",
        "flagged",
    ]
    list_filter = [
        "scheme",
        OrganizationUnitFilter,  # organization__unit, joint committees included
        "status",
        "partner__town",
        FlaggedFilter,
    ]
    list_select_related = ["scheme", "organization", "partner"]
    search_fields = [
        "organization__name",
        "organization__code",
        "partner__name",
        "partner__town",
        "scheme__name",
    ]
    autocomplete_fields = ["organization", "partner"]
    date_hierarchy = "started_on"
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["scheme", "organization", "partner", "status"]}),
        (_("Dates"), {"fields": ["started_on", "docked_on", "ended_on"]}),
        (_("Breaking the scheme's rule"), {"fields": ["override_reason"]}),
        (None, {"fields": ["note"]}),
        (
            _("Work done"),
            {
                "fields": [
                    "visits",
                    "last_visit_on",
                    "funds",
                    "goods_value",
                    "needs",
                    "open_needs",
                    "measures",
                    "projects",
                ]
            },
        ),
        (_("Record"), {"fields": ["created_by", "created_at"]}),
    ]
    readonly_fields = [
        "visits",
        "last_visit_on",
        "funds",
        "goods_value",
        "needs",
        "open_needs",
        "measures",
        "projects",
        "created_by",
        "created_at",
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if obj is not None else fieldsets[:4]  # nothing done yet

    def get_queryset(self, request):
        qs = (
            super()
            .get_queryset(request)
            .select_related("scheme", "organization", "partner", "created_by")
        )
        return within_scope(qs, request.user).annotate(**help_totals_of_pairing())

    # -- totals (annotated by the query: no query per row) --------------------------------
    @admin.display(description=_("visits"), ordering="visit_count")
    def visits(self, obj):
        return getattr(obj, "visit_count", None) if obj.pk else "—"

    @admin.display(description=_("last visit"), ordering="last_visit")
    def last_visit_on(self, obj):
        return getattr(obj, "last_visit", None) or "—"

    @admin.display(description=_("funds (yuan)"), ordering="funds_fen")
    def funds(self, obj):
        return yuan(getattr(obj, "funds_fen", 0)) if obj.pk else "—"

    @admin.display(description=_("goods value (yuan)"), ordering="goods_value_fen")
    def goods_value(self, obj):
        return yuan(getattr(obj, "goods_value_fen", 0)) if obj.pk else "—"

    @admin.display(description=_("needs"), ordering="need_count")
    def needs(self, obj):
        return getattr(obj, "need_count", None) if obj.pk else "—"

    @admin.display(description=_("open needs"), ordering="open_need_count")
    def open_needs(self, obj):
        return getattr(obj, "open_need_count", None) if obj.pk else "—"

    @admin.display(description=_("measures"), ordering="measure_count")
    def measures(self, obj):
        return getattr(obj, "measure_count", None) if obj.pk else "—"

    @admin.display(description=_("co-building projects"), ordering="project_count")
    def projects(self, obj):
        return getattr(obj, "project_count", None) if obj.pk else "—"

    @admin.display(description=_("breaks the scheme's rule"), boolean=True)
    def flagged(self, obj):
        return obj.flagged

    # -- saving -----------------------------------------------------------------------------
    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        adopt(obj, services.create_pairing(request.user, form.pairing_input()))

    # -- the spreadsheet import -------------------------------------------------------------
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="{}_{}_import".format(*info)),
            path(
                "import/template/",
                view(self.import_template_view),
                name="{}_{}_import_template".format(*info),
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request) -> bool:
        """Importing makes pairings: the add permission and `pairing.manage`."""
        return self.has_add_permission(request) and access.can(request.user, MANAGE)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_import": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = PairingUploadForm(request.POST or None, request.FILES or None)
        report = None
        changelist_url = reverse(f"{self.admin_site.name}:pairings_pairing_changelist")
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            report = imports.import_pairings(
                upload,
                request.user,
                name=upload.name,
                dry_run=form.cleaned_data["check_only"],
            )
            if report.saved:
                messages.success(
                    request,
                    gettext(
                        "Pairings imported: %(created)d, of which %(flagged)d break their "
                        "scheme's rule with a reason (flagged)."
                    )
                    % {"created": report.created, "flagged": report.flagged},
                )
                return HttpResponseRedirect(changelist_url)
        problems = report.errors if report is not None else []
        shown = problems[: imports.ERRORS_SHOWN]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import pairings"),
            "form": form,
            "report": report,
            "file_problems": [p for p in shown if not p.row],
            "row_problems": [p for p in shown if p.row],
            "problem_count": len(problems),
            "shown_count": len(shown),
            "columns": imports.COLUMNS,
            "schemes": Scheme.objects.filter(active=True).order_by("sort_order", "pk"),
            "max_rows": imports.limit("PAIRING_IMPORT_MAX_ROWS"),
            "max_mb": imports.limit("PAIRING_IMPORT_MAX_UNCOMPRESSED_MB"),
            "template_url": reverse(f"{self.admin_site.name}:pairings_pairing_import_template"),
            "changelist_url": changelist_url,
        }
        return TemplateResponse(request, self.import_template, context)

    def import_template_view(self, request):
        """An empty file with the import's columns (headers in the active language)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        out = io.BytesIO()
        title = gettext("Pairings to import")
        sheet = XlsxSheet(out, title, [c.width for c in imports.COLUMNS], STYLES)
        sheet.line(imports.template_headers(), "header")
        sheet.freeze()
        sheet.close()
        out.seek(0)
        response = FileResponse(out, as_attachment=True, filename=f"{title}.xlsx")
        response["Content-Type"] = XLSX
        response["Cache-Control"] = "private, no-store"
        return response


# --- needs and measures --------------------------------------------------------------------------


class NeedForm(forms.ModelForm):
    user = None

    class Meta:
        model = Need
        fields = ["pairing", "description", "found_on", "met_on"]

    def clean(self):
        cleaned = super().clean()
        pairing, found_on = cleaned.get("pairing"), cleaned.get("found_on")
        if pairing is None or found_on is None or not cleaned.get("description"):
            return cleaned
        if self.instance.pk is None:
            errors = service_errors(
                lambda: services.add_need(self.user, pairing, cleaned["description"], found_on)
            )
        else:
            errors = {}
            if found_on > timezone.localdate():
                errors["found_on"] = gettext("The date cannot be in the future.")
        met_on = cleaned.get("met_on")
        if met_on is not None:
            if met_on < found_on:
                errors.setdefault("met_on", gettext("A need is met only after it was found."))
            elif met_on > timezone.localdate():
                errors.setdefault("met_on", gettext("The date cannot be in the future."))
        add_errors(self, errors)
        return cleaned


class MeasureInline(admin.TabularInline):
    """New measures through `services.add_measure` (`NeedAdmin.save_formset`)."""

    model = Measure
    extra = 0
    fields = ["description", "due_on", "done_on"]


class OpenFilter(admin.SimpleListFilter):
    title = _("met")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Open")), ("no", _("Met"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(met_on__isnull=True)
        if self.value() == "no":
            return queryset.filter(met_on__isnull=False)
        return queryset


@admin.register(Need)
class NeedAdmin(CapabilityAdmin, UserFormMixin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = REPORT
    form = NeedForm
    list_display = ["description", "pairing", "found_on", "met_on", "measure_count"]
    list_filter = [OpenFilter, "pairing__scheme", PairingUnitFilter]
    list_select_related = PAIRING_RELATED
    search_fields = ["description", "pairing__organization__name", "pairing__partner__name"]
    autocomplete_fields = ["pairing"]
    inlines = [MeasureInline]
    list_per_page = 50

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related(*PAIRING_RELATED)
        return within_scope(qs, request.user, "pairing__organization").annotate(
            measure_total=Count("measures")
        )

    @admin.display(description=_("measures"), ordering="measure_total")
    def measure_count(self, obj):
        return obj.measure_total

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        cleaned = form.cleaned_data
        need = services.add_need(
            request.user, cleaned["pairing"], cleaned["description"], cleaned["found_on"]
        )
        if cleaned.get("met_on"):
            need = services.close_need(request.user, need, cleaned["met_on"])
        adopt(obj, need)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Measure:
            super().save_formset(request, form, formset, change)
            return
        measures = formset.save(commit=False)
        for measure in formset.deleted_objects:
            measure.delete()
        for measure in measures:
            if measure.pk is None:
                made = services.add_measure(
                    request.user, form.instance, measure.description, measure.due_on
                )
                if measure.done_on:
                    made.done_on = measure.done_on
                    made.save(update_fields=["done_on"])
            else:
                measure.save()


# --- projects and milestones ---------------------------------------------------------------------


class ProjectForm(forms.ModelForm):
    user = None

    class Meta:
        model = Project
        fields = ["pairing", "name", "budget", "started_on", "due_on", "status", "done_on"]

    def clean(self):
        cleaned = super().clean()
        needed = ("pairing", "name", "budget", "started_on", "due_on", "status")
        if any(cleaned.get(name) in (None, "") for name in needed):
            return cleaned
        if self.instance.pk is None:
            errors = service_errors(lambda: services.add_project(self.user, self.project_input()))
        else:
            errors = {}
            if cleaned["due_on"] < cleaned["started_on"]:
                errors["due_on"] = gettext("The due date cannot come before the start.")
        add_errors(self, errors)
        return cleaned

    def project_input(self) -> services.ProjectInput:
        cleaned = self.cleaned_data
        return services.ProjectInput(
            pairing=cleaned["pairing"],
            name=cleaned["name"],
            budget=cleaned["budget"],
            started_on=cleaned["started_on"],
            due_on=cleaned["due_on"],
            status=cleaned["status"],
        )


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["name", "due_on", "done_on"]


@admin.register(Project)
class ProjectAdmin(CapabilityAdmin, UserFormMixin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = REPORT
    form = ProjectForm
    list_display = [
        "name",
        "pairing",
        "budget",
        "started_on",
        "due_on",
        "status",
        "done_on",
        "milestone_count",
    ]
    list_filter = ["status", "pairing__scheme", PairingUnitFilter]
    list_select_related = PAIRING_RELATED
    search_fields = ["name", "pairing__organization__name", "pairing__partner__name"]
    autocomplete_fields = ["pairing"]
    inlines = [MilestoneInline]
    list_per_page = 50

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related(*PAIRING_RELATED)
        return within_scope(qs, request.user, "pairing__organization").annotate(
            milestone_total=Count("milestones")
        )

    @admin.display(description=_("milestones"), ordering="milestone_total")
    def milestone_count(self, obj):
        return obj.milestone_total

    def save_model(self, request, obj, form, change):
        if change:
            if obj.status == ProjectStatus.DONE and obj.done_on is None:
                obj.done_on = timezone.localdate()
            super().save_model(request, obj, form, change)
            return
        project = services.add_project(request.user, form.project_input())
        done_on = form.cleaned_data.get("done_on")
        if done_on and done_on != project.done_on:
            project.done_on = done_on
            project.save(update_fields=["done_on"])
        adopt(obj, project)


# --- help records (filed in the portal) ----------------------------------------------------------


class HelpPhotoInline(admin.TabularInline):
    model = HelpPhoto
    extra = 0
    can_delete = False
    fields = ["original_name", "content_type", "size", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ThemeDayFilter(admin.SimpleListFilter):
    title = _("counted as theme party day")
    parameter_name = "theme_day"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(activity_record__isnull=False)
        if self.value() == "no":
            return queryset.filter(activity_record__isnull=True)
        return queryset


@admin.register(HelpRecord)
class HelpRecordAdmin(CapabilityAdmin, admin.ModelAdmin):
    """Read-mostly: filed in the portal (`services.file_help_record`, which may file the
    branch's theme party day with it); deleted here through `services.delete_help_record`."""

    read_capability = SITE
    write_capability = REPORT
    list_display = [
        "date",
        "kind",
        "pairing",
        "what",
        "amount",
        "item",
        "quantity",
        "unit_of_measure",
        "value",
        "theme_day",
        "photo_count",
        "filed_by",
    ]
    list_filter = ["kind", ThemeDayFilter, "pairing__scheme", PairingUnitFilter]
    list_select_related = [*PAIRING_RELATED, "filed_by"]
    search_fields = ["description", "pairing__organization__name", "pairing__partner__name"]
    date_hierarchy = "date"
    inlines = [HelpPhotoInline]
    list_per_page = 50
    fields = [
        "pairing",
        "kind",
        "date",
        "description",
        "participants",
        "others",
        "amount",
        "item",
        "quantity",
        "unit_of_measure",
        "value",
        "activity_record",
        "filed_by",
        "filed_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        qs = (
            super()
            .get_queryset(request)
            .select_related(*PAIRING_RELATED, "filed_by", "activity_record")
        )
        return within_scope(qs, request.user, "pairing__organization").annotate(
            photo_total=Count("photos")
        )

    def has_add_permission(self, request):
        return False  # filed in the portal

    def has_change_permission(self, request, obj=None):
        return False  # read only: what was filed stays as filed

    @admin.display(description=_("what was done"))
    def what(self, obj):
        return _text(obj.description)

    @admin.display(description=_("counted as theme party day"), boolean=True)
    def theme_day(self, obj):
        return obj.activity_record_id is not None

    @admin.display(description=_("photos"), ordering="photo_total")
    def photo_count(self, obj):
        return obj.photo_total

    def delete_model(self, request, obj):
        services.delete_help_record(request.user, obj)

    def delete_queryset(self, request, queryset):
        for record in queryset.select_related("activity_record"):
            services.delete_help_record(request.user, record)


# --- member pairs --------------------------------------------------------------------------------


class MemberPairForm(forms.ModelForm):
    user = None

    class Meta:
        model = MemberPair
        fields = ["pairing", "member", "counterpart_kind", "counterpart_name", "started_on", "note"]

    def clean(self):
        cleaned = super().clean()
        needed = ("pairing", "member", "counterpart_kind", "counterpart_name", "started_on")
        if any(cleaned.get(name) in (None, "") for name in needed) or self.instance.pk:
            return cleaned
        add_errors(
            self,
            service_errors(
                lambda: services.add_member_pair(
                    self.user,
                    cleaned["pairing"],
                    cleaned["member"],
                    cleaned["counterpart_kind"],
                    cleaned["counterpart_name"],
                    cleaned["started_on"],
                    cleaned.get("note") or "",
                )
            ),
        )
        return cleaned


@admin.register(MemberPair)
class MemberPairAdmin(CapabilityAdmin, UserFormMixin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = REPORT
    form = MemberPairForm
    list_display = ["member", "pairing", "counterpart_kind", "counterpart_name", "started_on"]
    list_filter = ["counterpart_kind", "pairing__scheme", PairingUnitFilter]
    list_select_related = [*PAIRING_RELATED, "member"]
    search_fields = [
        "member__name",
        "member__member_no",
        "counterpart_name",
        "pairing__partner__name",
    ]
    autocomplete_fields = ["pairing"]
    raw_id_fields = ["member"]
    list_per_page = 50

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related(*PAIRING_RELATED, "member")
        return within_scope(qs, request.user, "pairing__organization")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        cleaned = form.cleaned_data
        adopt(
            obj,
            services.add_member_pair(
                request.user,
                cleaned["pairing"],
                cleaned["member"],
                cleaned["counterpart_kind"],
                cleaned["counterpart_name"],
                cleaned["started_on"],
                cleaned.get("note") or "",
            ),
        )
