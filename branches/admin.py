from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats
from simple_history.admin import SimpleHistoryAdmin

from . import selectors, services
from .models import (
    COLLEGE_OR_ABOVE,
    ActivityRecord,
    ActivityType,
    Attachment,
    Attendance,
    ComplianceRule,
    Member,
    Organization,
    OrganizationKind,
    Term,
    Unit,
)
from .periods import Period
from .rules import branch_structure_warnings


class ScopedAdminMixin:
    """Defence in depth: even in the admin, rows come from the one scoping rule.

    `scope_lookup` is the path from the model to an Organization ("" for Organization itself).
    """

    scope_lookup = ""

    def get_queryset(self, request) -> QuerySet:
        qs = super().get_queryset(request)
        orgs = selectors.visible_organizations(request.user)
        if request.user.is_committee_staff:
            return qs
        if self.scope_lookup == "":
            return qs.filter(pk__in=orgs.values("pk"))
        return qs.filter(**{f"{self.scope_lookup}__in": orgs.values("pk")})


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "organization_count", "member_count", "sort_order"]
    list_editable = ["sort_order"]
    search_fields = ["name", "short_name"]

    def get_queryset(self, request):
        return selectors.unit_member_counts(super().get_queryset(request))

    @admin.display(description=_("organizations"), ordering="organization_count")
    def organization_count(self, obj):
        return obj.organization_count

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        url = reverse("admin:branches_member_changelist") + f"?unit={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.member_count)


class TermInline(admin.TabularInline):
    model = Term
    extra = 0
    fields = [
        "started_on",
        "length_years",
        "extension_months",
        "extension_approval",
        "due_on",
        "ended_on",
    ]
    readonly_fields = ["due_on"]


class ElectionStatusFilter(admin.SimpleListFilter):
    title = _("election status")
    parameter_name = "election"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("soon", _("Due soon")),
            ("none", _("No term recorded")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return selectors.overdue_elections(queryset)
        if self.value() == "soon":
            return selectors.elections_due_soon(queryset)
        if self.value() == "none":
            return queryset.exclude(terms__ended_on__isnull=True)
        return queryset


@admin.register(Organization)
class OrganizationAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "tree_name",
        "code",
        "kind",
        "unit",
        "member_count_link",
        "full_member_count",
        "election_due",
        "warnings",
    ]
    list_filter = [ElectionStatusFilter, "kind", "host_type", "unit"]
    search_fields = ["name", "code", "unit__name"]
    list_select_related = ["unit"]
    autocomplete_fields = ["parent", "unit", "joint_units"]
    raw_id_fields = ["secretary"]
    inlines = [TermInline]
    list_per_page = 100
    fields = [
        "code",
        "name",
        "kind",
        "host_type",
        "unit",
        "joint_units",
        "parent",
        "founded_on",
        "secretary",
        "sort_order",
        "path",
    ]
    readonly_fields = ["path"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return selectors.with_current_term(selectors.with_member_counts(qs))

    @admin.display(description=_("organization"), ordering="path")
    def tree_name(self, obj):
        # Indent by depth so the changelist reads as the tree (ordered by path).
        return format_html(
            '<span style="padding-left:{}em">{}{}</span>',
            obj.depth * 1.5,
            "└ " if obj.depth else "",
            obj.name,
        )

    @admin.display(description=_("members"), ordering="member_count")
    def member_count_link(self, obj):
        url = reverse("admin:branches_member_changelist") + f"?organization={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.member_count)

    @admin.display(description=_("full members"), ordering="full_member_count")
    def full_member_count(self, obj):
        return obj.full_member_count

    @admin.display(description=_("next election due"), ordering="election_due_on")
    def election_due(self, obj):
        if obj.election_due_on is None:
            return "—"
        if obj.election_due_on < timezone.localdate():
            return format_html('<strong style="color:#b00">{}</strong>', obj.election_due_on)
        return obj.election_due_on

    @admin.display(description=_("structure warnings"))
    def warnings(self, obj):
        found = branch_structure_warnings(
            obj.kind,
            obj.member_count,
            obj.full_member_count,
            obj.committee_size,
            obj.secretary_id is not None,
        )
        return "；".join(found) or "—"


@admin.register(Term)
class TermAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Current terms, oldest due first: the overdue elections list."""

    scope_lookup = "organization"
    list_display = [
        "organization",
        "started_on",
        "length_years",
        "extension_months",
        "due_on",
        "overdue",
    ]
    list_filter = ["organization__kind", "organization__unit"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    search_fields = ["organization__name", "organization__code"]
    ordering = ["due_on"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(ended_on__isnull=True)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.due_on < timezone.localdate()


class UnitFilter(admin.SimpleListFilter):
    title = _("unit")
    parameter_name = "unit"

    def lookups(self, request, model_admin):
        return [(u.pk, u.name) for u in Unit.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(branch__unit_id=self.value())
        return queryset


class OrganizationFilter(admin.SimpleListFilter):
    """Organizations of the chosen unit (choose a unit first: a city has 800 organizations)."""

    title = _("organization")
    parameter_name = "organization"

    def lookups(self, request, model_admin):
        unit = request.GET.get("unit")
        chosen = request.GET.get(self.parameter_name)
        qs = Organization.objects.none()
        if unit:
            qs = Organization.objects.filter(unit_id=unit)
        elif chosen:
            qs = Organization.objects.filter(pk=chosen)
        return [(o.pk, "　" * o.depth + o.name) for o in qs.only("pk", "name", "depth")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        org = Organization.objects.filter(pk=self.value()).first()
        if org is None:
            return queryset.none()
        return queryset.filter(Q(branch__path__startswith=org.path) | Q(group=org))


class YouthFilter(admin.SimpleListFilter):
    title = _("age group")
    parameter_name = "youth"

    def lookups(self, request, model_admin):
        return [
            ("yes", _("35 or under")),
            ("no", _("Over 35")),
            ("50y", _("50 years in the party")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.youth()
        if self.value() == "no":
            return queryset.exclude(pk__in=Member.objects.youth().values("pk"))
        if self.value() == "50y":
            return queryset.fifty_years_in_party()
        return queryset


class CollegeFilter(admin.SimpleListFilter):
    title = _("college degree")
    parameter_name = "college"

    def lookups(self, request, model_admin):
        return [("yes", _("College or above")), ("no", _("Below college"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(education__in=COLLEGE_OR_ABOVE)
        if self.value() == "no":
            return queryset.exclude(education__in=COLLEGE_OR_ABOVE)
        return queryset


def _member_resource_classes():
    from .resources import MemberResource

    return [MemberResource]


@admin.register(Member)
class MemberAdmin(ScopedAdminMixin, ImportExportModelAdmin, SimpleHistoryAdmin):
    scope_lookup = "branch"
    list_display = [
        "name",
        "member_no",
        "sex",
        "age",
        "status",
        "education",
        "branch",
        "group",
        "duty",
        "position",
    ]
    list_filter = [
        UnitFilter,
        OrganizationFilter,
        "status",
        YouthFilter,
        CollegeFilter,
        "education",
        "sex",
        "duty",
        "is_party_worker",
        "is_hardship",
    ]
    search_fields = ["name", "member_no", "position", "branch__name"]
    list_select_related = ["branch", "group"]
    autocomplete_fields = ["branch", "group"]
    list_per_page = 50

    import_formats = [base_formats.XLSX, base_formats.CSV]
    export_formats = [base_formats.XLSX, base_formats.CSV]

    @property
    def resource_classes(self):
        return _member_resource_classes()

    def process_result(self, result, request):
        # MemberResource rolls the whole file back when any row is bad at confirm time
        # (the data changed since the preview): say so instead of "Import finished".
        if getattr(result, "rolled_back", False):
            messages.error(
                request,
                _(
                    "Nothing was imported: %(count)s rows are no longer valid. "
                    "Upload the file again to see why."
                )
                % {"count": len(result.invalid_rows) + len(result.error_rows)},
            )
            return HttpResponseRedirect(reverse("admin:branches_member_import"))
        return super().process_result(result, request)

    @admin.display(description=_("age"), ordering="-birth_date")
    def age(self, obj):
        return obj.age()


# --- Organizational life -------------------------------------------------------------------


class ComplianceRuleForm(forms.ModelForm):
    organization_kinds = forms.MultipleChoiceField(
        label=_("applies to"),
        choices=OrganizationKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ComplianceRule
        fields = [
            "activity_type",
            "period",
            "minimum_count",
            "organization_kinds",
            "active_from",
            "active_to",
            "note",
        ]

    def clean(self):
        cleaned = super().clean()
        rule = self.instance
        # History stays true: a rule already in force is ended and replaced, never rewritten.
        if rule.pk and rule.active_from < timezone.localdate():
            changed = {
                "activity_type",
                "period",
                "minimum_count",
                "organization_kinds",
                "active_from",
            } & set(self.changed_data)
            if changed:
                raise forms.ValidationError(
                    _(
                        "This rule has been in force since %(day)s. Set its last day, then add a "
                        "new rule from the day the change takes effect, so earlier periods keep "
                        "the rule they had."
                    )
                    % {"day": rule.active_from}
                )
        return cleaned


class ActivityTypeForm(forms.ModelForm):
    organization_kinds = forms.MultipleChoiceField(
        label=_("held by"),
        choices=OrganizationKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ActivityType
        fields = ["code", "name", "organization_kinds", "committee_only", "sort_order"]


class ComplianceRuleInline(admin.TabularInline):
    model = ComplianceRule
    form = ComplianceRuleForm
    extra = 0


@admin.register(ActivityType)
class ActivityTypeAdmin(admin.ModelAdmin):
    form = ActivityTypeForm
    list_display = ["name", "code", "committee_only", "sort_order"]
    list_editable = ["sort_order"]
    inlines = [ComplianceRuleInline]


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(admin.ModelAdmin):
    form = ComplianceRuleForm
    list_display = [
        "activity_type",
        "period",
        "minimum_count",
        "kinds",
        "active_from",
        "active_to",
        "note",
    ]
    list_filter = ["period", "activity_type"]
    list_select_related = ["activity_type"]

    @admin.display(description=_("applies to"))
    def kinds(self, obj):
        return "、".join(str(OrganizationKind(k).label) for k in obj.organization_kinds)


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0
    raw_id_fields = ["member"]
    list_select_related = ["member"]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["file", "original_name", "content_type", "size"]
    readonly_fields = ["original_name", "content_type", "size"]


class RecordUnitFilter(UnitFilter):
    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(organization__unit_id=self.value())
        return queryset


class RecordOrganizationFilter(OrganizationFilter):
    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        org = Organization.objects.filter(pk=self.value()).first()
        if org is None:
            return queryset.none()
        return queryset.filter(organization__path__startswith=org.path)


class MonthFilter(admin.SimpleListFilter):
    title = _("month")
    parameter_name = "month"

    def lookups(self, request, model_admin):
        today = timezone.localdate()
        months = [Period.month(today.year, today.month)]
        for _i in range(23):
            months.append(months[-1].previous())
        return [(p.code, p.label) for p in months]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            period = Period.parse(self.value())
        except ValueError:
            return queryset.none()
        return queryset.filter(date__gte=period.start, date__lte=period.end)


@admin.register(ActivityRecord)
class ActivityRecordAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Staff manage every record; changes go through the same validation as the portal."""

    scope_lookup = "organization"
    list_display = [
        "date",
        "type_name",
        "topic",
        "organization",
        "attendance",
        "counts_for_compliance",
        "filed_by",
        "filed_at",
    ]
    list_filter = [
        RecordUnitFilter,
        RecordOrganizationFilter,
        "activity_type",
        MonthFilter,
        "counts_for_compliance",
    ]
    search_fields = ["topic", "organization__name", "place"]
    list_select_related = ["organization", "filed_by"]
    date_hierarchy = "date"
    autocomplete_fields = ["organization"]
    readonly_fields = [
        "type_name",
        "filed_by",
        "filed_at",
        "present_count",
        "excused_count",
        "absent_count",
        "counts_for_compliance",
    ]
    inlines = [AttendanceInline, AttachmentInline]
    list_per_page = 50

    @admin.display(description=_("attendance"))
    def attendance(self, obj):
        rate = obj.attendance_rate
        if rate is None:
            return "—"
        return f"{obj.present_count}/{obj.expected_count}（{rate:.0%}）"

    def save_model(self, request, obj, form, change):
        if obj.activity_type_id:
            obj.type_name = obj.activity_type.name
        if not change:
            obj.filed_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.refresh_attendance_counts(form.instance)
