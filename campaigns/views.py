"""Portal pages of campaigns and supervision (专项活动与督导), phone-first: the problem list
(问题清单) and a problem's page with its rectification (整改) — the responsible secretary
answers with measures and photos, the inspection group accepts or sends it back —, recording a
problem, the campaigns with their targets, participation and theme days, and the user's notices.

Like `pairings.views`: every query set starts from the scope (`campaigns.selectors`,
`branches.selectors`), so a problem outside it is a 404; a user who may read it but not act on
it gets a 403 page saying why, and sees no button for it. Every write goes through
`campaigns.services`; pages cost the same number of queries whatever the number of rows.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access
from accounts.access import portal_view
from accounts.models import Notice
from branches.models import Unit
from branches.selectors import visible_activity_records
from config.files import attachment_response
from config.pagination import KeysFirstPaginator as Paginator

from . import rules, selectors
from .forms import (
    AcceptForm,
    AnswerForm,
    ParticipationForm,
    ProblemFilterForm,
    ProblemForm,
    SendBackForm,
    goods_formset,
    goods_of,
)
from .models import (
    Campaign,
    CampaignActivity,
    CampaignKind,
    InspectionGroup,
    Participation,
    Problem,
    ProblemState,
    RectificationPhoto,
)
from .services import (
    THEME_DAY,
    accept_problem,
    answer_problem,
    file_participation,
    record_problem,
    send_back,
    start_rectifying,
    tag_activity,
)

READ = "organization.view"
ANSWER = "problem.answer"
ACCEPT = "problem.accept"
RECORD = "inspection.record_problem"
PARTICIPATE = "campaign.participate"
MANAGE = "campaign.manage"
# A user's own notices: every portal user, on their own only.
OWN = "notice.read"  # one's own notices: every active user

P = ProblemState
PROBLEMS_PER_PAGE = 20
CAMPAIGNS_PER_PAGE = 20
NOTICES_PER_PAGE = 20
# Theme-day records offered on a campaign's page for tagging (a committee's subtree may hold
# many; staff see the first ones).
THEME_DAYS_SHOWN = 30
# Photos a browser can show in an <img>; HEIC (iPhone) and PDF are offered as links.
THUMBNAIL_TYPES = {"image/jpeg", "image/png", "image/webp"}


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


def _answer_refusal() -> str:
    return gettext("Only the responsible organization answers this problem.")


def _accept_refusal() -> str:
    return gettext("Only the inspection group that found it accepts or sends it back.")


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- problems -----------------------------------------------------------------------------------


@portal_view(read=READ)
@require_safe
def problem_list(request: HttpRequest) -> HttpResponse:
    """The problems the user sees, by deadline: state, overdue, responsible organization and
    group; filtered by state and overdue, a page at a time."""
    user = request.user
    today = timezone.localdate()
    filter_form = ProblemFilterForm(request.GET or None)
    chosen = filter_form.filters()
    problems = selectors.visible_problems(user).select_related("organization", "group")
    if chosen.get("state"):
        problems = problems.filter(state=chosen["state"])
    if chosen.get("overdue"):
        problems = problems.unresolved().filter(deadline__lt=today)
    page = Paginator(problems.order_by("deadline", "pk"), PROBLEMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for problem in page.object_list:
        problem.overdue = rules.is_overdue(problem.state, problem.deadline, today)
    context = {
        "filter": filter_form,
        "page": page,
        "querystring": _querystring(request),
        "can_record": access.can(user, RECORD),
    }
    return render(request, "campaigns/problem_list.html", context)


def _visible_problem(request: HttpRequest, pk: int) -> Problem:
    return get_object_or_404(
        selectors.visible_problems(request.user).select_related(
            "organization", "group__campaign", "annual_report", "created_by"
        ),
        pk=pk,
    )


def _problem_page(
    request: HttpRequest,
    problem: Problem,
    *,
    answer_form: AnswerForm | None = None,
    accept_form: AcceptForm | None = None,
    send_back_form: SendBackForm | None = None,
    photos_sent: int = 0,
) -> HttpResponse:
    """The problem's page: facts, the answers with their photos, the history, and the forms the
    user may use in the problem's state. A form sent back with errors is shown again (200)."""
    user = request.user
    today = timezone.localdate()
    events = list(problem.events.select_related("by"))
    answers = list(problem.answers.select_related("submitted_by").prefetch_related("photos"))
    for answer in answers:
        for photo in answer.photos.all():
            photo.thumbnail = photo.content_type in THUMBNAIL_TYPES
    may_answer = access.can(user, ANSWER, problem)
    may_accept = access.can(user, ACCEPT, problem)
    context = {
        "problem": problem,
        "overdue": rules.is_overdue(problem.state, problem.deadline, today),
        "events": events,
        "answers": answers,
        "can_start": may_answer and rules.may_move(problem.state, P.RECTIFYING),
        "can_answer": may_answer and rules.may_move(problem.state, P.SUBMITTED),
        "can_accept": may_accept and rules.may_move(problem.state, P.ACCEPTED),
        "answer_form": answer_form or AnswerForm(),
        "accept_form": accept_form or AcceptForm(),
        "send_back_form": send_back_form or SendBackForm(),
        "photos_sent": photos_sent,
    }
    return render(request, "campaigns/problem_detail.html", context)


@portal_view(read=READ)
@require_safe
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One problem: description, evidence, severity, deadline, answers, history, and the
    buttons of whoever may move it next."""
    return _problem_page(request, _visible_problem(request, pk))


def _done(request: HttpRequest, problem: Problem, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("portal:problem", pk=problem.pk)


def _not_now(request: HttpRequest, problem: Problem, exc: ValidationError) -> HttpResponse:
    """A move the state machine refuses (the page was open while someone else moved it)."""
    messages.error(request, " ".join(exc.messages))
    return redirect("portal:problem", pk=problem.pk)


@portal_view(read=READ, write=ANSWER)
@require_POST
def problem_start(request: HttpRequest, pk: int) -> HttpResponse:
    """The responsible secretary starts rectifying."""
    problem = _visible_problem(request, pk)
    if not access.can(request.user, ANSWER, problem):
        return _forbidden(request, _answer_refusal())
    try:
        start_rectifying(request.user, problem)
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    except ValidationError as exc:
        return _not_now(request, problem, exc)
    return _done(request, problem, gettext("Rectification has started."))


@portal_view(read=READ, write=ANSWER)
@require_POST
def problem_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The responsible secretary answers: measures taken, evidence, photos from the phone."""
    problem = _visible_problem(request, pk)
    if not access.can(request.user, ANSWER, problem):
        return _forbidden(request, _answer_refusal())
    photos = request.FILES.getlist("photos")
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            answer_problem(request.user, problem, **form.answer(photos))
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):  # the state machine: not now
                return _not_now(request, problem, exc)
            form.add_service_errors(exc)
        else:
            return _done(request, problem, gettext("The answer was sent to the inspection group."))
    return _problem_page(request, problem, answer_form=form, photos_sent=len(photos))


@portal_view(read=READ, write=ACCEPT)
@require_POST
def problem_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The inspection group (or staff) accepts the rectification, with a note."""
    problem = _visible_problem(request, pk)
    if not access.can(request.user, ACCEPT, problem):
        return _forbidden(request, _accept_refusal())
    form = AcceptForm(request.POST)
    if form.is_valid():
        try:
            accept_problem(request.user, problem, form.cleaned_data["note"])
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        except ValidationError as exc:
            return _not_now(request, problem, exc)
        return _done(request, problem, gettext("The rectification was accepted."))
    return _problem_page(request, problem, accept_form=form)


@portal_view(read=READ, write=ACCEPT)
@require_POST
def problem_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    """The inspection group (or staff) sends the answer back, saying why."""
    problem = _visible_problem(request, pk)
    if not access.can(request.user, ACCEPT, problem):
        return _forbidden(request, _accept_refusal())
    form = SendBackForm(request.POST)
    if form.is_valid():
        try:
            send_back(request.user, problem, form.cleaned_data["reason"])
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                return _not_now(request, problem, exc)
            form.add_service_errors(exc)
        else:
            return _done(request, problem, gettext("The answer was sent back."))
    return _problem_page(request, problem, send_back_form=form)


@portal_view(read=READ)
@require_safe
def problem_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A rectification photo, for users who see its problem: media files are never public."""
    photo = get_object_or_404(
        RectificationPhoto.objects.filter(
            answer__problem__in=selectors.visible_problems(request.user).values("pk")
        ),
        pk=pk,
    )
    return attachment_response(photo)


def _groups_for(user) -> list[InspectionGroup]:
    """The groups a problem may be recorded for: staff any, an inspector their own."""
    groups = InspectionGroup.objects.select_related("campaign").order_by(
        "-campaign__starts_on", "campaign__name", "pk"
    )
    if not access.can(user, MANAGE):
        groups = groups.filter(members=user)
    return list(groups)


@portal_view(read=READ, write=RECORD)
@require_http_methods(["GET", "POST"])
def problem_new(request: HttpRequest) -> HttpResponse:
    """An inspector of a group (or staff) lists a problem for a responsible organization."""
    user = request.user
    if not access.can(user, RECORD):
        return _forbidden(request, gettext("Only inspection groups and committee staff do this."))
    organizations = list(
        access.organizations_where(user, RECORD)
        .order_by("path")
        .only("pk", "name", "depth", "path")
    )
    groups = _groups_for(user)
    options = {"organizations": organizations, "groups": groups}
    options["group_needed"] = not access.can(user, MANAGE)
    if request.method == "POST":
        form = ProblemForm(request.POST, **options)
        if form.is_valid():
            try:
                problem = record_problem(user, form.problem_input())
            except PermissionDenied as exc:
                return _forbidden(request, str(exc))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return _done(request, problem, gettext("The problem was recorded."))
    else:
        form = ProblemForm(**options)
    context = {"form": form, "no_group": options["group_needed"] and not groups}
    return render(request, "campaigns/problem_form.html", context)


# --- campaigns ----------------------------------------------------------------------------------


@portal_view(read=READ)
@require_safe
def campaign_list(request: HttpRequest) -> HttpResponse:
    """The campaigns, the latest first."""
    page = Paginator(Campaign.objects.order_by("-starts_on", "name", "pk"), CAMPAIGNS_PER_PAGE)
    page = page.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "querystring": _querystring(request),
        "today": timezone.localdate(),
    }
    return render(request, "campaigns/campaign_list.html", context)


def _theme_month_bounds(campaign: Campaign) -> tuple[datetime.date, datetime.date]:
    """The days a theme-day record may fall on: the theme month within the campaign."""
    start, end = campaign.starts_on, campaign.ends_on
    month = campaign.theme_month
    if month is not None:
        first = month.replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        start, end = max(start, first), min(end, following - datetime.timedelta(days=1))
    return start, end


def _theme_days(user, campaign: Campaign) -> list | None:
    """The user's theme-day records of the campaign's month, each marked when it counts."""
    if campaign.kind != CampaignKind.THEME_DAY or not access.can(user, PARTICIPATE):
        return None
    start, end = _theme_month_bounds(campaign)
    return list(
        visible_activity_records(user)
        .filter(activity_type__code=THEME_DAY, date__gte=start, date__lte=end)
        .select_related("organization")
        .annotate(
            counted=Exists(
                CampaignActivity.objects.filter(campaign=campaign, record=OuterRef("pk"))
            )
        )
        .order_by("-date", "-pk")[:THEME_DAYS_SHOWN]
    )


@portal_view(read=READ)
@require_safe
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign: targets against their goals, participation by unit and in all (money exact),
    goods by item, the theme day, and what the user may file."""
    user = request.user
    campaign = get_object_or_404(Campaign, pk=pk)
    targets = selectors.target_progress(campaign)
    for line in targets:
        share = line.share
        line.percent = round(share * 100, 1) if share is not None else None
    totals = selectors.participation_totals(user, campaign)
    by_unit = totals["by_unit"]
    units = list(Unit.objects.filter(pk__in=list(by_unit)).order_by("sort_order", "name", "pk"))
    context = {
        "campaign": campaign,
        "targets": targets,
        "total": totals["total"],
        "by_unit": [(unit, by_unit[unit.pk]) for unit in units],
        "goods": totals["goods"],
        "theme_days": _theme_days(user, campaign),
        "theme_start_end": _theme_month_bounds(campaign),
        "can_participate": access.can(user, PARTICIPATE),
        "today": timezone.localdate(),
    }
    return render(request, "campaigns/campaign_detail.html", context)


def _chosen_organization(request: HttpRequest, organizations: list) -> int | None:
    """The organization the form is for: `?organization=`, else the user's own, else the only
    one."""
    wanted = request.GET.get("organization", "")
    ids = {o.pk for o in organizations}
    if wanted.isdecimal() and wanted.isascii() and int(wanted) in ids:
        return int(wanted)
    if request.user.organization_id in ids:
        return request.user.organization_id
    return organizations[0].pk if len(organizations) == 1 else None


def _filed_initial(campaign: Campaign, organization_id: int | None) -> tuple[dict, list[dict]]:
    """The organization's earlier filing, to change it (filed again, it replaces it)."""
    initial: dict = {"organization": organization_id}
    if organization_id is None:
        return initial, []
    filed = (
        Participation.objects.filter(campaign=campaign, organization_id=organization_id)
        .prefetch_related("goods")
        .first()
    )
    if filed is None:
        return initial, []
    initial.update(members=filed.members, money=filed.money, note=filed.note)
    goods = [
        {
            "item": g.item,
            "quantity": g.quantity,
            "unit_of_measure": g.unit_of_measure,
            "value": g.value,
        }
        for g in filed.goods.all()
    ]
    return initial, goods


@portal_view(read=READ, write=PARTICIPATE)
@require_http_methods(["GET", "POST"])
def participation(request: HttpRequest, pk: int) -> HttpResponse:
    """An organization's part in a campaign: members taking part, money, goods, a note."""
    user = request.user
    campaign = get_object_or_404(Campaign, pk=pk)
    if not access.can(user, PARTICIPATE):
        return _forbidden(request, gettext("You cannot file for this organization."))
    organizations = list(
        access.organizations_where(user, PARTICIPATE)
        .order_by("path")
        .only("pk", "name", "depth", "path")
    )
    if request.method == "POST":
        form = ParticipationForm(request.POST, organizations=organizations)
        goods = goods_formset(request.POST)
        form_ok, goods_ok = form.is_valid(), goods.is_valid()
        if form_ok and goods_ok:
            try:
                file_participation(user, form.participation_input(campaign, goods_of(goods)))
            except PermissionDenied as exc:
                return _forbidden(request, str(exc))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, gettext("The participation was filed."))
                return redirect(reverse("portal:campaign", args=[campaign.pk]) + "#participation")
    else:
        initial, lines = _filed_initial(campaign, _chosen_organization(request, organizations))
        form = ParticipationForm(initial=initial, organizations=organizations)
        goods = goods_formset(initial=lines)
    context = {"form": form, "goods": goods, "campaign": campaign}
    return render(request, "campaigns/participation_form.html", context)


@portal_view(read=READ, write=PARTICIPATE)
@require_POST
def campaign_tag(request: HttpRequest, pk: int) -> HttpResponse:
    """One click: a branch's theme-day record counts for the theme-day campaign (no second
    filing)."""
    user = request.user
    campaign = get_object_or_404(Campaign, pk=pk)
    wanted = request.POST.get("record", "")
    if not (wanted.isdecimal() and wanted.isascii()):
        raise Http404
    record = get_object_or_404(
        visible_activity_records(user).select_related("organization", "activity_type"),
        pk=int(wanted),
    )
    if not access.can(user, PARTICIPATE, record):
        return _forbidden(request, gettext("You cannot file for this organization."))
    try:
        tag_activity(user, campaign, record)
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            gettext("The theme day of %(date)s now counts for this campaign.")
            % {"date": record.date.isoformat()},
        )
    return redirect(reverse("portal:campaign", args=[campaign.pk]) + "#theme-day")


# --- notices ------------------------------------------------------------------------------------


@portal_view(read=OWN)
@require_safe
def notice_list(request: HttpRequest) -> HttpResponse:
    """The user's notices, the newest first, those not yet read marked."""
    notices = Notice.objects.filter(user=request.user).order_by("-created_at", "-pk")
    page = Paginator(notices, NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "querystring": _querystring(request),
        "unread": sum(1 for n in page.object_list if n.read_at is None),
    }
    return render(request, "campaigns/notice_list.html", context)


@portal_view(read=OWN, write=OWN)
@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    """Mark one notice (`notice`) or all of the user's (`all`) as read. Only the user's own:
    another user's notice is a 404."""
    unread = Notice.objects.filter(user=request.user, read_at__isnull=True)
    wanted = request.POST.get("notice", "")
    if wanted:
        if not (wanted.isdecimal() and wanted.isascii()):
            raise Http404
        notice = get_object_or_404(Notice.objects.filter(user=request.user), pk=int(wanted))
        unread.filter(pk=notice.pk).update(read_at=timezone.now())
    elif request.POST.get("all"):
        unread.update(read_at=timezone.now())
    return redirect("portal:notices")


@portal_view(read=OWN)
@require_safe
def notices_unread(request: HttpRequest) -> JsonResponse:
    """How many of the user's notices are unread: the badge of the menu's notices link, asked
    by the page after it loaded, so that no page pays a query for it."""
    count = Notice.objects.filter(user=request.user, read_at__isnull=True).count()
    response = JsonResponse({"unread": count})
    response["Cache-Control"] = "private, no-store"
    return response
