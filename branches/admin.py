from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.files.uploadedfile import UploadedFile
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from config.admin_base import CapabilityAdmin

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
from .roster_admin import RosterFileAdminMixin


def _pk(value: str | None) -> int | None:
    """A list filter's value as a primary key (None for junk typed into the address bar)."""
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


@admin.register(Unit)
class UnitAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"
    list_display = ["name", "short_name", "organization_count", "member_count", "sort_order"]
    list_editable = ["sort_order"]
    search_fields = ["name", "short_name"]

    def get_queryset(self, request):
        return selectors.unit_counts_in_scope(super().get_queryset(request), request.user)

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

    def get_queryset(self, request):
        # Each row's title is `Term.__str__`, which names the organization.
        return super().get_queryset(request).select_related("organization")


class UnitFilter(admin.SimpleListFilter):
    """Organizations or members of a unit, joint committees included: the one rule,
    `of_unit()` of their query sets."""

    title = _("unit")
    parameter_name = "unit"

    def lookups(self, request, model_admin):
        return [(u.pk, u.name) for u in Unit.objects.all()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        unit_id = _pk(self.value())
        return queryset.none() if unit_id is None else self.of_unit(queryset, unit_id)

    def of_unit(self, queryset, unit_id: int):
        return queryset.of_unit(unit_id)


class OrganizationUnitFilter(UnitFilter):
    """Rows that hang on an organization (terms, records): their organization is of the unit."""

    def of_unit(self, queryset, unit_id):
        return queryset.filter(organization__in=Organization.objects.of_unit(unit_id).values("pk"))


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
class OrganizationAdmin(CapabilityAdmin, SimpleHistoryAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"
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
    list_filter = [ElectionStatusFilter, "kind", "host_type", UnitFilter]
    search_fields = ["name", "code", "unit__name"]
    list_select_related = ["unit"]
    autocomplete_fields = ["parent", "unit", "joint_units"]
    raw_id_fields = ["secretary"]
    inlines = [TermInline]
    list_per_page = 50  # rendering a row costs the admin ~2 ms: 100 made it the heaviest page
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
        return selectors.with_current_term(selectors.with_member_counts(qs, request.user))

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
        # Each warning is a sentence ending in 。: joined as they are, never "。；".
        return "".join(selectors.structure_warnings(obj)) or "—"


@admin.register(Term)
class TermAdmin(CapabilityAdmin, admin.ModelAdmin):
    """Current terms, oldest due first: the overdue elections list."""

    read_capability = "committee.admin"
    write_capability = "committee.admin"

    list_display = [
        "organization",
        "started_on",
        "length_years",
        "extension_months",
        "due_on",
        "overdue",
    ]
    list_filter = ["organization__kind", OrganizationUnitFilter]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    search_fields = ["organization__name", "organization__code"]
    ordering = ["due_on"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(ended_on__isnull=True)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.due_on < timezone.localdate()


class OrganizationFilter(admin.SimpleListFilter):
    """Organizations of the chosen unit (choose a unit first: a city has 800 organizations)."""

    title = _("organization")
    parameter_name = "organization"

    def lookups(self, request, model_admin):
        unit = _pk(request.GET.get("unit"))
        chosen = _pk(request.GET.get(self.parameter_name))
        qs = Organization.objects.none()
        if unit is not None:
            qs = Organization.objects.of_unit(unit)
        elif chosen is not None:
            qs = Organization.objects.filter(pk=chosen)
        return [(o.pk, "　" * o.depth + o.name) for o in qs.only("pk", "name", "depth")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        organization_id = _pk(self.value())
        if organization_id is None:
            return queryset.none()
        return self.under(queryset, organization_id)

    def under(self, queryset, organization_id: int):
        """Members of the organization and all under it (`MemberQuerySet.under`)."""
        return queryset.under(organization_id)


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
            return queryset.not_youth()
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


@admin.register(Member)
class MemberAdmin(CapabilityAdmin, RosterFileAdminMixin, SimpleHistoryAdmin):
    """Members; the list's 导入 / 导出 are the roster file (`branches.roster_admin`)."""

    read_capability = "committee.admin"
    write_capability = "committee.admin"
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

    def get_queryset(self, request):
        # Each row's title is `ComplianceRule.__str__`, which names the activity type.
        return super().get_queryset(request).select_related("activity_type")


@admin.register(ActivityType)
class ActivityTypeAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"
    form = ActivityTypeForm
    list_display = ["name", "code", "committee_only", "sort_order"]
    list_editable = ["sort_order"]
    inlines = [ComplianceRuleInline]


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = "committee.admin"
    write_capability = "committee.admin"
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


class LoadedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id box labelled with the object its row already holds (`loaded`, read with the
    row), instead of one query per row to look it up again by its id."""

    loaded = None  # set on each form's own copy of the widget (`AttendanceForm`)

    def label_and_url_for_value(self, value):
        obj = self.loaded
        if obj is None or str(obj.pk) != str(value):
            return super().label_and_url_for_value(value)
        opts = obj._meta
        try:
            url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                args=(obj.pk,),
            )
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


class AttendanceForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        widget = getattr(self.fields.get("member"), "widget", None)
        if isinstance(widget, LoadedRawIdWidget) and Attendance.member.is_cached(self.instance):
            widget.loaded = self.instance.member


class AttendanceInline(admin.TabularInline):
    """One row per member expected: the member is a raw-id box (a drop-down would list every
    member of the city in every row), labelled from the row read with its member."""

    model = Attendance
    form = AttendanceForm
    extra = 0
    raw_id_fields = ["member"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "member":
            kwargs["widget"] = LoadedRawIdWidget(
                db_field.remote_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AttachmentForm(forms.ModelForm):
    """A new attachment is checked like one filed in the portal (size, sniffed type): a bad
    file is an error on the form. A stored one is kept or deleted, never swapped in place."""

    class Meta:
        model = Attachment
        fields = ["file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["file"].disabled = True

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):
            services.validate_attachment(upload)
        return upload


class AttachmentFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """The per-record cap (files and megabytes), as the portal and the API have it: a form
        error, never a failed save."""
        super().clean()
        new_sizes, removed = [], []
        for form in self.forms:
            if not hasattr(form, "cleaned_data"):
                continue
            if form.cleaned_data.get("DELETE") and form.instance.pk:
                removed.append(form.instance.pk)
            elif not form.instance.pk and form.cleaned_data.get("file"):
                new_sizes.append(form.cleaned_data["file"].size)
        record = self.instance if self.instance.pk else None
        errors = services.attachment_cap_errors(record, new_sizes, removed)
        if errors:
            raise forms.ValidationError(errors)


class AttachmentInline(admin.TabularInline):
    """Saved through `services.add_attachment` / `remove_attachment`
    (`ActivityRecordAdmin.save_formset`)."""

    model = Attachment
    form = AttachmentForm
    formset = AttachmentFormSet
    extra = 0
    fields = ["file", "original_name", "content_type", "size"]
    readonly_fields = ["original_name", "content_type", "size"]


class RecordOrganizationFilter(OrganizationFilter):
    def under(self, queryset, organization_id):
        subtree = Organization.objects.subtree_of(organization_id)
        return queryset.filter(organization__in=subtree.values("pk"))


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
class ActivityRecordAdmin(CapabilityAdmin, SimpleHistoryAdmin):
    """Staff manage every record; changes go through the same validation as the portal."""

    read_capability = "committee.admin"
    write_capability = "committee.admin"
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
        OrganizationUnitFilter,
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

    def save_formset(self, request, form, formset, change):
        if formset.model is not Attachment:
            super().save_formset(request, form, formset, change)
            return
        # Attachments are written by the services: they check the user may change the record,
        # store name, type and size, and remove a deleted file once the change is committed.
        formset.save(commit=False)
        for attachment in formset.deleted_objects:
            services.remove_attachment(request.user, attachment)
        for attachment_form in formset.extra_forms:
            if attachment_form.has_changed() and not attachment_form.cleaned_data.get("DELETE"):
                services.add_attachment(
                    request.user, form.instance, attachment_form.cleaned_data["file"]
                )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.refresh_attendance_counts(form.instance)
