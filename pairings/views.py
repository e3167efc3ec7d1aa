"""Portal pages of pairings (结对共建): the list, a pairing's page, the help a secretary files
from a phone (a visit with photos, funds, goods; a visit may count as the branch's 主题党日),
needs, measures, projects and member pairs, and the progress page.

Like `branches.views`: every query set starts from the scope (`pairings.selectors`), so a
pairing outside it is a 404; a user who may read it but not report on it (an inspector) gets a
403 page saying why. Every write goes through `pairings.services`; pages cost the same number
of queries whatever the number of pairings.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts import access
from accounts.access import portal_view
from branches.models import ActivityType, Member
from config.files import attachment_response
from config.money import yuan
from config.pagination import KeysFirstPaginator as Paginator

from . import selectors
from .forms import (
    CloseNeedForm,
    HelpRecordForm,
    MeasureForm,
    MemberPairForm,
    NeedForm,
    PairingFilterForm,
    ProjectForm,
)
from .models import HelpPhoto, Pairing, ProjectStatus, Scheme
from .services import (
    THEME_DAY,
    add_measure,
    add_member_pair,
    add_need,
    add_project,
    close_need,
    file_help_record,
)

PAIRINGS_PER_PAGE = 20
# The progress page lists this many of each gap (unpaired, unvisited...) with the full count.
GAPS_FIRST = 50
# Photos a browser can show in an <img>; HEIC (iPhone) and PDF are offered as links.
THUMBNAIL_TYPES = {"image/jpeg", "image/png", "image/webp"}
# Years offered on the progress page, this one first.
YEARS_OFFERED = 6

OPEN_PROJECT = (ProjectStatus.PLANNED, ProjectStatus.UNDERWAY)

READ = "organization.view"
REPORT = "pairing.report"


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


def _refusal() -> str:
    return gettext("You cannot report on this pairing.")


def _pairing_for_report(request: HttpRequest, pk: int) -> tuple[Pairing, HttpResponse | None]:
    """The pairing in scope (else 404) and, when the user may not report on it, the 403 page."""
    pairing = get_object_or_404(
        selectors.visible_pairings(request.user).select_related(
            "scheme", "partner", "organization"
        ),
        pk=pk,
    )
    if not access.can(request.user, REPORT, pairing):
        return pairing, _forbidden(request, _refusal())
    return pairing, None


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _with_money(pairing: Pairing) -> Pairing:
    """Yuan (Decimal) from the whole fen the selectors add up."""
    pairing.funds = yuan(pairing.funds_fen)
    pairing.goods_value = yuan(pairing.goods_value_fen)
    return pairing


# --- list and detail ---------------------------------------------------------------------------


@portal_view(read=READ)
@require_safe
def pairing_list(request: HttpRequest) -> HttpResponse:
    """The pairings the user sees, filtered by scheme and status, a page at a time."""
    user = request.user
    # Queries: 1 session, 2 user, 3 the schemes (filter), 4 count, 5 the page with its totals.
    schemes = list(Scheme.objects.all())
    filter_form = PairingFilterForm(request.GET or None, schemes=schemes)
    pairings = selectors.pairings_for_display(user).filter(**filter_form.filters())
    page = Paginator(pairings, PAIRINGS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = [_with_money(p) for p in page.object_list]
    context = {
        "filter": filter_form,
        "page": page,
        "querystring": _querystring(request),
    }
    return render(request, "pairings/pairing_list.html", context)


@portal_view(read=READ)
@require_safe
def pairing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One pairing: the partner, needs and measures, projects, help given, member pairs."""
    user = request.user
    pairing = _with_money(get_object_or_404(selectors.pairings_for_display(user), pk=pk))
    today = timezone.localdate()
    needs = list(pairing.needs.prefetch_related("measures"))
    projects = list(pairing.projects.prefetch_related("milestones"))
    for project in projects:
        project.overdue = project.status in OPEN_PROJECT and project.due_on < today
        for milestone in project.milestones.all():
            milestone.overdue = milestone.done_on is None and milestone.due_on < today
    helps = list(
        pairing.help_records.select_related("activity_record").prefetch_related(
            "participants", "photos"
        )
    )
    for record in helps:
        for photo in record.photos.all():
            photo.thumbnail = photo.content_type in THUMBNAIL_TYPES
    context = {
        "pairing": pairing,
        "open_needs": [n for n in needs if n.is_open],
        "met_needs": [n for n in needs if not n.is_open],
        "projects": projects,
        "helps": helps,
        "member_pairs": list(pairing.member_pairs.select_related("member")),
        "can_report": access.can(user, REPORT, pairing),
        "today": today,
    }
    return render(request, "pairings/pairing_detail.html", context)


@portal_view(read=READ)
@require_safe
def help_record(request: HttpRequest, pk: int) -> HttpResponse:
    """One help record: what was done, who went, the amounts, the photos."""
    record = get_object_or_404(
        selectors.visible_help_records(request.user).select_related(
            "pairing__scheme",
            "pairing__partner",
            "pairing__organization",
            "activity_record",
            "filed_by",
        ),
        pk=pk,
    )
    photos = list(record.photos.all())
    for photo in photos:
        photo.thumbnail = photo.content_type in THUMBNAIL_TYPES
    context = {
        "record": record,
        "pairing": record.pairing,
        "participants": list(record.participants.all()),
        "photos": photos,
    }
    return render(request, "pairings/help_record.html", context)


@portal_view(read=READ)
@require_safe
def help_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A help record's photo, for users who may see its pairing: media files are never public."""
    photo = get_object_or_404(
        HelpPhoto.objects.filter(
            help_record__in=selectors.visible_help_records(request.user).values("pk")
        ),
        pk=pk,
    )
    return attachment_response(photo)


# --- filing help -------------------------------------------------------------------------------


def _members_of(pairing: Pairing) -> list[Member]:
    """The members of the pairing's organization and of everything under it."""
    return list(
        Member.objects.under(pairing.organization)
        .order_by("member_no", "pk")
        .only("pk", "name", "member_no")
    )


def _theme_day_offered(pairing: Pairing) -> bool:
    """The pairing's organization holds the 主题党日 (a branch): a visit may count as it."""
    theme_day = ActivityType.objects.filter(code=THEME_DAY).first()
    return theme_day is not None and pairing.organization.kind in theme_day.organization_kinds


def _filed_message(record) -> str:
    if record.activity_record_id:
        return gettext("Filed: visit on %(date)s, also counted as the theme party day.") % {
            "date": record.date.isoformat()
        }
    return gettext("Filed: %(kind)s on %(date)s.") % {
        "kind": record.get_kind_display(),
        "date": record.date.isoformat(),
    }


@portal_view(read=READ, write=REPORT)
@require_http_methods(["GET", "POST"])
def help_new(request: HttpRequest, pk: int) -> HttpResponse:
    """File a visit (who went, what was done, photos), funds or goods on a pairing."""
    user = request.user
    pairing, refused = _pairing_for_report(request, pk)
    if refused:
        return refused
    members = _members_of(pairing)
    photos = request.FILES.getlist("photos") if request.method == "POST" else []
    if request.method == "POST":
        form = HelpRecordForm(request.POST, members=members)
        if form.is_valid():
            try:
                record = file_help_record(user, form.help_input(pairing, photos))
            except PermissionDenied as exc:
                return _forbidden(request, str(exc))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _filed_message(record))
                return redirect(reverse("portal:pairing", args=[pairing.pk]) + "#help")
    else:
        form = HelpRecordForm(members=members)
    context = {
        "form": form,
        "pairing": pairing,
        "theme_day_offered": _theme_day_offered(pairing),
        "photos_sent": len(photos),
        "today": timezone.localdate(),
    }
    return render(request, "pairings/help_form.html", context)


# --- needs, measures, projects, member pairs ---------------------------------------------------


def _small_form(request, form, pairing: Pairing, **page) -> HttpResponse:
    """One of the small forms (a need, a measure...): `title`, `submit` and, above the form,
    `lead` (what it is about)."""
    context = {"form": form, "pairing": pairing, **page}
    return render(request, "pairings/small_form.html", context)


def _save_or_show(request, form, save, pairing: Pairing, done: str, **page) -> HttpResponse:
    """A POST of a small form: `save(cleaned_data)`, then back to the pairing's page; else the
    form again with every error (its own and the service's)."""
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, done)
            return redirect("portal:pairing", pk=pairing.pk)
    return _small_form(request, form, pairing, **page)


@portal_view(read=READ, write=REPORT)
@require_http_methods(["GET", "POST"])
def need_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A need found at the partner (缺什么补什么)."""
    pairing, refused = _pairing_for_report(request, pk)
    if refused:
        return refused
    page = {"title": gettext("Add a need"), "submit": gettext("Add the need")}
    if request.method != "POST":
        return _small_form(request, NeedForm(), pairing, **page)
    return _save_or_show(
        request,
        NeedForm(request.POST),
        lambda data: add_need(request.user, pairing, data["description"], data["found_on"]),
        pairing,
        gettext("The need was added."),
        **page,
    )


def _need_for_report(request: HttpRequest, pk: int):
    need = get_object_or_404(
        selectors.visible_needs(request.user).select_related(
            "pairing__scheme", "pairing__partner", "pairing__organization"
        ),
        pk=pk,
    )
    if not access.can(request.user, REPORT, need):
        return need, _forbidden(request, _refusal())
    return need, None


@portal_view(read=READ, write=REPORT)
@require_http_methods(["GET", "POST"])
def need_close(request: HttpRequest, pk: int) -> HttpResponse:
    """The need is met: closed on a day (today by default)."""
    need, refused = _need_for_report(request, pk)
    if refused:
        return refused
    page = {"title": gettext("Mark a need as met"), "submit": gettext("Mark as met"), "lead": need}
    if request.method != "POST":
        return _small_form(request, CloseNeedForm(), need.pairing, **page)
    return _save_or_show(
        request,
        CloseNeedForm(request.POST),
        lambda data: close_need(request.user, need, data["met_on"]),
        need.pairing,
        gettext("The need is marked as met."),
        **page,
    )


@portal_view(read=READ, write=REPORT)
@require_http_methods(["GET", "POST"])
def measure_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A measure against a need."""
    need, refused = _need_for_report(request, pk)
    if refused:
        return refused
    page = {"title": gettext("Add a measure"), "submit": gettext("Add the measure"), "lead": need}
    if request.method != "POST":
        return _small_form(request, MeasureForm(), need.pairing, **page)
    return _save_or_show(
        request,
        MeasureForm(request.POST),
        lambda data: add_measure(request.user, need, data["description"], data["due_on"]),
        need.pairing,
        gettext("The measure was added."),
        **page,
    )


@portal_view(read=READ, write=REPORT)
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A co-building project led by the pairing's organization."""
    pairing, refused = _pairing_for_report(request, pk)
    if refused:
        return refused
    page = {"title": gettext("Add a project"), "submit": gettext("Add the project")}
    if request.method != "POST":
        return _small_form(request, ProjectForm(), pairing, **page)
    form = ProjectForm(request.POST)
    return _save_or_show(
        request,
        form,
        lambda data: add_project(request.user, form.project_input(pairing)),
        pairing,
        gettext("The project was added."),
        **page,
    )


@portal_view(read=READ, write=REPORT)
@require_http_methods(["GET", "POST"])
def member_pair_new(request: HttpRequest, pk: int) -> HttpResponse:
    """An organ member paired with a village member or a key household."""
    pairing, refused = _pairing_for_report(request, pk)
    if refused:
        return refused
    members = _members_of(pairing)
    page = {"title": gettext("Add a member pair"), "submit": gettext("Add the pair")}
    if request.method != "POST":
        return _small_form(request, MemberPairForm(members=members), pairing, **page)
    form = MemberPairForm(request.POST, members=members)
    return _save_or_show(
        request,
        form,
        lambda data: add_member_pair(
            request.user,
            pairing,
            form.chosen_member(),
            data["counterpart_kind"],
            data["counterpart_name"],
            data["started_on"],
            data["note"],
        ),
        pairing,
        gettext("The member pair was added."),
        **page,
    )


# --- progress ----------------------------------------------------------------------------------


def _year_from(value: object, today: datetime.date) -> int:
    """The `year` asked for, or this year when it is not one we can show."""
    if isinstance(value, str) and value.isdecimal() and value.isascii() and len(value) == 4:
        year = int(value)
        if 2000 <= year <= today.year:
            return year
    return today.year


def _first(queryset, n: int = GAPS_FIRST) -> dict:
    """The first `n` rows and the full count (two queries, whatever the count)."""
    return {"rows": list(queryset[:n]), "count": queryset.count()}


def _percent(line) -> None:
    line.percent = round(line.rate * 100, 1) if line.rate is not None else None


@portal_view(read=READ)
@require_safe
def pairing_progress(request: HttpRequest) -> HttpResponse:
    """Docking rate per scheme and unit, the gaps (unpaired, incomplete, without projects,
    unvisited, overdue, flagged) and the help given in a year, over the user's scope."""
    user = request.user
    today = timezone.localdate()
    year = _year_from(request.GET.get("year"), today)
    docking = selectors.docking(user)
    for scheme_docking in docking:
        _percent(scheme_docking.total)
        for line in scheme_docking.units:
            _percent(line)
    unpaired = [
        {"scheme": d.total.scheme, **_first(selectors.unpaired_organizations(user, d.total.scheme))}
        for d in docking
        if d.total.scheme.universal
    ]
    totals = selectors.help_totals(
        user, start=datetime.date(year, 1, 1), end=datetime.date(year, 12, 31)
    )
    schemes = {s.pk: s for s in Scheme.objects.all()}  # inactive ones' help counts too
    by_scheme: dict[int, selectors.HelpTotals] = {}
    for (scheme_id, _unit_id), line in totals["by_scheme_unit"].items():
        sum_ = by_scheme.setdefault(scheme_id, selectors.HelpTotals())
        sum_.visits += line.visits
        sum_.funds += line.funds
        sum_.goods_value += line.goods_value
    context = {
        "year": year,
        "years": [today.year - i for i in range(YEARS_OFFERED)],
        "docking": docking,
        "unpaired": unpaired,
        "incomplete": _first(selectors.incomplete_partners(user)),
        "lacking_projects": _first(selectors.pairings_lacking_projects(user)),
        "unvisited": _first(selectors.unvisited_pairings(user, today=today)),
        "visit_days": settings.PAIRING_VISIT_DAYS,
        "overdue": _first(selectors.overdue_projects(user, today=today)),
        "flagged": _first(selectors.flagged_pairings(user)),
        "totals": totals["total"],
        "totals_by_scheme": [(s, by_scheme[pk]) for pk, s in schemes.items() if pk in by_scheme],
        "goods": totals["goods"],
    }
    return render(request, "pairings/progress.html", context)
