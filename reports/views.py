"""Portal pages of the reports app: ledger downloads, export jobs, monthly bulletins.

Downloads (after pretix's async exports): a ledger small enough (at most
`LEDGER_ASYNC_THRESHOLD` rows) is streamed at once; a larger one becomes a `LedgerExport` job
built by a Celery task, whose page polls a JSON status every second (a `<meta refresh>` inside
`<noscript>` without JavaScript) and offers the file when it is stored. A job is its owner's
alone: anybody else gets a 404 for its page, status, file and retry.

Bulletins are shown as they were built (stored lines, never recomputed), cut to the user's
scope: the unit ranking for staff and city-wide inspectors (all units) and inspectors of units
(their units), and for secretaries only their own organization's lines. Each page costs a fixed
number of queries, whatever the number of lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import access
from accounts.access import portal_view
from config.files import XLSX, stored_file_response

from . import services
from .forms import initial_from_query, ledger_filter_form
from .ledgers import (
    Ledger,
    LedgerParams,
    all_ledgers,
    get_ledger,
    params_from_json,
    xlsx_download,
)
from .models import Bulletin, ExportStatus, LedgerExport
from .selectors import (
    all_bulletins,
    bulletin_of_month,
    bulletin_rows,
    bulletin_unit_rows,
    downloads_url,
    exports_of,
    ledger_title,
    scope_figures,
)

if TYPE_CHECKING:
    pass

RECENT_JOBS = 10


def bulletin_for_month(month: str) -> Bulletin:
    bulletin = bulletin_of_month(month)
    if bulletin is None:
        raise Http404
    return bulletin


def _owned_export(request: HttpRequest, pk: int) -> LedgerExport:
    """A job of the requesting user; anybody else's is a 404 (its existence is not confirmed)."""
    return get_object_or_404(exports_of(request.user), pk=pk)


def _downloads_url(code: str, params: dict[str, Any] | None = None) -> str:
    """The downloads page with a ledger chosen and its form prefilled."""
    return downloads_url(code, params)


def export_state(export: LedgerExport) -> dict[str, Any]:
    """What the job page polls for (no query: everything is on the row)."""
    done = export.status == ExportStatus.DONE and bool(export.file)
    return {
        "id": export.pk,
        "status": export.status,
        "status_display": str(export.get_status_display()),
        "progress": export.progress,
        "rows_written": export.rows_written,
        "rows_total": export.rows_total,
        "finished": export.is_finished,
        "error": export.error,
        "download_url": reverse("portal:export_download", args=[export.pk]) if done else None,
    }


# --- downloads -----------------------------------------------------------------------------


def _start(request: HttpRequest, ledger_cls: type[Ledger], params: LedgerParams) -> HttpResponse:
    """Small: the file now. Large: a background job and its page."""
    ledger = services.ledger_for(request.user, ledger_cls.code, params)
    if ledger.count() <= settings.LEDGER_ASYNC_THRESHOLD:
        return xlsx_download(ledger)
    try:
        export = services.start_export(request.user, ledger_cls.code, params)
    except services.BrokerUnavailable as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_downloads_url(ledger_cls.code, params.to_json()))
    export.refresh_from_db()  # without a broker it has run already, in this request
    if export.status == ExportStatus.DONE:
        text = gettext("%(title)s has %(rows)d rows: it has been built.")
    elif export.status == ExportStatus.FAILED:
        text = gettext("%(title)s has %(rows)d rows: it could not be built.")
    else:
        text = gettext("%(title)s has %(rows)d rows: it is being built in the background.")
    messages.info(request, text % {"title": ledger_cls.title, "rows": export.rows_total})
    return redirect("portal:export", pk=export.pk)


@portal_view(read="ledger.download", write="ledger.download")
@require_http_methods(["GET", "POST"])
def downloads(request: HttpRequest) -> HttpResponse:
    """Choose a ledger and its filters (choices cut to the scope), then download it.

    GET `?ledger=<code>` opens that ledger's form (other filters in the query prefill it);
    POST builds it. Only the chosen ledger's form is rendered: its choice lists are the
    user's whole scope, and one copy is enough.
    """
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    code = source.get("ledger", "")
    chosen = get_ledger(code) if code else None
    form = None
    ledger_error = ""
    if chosen is not None:
        if request.method == "POST":
            form = ledger_filter_form(chosen, user, data=request.POST)
            if form.is_valid():
                return _start(request, chosen, form.params())
        else:
            form = ledger_filter_form(chosen, user, initial=initial_from_query(chosen, request.GET))
    elif code or request.method == "POST":
        ledger_error = gettext("Choose one of the ledgers below.")

    # One query: the user's latest jobs (titles come from the registry, not the database).
    jobs = list(exports_of(user).order_by("-created_at")[:RECENT_JOBS])
    for job in jobs:
        job.title = ledger_title(job.ledger)
    context = {
        # Plain values: a template would try to call a ledger class (Ledger(user) needs a user).
        "ledgers": [
            {"code": cls.code, "title": cls.title, "description": cls.description}
            for cls in all_ledgers()
        ],
        "chosen": chosen.code if chosen is not None else "",
        "form": form,
        "ledger_error": ledger_error,
        "jobs": jobs,
        "threshold": settings.LEDGER_ASYNC_THRESHOLD,
        "keep_days": settings.LEDGER_EXPORT_KEEP_DAYS,
    }
    return render(request, "reports/downloads.html", context)


@portal_view(read="ledger.download")
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A job: status and progress while it runs, then the file, or the error and a retry."""
    export = _owned_export(request, pk)
    ledger_cls = get_ledger(export.ledger)
    filters: list[str] = []
    if ledger_cls is not None:
        try:
            filters = params_from_json(ledger_cls, request.user, export.params).describe()
        except ValidationError:
            filters = []  # out of scope now: the job will say so when it runs
    context = {
        "export": export,
        "title": ledger_title(export.ledger),
        "description": ledger_cls.description if ledger_cls is not None else "",
        "filters": filters,
        "state": export_state(export),
        "status_url": reverse("portal:export_status", args=[export.pk]),
        "change_filters_url": _downloads_url(export.ledger, export.params),
    }
    return render(request, "reports/export_detail.html", context)


@portal_view(read="ledger.download")
def export_status(request: HttpRequest, pk: int) -> JsonResponse:
    """JSON polled by the job page every second."""
    response = JsonResponse(export_state(_owned_export(request, pk)))
    response["Cache-Control"] = "no-store"
    return response


@portal_view(read="ledger.download")
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored file, for its owner, once the job is done (404 before, and for others)."""
    export = get_object_or_404(
        exports_of(request.user).filter(status=ExportStatus.DONE).exclude(file=""), pk=pk
    )
    return stored_file_response(export.file, content_type=XLSX)


@portal_view(read="ledger.download", write="ledger.download")
@require_POST
def export_retry(request: HttpRequest, pk: int) -> HttpResponse:
    export = _owned_export(request, pk)
    try:
        services.retry_export(request.user, export)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, gettext("The ledger is being built again."))
    return redirect("portal:export", pk=export.pk)


# --- bulletins -----------------------------------------------------------------------------


def _percent(rate: Any) -> str:
    return "—" if rate is None else f"{float(rate) * 100:.1f}%"


@portal_view(read="bulletin.view")
def bulletin_list(request: HttpRequest) -> HttpResponse:
    """The months with a bulletin, newest first, with the published city figures."""
    bulletins = list(all_bulletins())  # one query, however many months
    for bulletin in bulletins:
        bulletin.rate_display = _percent(bulletin.compliance_rate)
        bulletin.code = f"{bulletin.month:%Y-%m}"
    return render(request, "reports/bulletin_list.html", {"bulletins": bulletins})


@portal_view(read="bulletin.view")
def bulletin_detail(request: HttpRequest, month: str) -> HttpResponse:
    """One month's bulletin as built, cut to the user's scope.

    Queries, whatever the number of lines: the bulletin; the unit ranking (not for
    secretaries); the organization lines of the scope that missed something or whose election
    is overdue (for a secretary: all their lines); and, below city level, one aggregate for
    "your scope" figures.
    """
    user = request.user
    bulletin = bulletin_for_month(month)
    # Who sees the ranking sees the lines that missed something; the others (secretaries)
    # see every line of their own organization.
    ranking = access.can(user, "bulletin.view_ranking")
    is_secretary = not ranking
    unit_rows = list(bulletin_unit_rows(user, bulletin))
    for row in unit_rows:
        row.rate_display = _percent(row.compliance_rate)
        row.rate_width = int(row.compliance_rate * 100)

    rows = bulletin_rows(user, bulletin)
    if not is_secretary:
        rows = rows.filter(Q(missing__gt=0) | Q(election_overdue=True))
    rows = list(rows)
    missed = [row for row in rows if row.missing]
    overdue = sorted(
        (row for row in rows if row.election_overdue),
        key=lambda row: (row.election_due_on is None, row.election_due_on),
    )

    scope = None
    if not access.sees_whole_city(user):
        figures = scope_figures(user, bulletin)
        scope = {
            **figures,
            "rate_display": _percent(
                figures["compliant"] / figures["organizations"]
                if figures["organizations"]
                else None
            ),
        }
    code = f"{bulletin.month:%Y-%m}"
    context = {
        "bulletin": bulletin,
        "code": code,
        "rate_display": _percent(bulletin.compliance_rate),
        "completion_display": _percent(bulletin.completion_rate),
        "is_secretary": is_secretary,
        "unit_rows": unit_rows,
        "own_rows": rows if is_secretary else [],
        "missed": missed,
        "overdue": overdue,
        "scope": scope,
        "more_filters_url": _downloads_url("bulletin", {"period": code}),
    }
    return render(request, "reports/bulletin_detail.html", context)
