from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from accounts import access
from branches.periods import Period
from config.admin_base import CapabilityAdmin

from . import services
from .models import Bulletin, BulletinRow, BulletinUnitRow, LedgerExport


class BuildBulletinForm(forms.Form):
    month = forms.CharField(label=_("Month"), help_text=_("YYYY-MM, e.g. 2026-10"))

    def clean_month(self):
        try:
            period = Period.parse(self.cleaned_data["month"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if period.kind != "month":
            raise forms.ValidationError(_("A bulletin covers one month: use YYYY-MM."))
        try:
            services.refuse_unfinished_month(period)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return period


class BulletinUnitRowInline(admin.TabularInline):
    model = BulletinUnitRow
    extra = 0
    can_delete = False
    fields = [
        "rank",
        "unit_name",
        "organization_count",
        "compliant_count",
        "owed",
        "held",
        "compliance_rate",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bulletin)
class BulletinAdmin(CapabilityAdmin, admin.ModelAdmin):
    """Bulletins are built, never typed: staff rebuild a month with one button."""

    read_capability = "committee.admin"
    write_capability = "bulletin.build"

    list_display = [
        "month_label",
        "organization_count",
        "compliant_count",
        "rate",
        "owed",
        "held",
        "overdue_election_count",
        "built_at",
    ]
    actions = ["rebuild"]
    readonly_fields = [
        "month",
        "built_at",
        "built_by",
        "organization_count",
        "compliant_count",
        "owed",
        "held",
        "overdue_election_count",
    ]
    inlines = [BulletinUnitRowInline]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("month"), ordering="month")
    def month_label(self, obj):
        return f"{obj.month:%Y-%m}"

    @admin.display(description=_("compliance rate"))
    def rate(self, obj):
        return "—" if obj.compliance_rate is None else f"{obj.compliance_rate:.1%}"

    @admin.action(description=_("Rebuild the selected bulletins"), permissions=["change"])
    def rebuild(self, request, queryset):
        access.require(request.user, "bulletin.build")
        rebuilt = 0
        for bulletin in queryset:
            period = Period.month(bulletin.month.year, bulletin.month.month)
            try:
                services.build_bulletin(period, user=request.user)
            except ValidationError as exc:  # built too early by an earlier version
                messages.error(request, " ".join(exc.messages))
            else:
                rebuilt += 1
        messages.success(request, _("%(n)d bulletins rebuilt.") % {"n": rebuilt})

    def get_urls(self):
        return [
            path(
                "build/",
                self.admin_site.admin_view(self.build_view),
                name="reports_bulletin_build",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "may_build": access.can(request.user, "bulletin.build"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def build_view(self, request):
        """Build (or rebuild) any month: the same service the monthly beat task calls."""
        access.require(request.user, "bulletin.build")
        form = BuildBulletinForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            period = form.cleaned_data["month"]
            bulletin = services.build_bulletin(period, user=request.user)
            messages.success(request, _("Bulletin %(month)s built.") % {"month": period.code})
            return redirect("admin:reports_bulletin_change", bulletin.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Build a monthly bulletin"),
        }
        return TemplateResponse(request, "admin/reports/bulletin/build.html", context)


@admin.register(BulletinRow)
class BulletinRowAdmin(CapabilityAdmin, admin.ModelAdmin):
    """Lines of the bulletins as built: read, never edited (a rebuild replaces them)."""

    read_capability = "committee.admin"
    write_capability = None
    list_display = [
        "bulletin",
        "unit_name",
        "organization_name",
        "owed",
        "held",
        "missing",
        "missing_detail",
        "election_overdue",
    ]
    list_filter = ["bulletin", "election_overdue"]
    search_fields = ["organization_name", "unit_name", "organization_code"]
    list_select_related = ["bulletin"]


@admin.register(LedgerExport)
class LedgerExportAdmin(CapabilityAdmin, admin.ModelAdmin):
    """Export jobs, to follow up a failure: read-only (only the owner downloads the file)."""

    read_capability = "committee.admin"
    write_capability = None
    list_display = [
        "pk",
        "ledger",
        "owner",
        "status",
        "rows_written",
        "rows_total",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "ledger"]
    list_select_related = ["owner"]
    readonly_fields = [
        "owner",
        "ledger",
        "params",
        "status",
        "rows_total",
        "rows_written",
        "file",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    ]
