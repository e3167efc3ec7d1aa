"""The member list's roster file in the admin: import it (a job: check, confirm, save) and
export it (the rows the list shows, as the ledgers' writer writes them).

Pages (MemberAdmin's URLs):
- `import/`: the upload form and the user's recent imports; `import/?job=<id>` one import: its
  progress (the page refreshes itself while it runs), every problem as a line of the page, or
  what it will do and the button to confirm it. Only the job's owner sees it.
- `process_import/` (POST): confirm or cancel a checked import.
- `export/`: the roster file of the list as filtered and searched (the list's query string).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts import access
from reports.ledgers import xlsx_download

from .roster import RosterFileError, RosterFileLedger, limit
from .roster_jobs import (
    RosterImport,
    RosterImportStatus,
    cancel_roster_import,
    confirm_roster_import,
    start_roster_import,
)

RECENT_IMPORTS = 10
REFRESH_SECONDS = 2


class RosterUploadForm(forms.Form):
    import_file = forms.FileField(
        label=_("Roster file"),
        help_text=_("An Excel workbook (.xlsx) or a CSV file (UTF-8 or GBK)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


def _pk(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


def describe_changelist(cl) -> list[str]:
    """The list's chosen filters and search, as lines for the sheet (unit: 市统计局, ...)."""
    lines = []
    for spec in cl.filter_specs:
        choices = list(spec.choices(cl))
        # The first choice is "All", selected when the filter is not used.
        chosen = [str(c["display"]).strip() for c in choices[1:] if c.get("selected")]
        if chosen:
            lines.append(f"{spec.title}：{'、'.join(chosen)}")
    if cl.query:
        lines.append(gettext("Search: %(terms)s") % {"terms": cl.query})
    return lines


class RosterFileAdminMixin:
    """Mixed into MemberAdmin (after CapabilityAdmin): the roster's import and export."""

    change_list_template = "admin/branches/member/change_list.html"
    roster_import_template = "admin/branches/member/roster_import.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.roster_import_view), name="{}_{}_import".format(*info)),
            path(
                "process_import/",
                view(self.roster_process_import_view),
                name="{}_{}_process_import".format(*info),
            ),
            path("export/", view(self.roster_export_view), name="{}_{}_export".format(*info)),
            *super().get_urls(),
        ]

    # -- who may ----------------------------------------------------------------------------
    def has_import_permission(self, request) -> bool:
        """Importing adds and changes members: both permissions, and the capability."""
        return (
            self.has_add_permission(request)
            and self.has_change_permission(request)
            and access.can(request.user, "roster.import")
        )

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_import": self.has_import_permission(request),
            "may_export": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)

    # -- pages ------------------------------------------------------------------------------
    def _import_url(self, job: RosterImport | None = None) -> str:
        url = reverse(f"{self.admin_site.name}:branches_member_import")
        return f"{url}?job={job.pk}" if job is not None else url

    def roster_import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        own = RosterImport.objects.filter(owner=request.user)
        job = None
        if "job" in request.GET:
            job = get_object_or_404(own, pk=_pk(request.GET.get("job")))
        form = RosterUploadForm(request.POST or None, request.FILES or None)
        refused = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            try:
                job = start_roster_import(request.user, upload, name=upload.name)
            except RosterFileError as exc:
                refused = exc.errors
            else:
                return HttpResponseRedirect(self._import_url(job))
        problems = refused
        if job is not None and job.status == RosterImportStatus.INVALID:
            problems = job.problems()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "file_problems": [p for p in problems if not p.row],
            "row_problems": [p for p in problems if p.row],
            "title": _("Import the party member roster"),
            "form": form,
            "job": job,
            "refused": refused,
            "recent": [] if job is not None else list(own[:RECENT_IMPORTS]),
            "statuses": RosterImportStatus,
            "refresh_seconds": REFRESH_SECONDS,
            "max_rows": limit("ROSTER_IMPORT_MAX_ROWS"),
            "max_mb": limit("ROSTER_IMPORT_MAX_UNCOMPRESSED_MB"),
            "export_url": reverse(f"{self.admin_site.name}:branches_member_export"),
            "changelist_url": reverse(f"{self.admin_site.name}:branches_member_changelist"),
        }
        return TemplateResponse(request, self.roster_import_template, context)

    @method_decorator(require_POST)
    def roster_process_import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        own = RosterImport.objects.filter(owner=request.user)
        job = get_object_or_404(own, pk=_pk(request.POST.get("job")))
        try:
            if request.POST.get("action") == "cancel":
                job = cancel_roster_import(request.user, job)
                messages.info(request, gettext("The import was cancelled; nothing was imported."))
                return HttpResponseRedirect(self._import_url())
            job = confirm_roster_import(request.user, job)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(self._import_url(job))
        if job.status == RosterImportStatus.DONE:
            messages.success(
                request,
                gettext(
                    "Roster imported: %(created)d new members, %(updated)d changed, "
                    "%(unchanged)d unchanged."
                )
                % {
                    "created": job.created_count,
                    "updated": job.updated_count,
                    "unchanged": job.unchanged_count,
                },
            )
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:branches_member_changelist")
            )
        return HttpResponseRedirect(self._import_url(job))

    def roster_export_view(self, request):
        """The roster file of the member list as it is filtered and searched now."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            cl = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            url = reverse(f"{self.admin_site.name}:branches_member_changelist")
            return HttpResponseRedirect(f"{url}?e=1")
        members = cl.get_queryset(request)
        ledger = RosterFileLedger(request.user, members, describe_changelist(cl))
        return xlsx_download(ledger)
