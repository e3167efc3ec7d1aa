"""Portal pages of evaluations (评选表彰): the programs, a secretary's application (申报) with
its self-assessment and files, the application's page with the evidence from the portal's own
data and the scoring form for reviewers, the reviewers' list, the honour roll and the titles
due for re-review (复评复审).

Like `pairings.views`: every query set starts from the scope (`evaluations.selectors`), so an
application outside it is a 404; a user who may read it but not act on it (an inspector on an
application form, a secretary on a score sheet) gets a 403 page saying why. Every write goes
through `evaluations.services`; pages cost the same number of queries whatever the number of
applications or criteria.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access
from accounts.access import portal_view
from branches.models import OrganizationKind
from branches.selectors import visible_organizations
from config.files import attachment_response
from config.pagination import KeysFirstPaginator as Paginator

from . import rules, selectors
from .forms import ApplicationForm, ReviewFilterForm, ScoreSheetForm, plain_number
from .models import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    Criterion,
    Evidence,
    Program,
    ProgramKind,
    ReviewSheet,
)
from .services import (
    criteria_of,
    save_application,
    submit_application,
    submit_sheet,
    withdraw_application,
)

READ = "organization.view"
APPLY = "evaluation.apply"
SCORE = "evaluation.score"
MANAGE = "evaluation.manage"

S = ApplicationStatus
PROGRAMS_PER_PAGE = 20
APPLICATIONS_PER_PAGE = 20
TITLES_PER_PAGE = 50
# Apply buttons offered per program on the list (a committee secretary's subtree may be big).
CANDIDATES_MAX = 30
# Files a browser can show in an <img>; HEIC (iPhone) and PDF are offered as links.
THUMBNAIL_TYPES = {"image/jpeg", "image/png", "image/webp"}


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


def _apply_refusal() -> str:
    return gettext("You cannot apply for this organization.")


def _score_refusal() -> str:
    return gettext("You are not a reviewer of this program.")


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _visible_application(request: HttpRequest, pk: int) -> Application:
    """The application in the user's scope (else a 404), its program, organization, stage."""
    return get_object_or_404(
        selectors.visible_applications(request.user).select_related(
            "program", "organization", "organization__unit", "stage"
        ),
        pk=pk,
    )


# --- programs ----------------------------------------------------------------------------------


@portal_view(read=READ)
@require_safe
def program_list(request: HttpRequest) -> HttpResponse:
    """Programs open now, coming and past, with their windows; for a secretary their
    applications and an apply button per organization of theirs that may still apply; for a
    reviewer the applications to review."""
    user = request.user
    today = timezone.localdate()
    current = list(Program.objects.filter(closes_on__gte=today).order_by("opens_on", "name"))
    open_now = [p for p in current if rules.window_open(p, today)]
    coming = [p for p in current if p.opens_on > today]
    past = Program.objects.filter(closes_on__lt=today).order_by("-closes_on", "name")
    page = Paginator(past, PROGRAMS_PER_PAGE).get_page(request.GET.get("page"))
    shown = [*current, *page.object_list]
    ids = [p.pk for p in shown]

    applicant = access.can(user, APPLY) and not access.can(user, MANAGE)
    mine: dict[int, list[Application]] = {}
    candidates: dict[int, list] = {}
    if applicant and ids:
        applied = list(
            selectors.visible_applications(user)
            .filter(program_id__in=ids)
            .select_related("organization", "stage")
            .order_by("organization__path")
        )
        for application in applied:
            mine.setdefault(application.program_id, []).append(application)
        candidates = _candidates(user, open_now, applied)
    reviewing: dict[int, int] = {}
    if access.can(user, SCORE) and ids:
        reviewed = set(
            selectors.reviewer_programs(user).filter(pk__in=ids).values_list("pk", flat=True)
        )
        counts = dict(
            selectors.visible_applications(user)
            .filter(program_id__in=reviewed)
            .exclude(status=S.DRAFT)
            .order_by()
            .values_list("program_id")
            .annotate(n=Count("pk"))
        )
        reviewing = {pk: counts.get(pk, 0) for pk in reviewed}

    def card(program: Program) -> dict:
        return {
            "program": program,
            "open": program in open_now,
            "days_left": (program.closes_on - today).days,
            "mine": mine.get(program.pk, []),
            "candidates": candidates.get(program.pk, []),
            "reviewing": program.pk in reviewing,
            "to_review": reviewing.get(program.pk, 0),
        }

    context = {
        "open_now": [card(p) for p in open_now],
        "coming": [card(p) for p in coming],
        "past": [card(p) for p in page.object_list],
        "page": page,
        "querystring": _querystring(request),
        "applicant": applicant,
        "reviewer": access.can(user, SCORE),
    }
    return render(request, "evaluations/program_list.html", context)


def _candidates(user, open_now: list[Program], applied: list[Application]) -> dict[int, list]:
    """Per open program, the user's organizations of a kind it takes that have not applied
    (two queries, whatever the number of programs)."""
    if not open_now:
        return {}
    kinds: dict[int, set[str]] = {}
    for program_id, kind in (
        Criterion.objects.filter(program__in=open_now)
        .order_by()
        .values_list("program_id", "organization_kind")
        .distinct()
    ):
        kinds.setdefault(program_id, set()).add(kind)
    wanted = set().union(*kinds.values()) if kinds else set()
    if not wanted:
        return {}
    organizations = list(
        access.organizations_where(user, APPLY)
        .filter(kind__in=wanted)
        .order_by("path")
        .only("pk", "name", "kind", "path")[: CANDIDATES_MAX * 4]
    )
    taken = {(a.program_id, a.organization_id) for a in applied}
    return {
        program.pk: [
            o
            for o in organizations
            if o.kind in kinds.get(program.pk, ()) and (program.pk, o.pk) not in taken
        ][:CANDIDATES_MAX]
        for program in open_now
    }


# --- the application form ----------------------------------------------------------------------


def _limits() -> dict:
    return {
        "file_bytes": settings.ACTIVITY_ATTACHMENT_MAX_MB * 1024 * 1024,
        "file_mb": settings.ACTIVITY_ATTACHMENT_MAX_MB,
        "files": settings.ACTIVITY_ATTACHMENTS_MAX_FILES,
        "total_bytes": settings.ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB * 1024 * 1024,
        "total_mb": settings.ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB,
    }


def _render_form(request, form, program, organization, application=None, files_sent=0):
    today = timezone.localdate()
    notices = []
    if not rules.window_open(program, today):
        notices.append(
            gettext("Applications to %(program)s are taken from %(opens)s to %(closes)s.")
            % {"program": program.name, "opens": program.opens_on, "closes": program.closes_on}
        )
    if not form.criteria:
        notices.append(
            gettext("%(program)s takes no applications from a %(kind)s.")
            % {"program": program.name, "kind": organization.get_kind_display()}
        )
    context = {
        "notices": notices,
        "form": form,
        "program": program,
        "organization": organization,
        "application": application,
        "attachments": list(application.attachments.all()) if application is not None else [],
        "files_sent": files_sent,
        "limits": _limits(),
    }
    return render(request, "evaluations/application_form.html", context)


def _saved(request: HttpRequest, application: Application, submitting: bool) -> HttpResponse:
    """After a good save: submitted too when asked, then to the application's page."""
    if submitting:
        try:
            application = submit_application(request.user, application)
        except ValidationError as exc:  # e.g. the window closed a second ago: the draft stays
            messages.error(
                request,
                gettext("Saved as a draft, not submitted: %(reason)s")
                % {"reason": " ".join(exc.messages)},
            )
            return redirect("portal:evaluation_application_edit", pk=application.pk)
        messages.success(
            request,
            gettext("Submitted: %(organization)s to %(program)s. It can no longer be changed.")
            % {"organization": application.organization.name, "program": application.program.name},
        )
    else:
        messages.success(
            request,
            gettext("Saved as a draft. Submit it by %(date)s.")
            % {"date": application.program.closes_on.isoformat()},
        )
    return redirect("portal:evaluation_application", pk=application.pk)


def _post_form(request, form, program, organization, application=None) -> HttpResponse:
    """A POST of the application form: saved (and submitted) when all is in order, else the
    form again with every error, nothing saved."""
    uploads = request.FILES.getlist("attachments")
    if form.is_valid():
        try:
            saved = save_application(
                request.user, form.application_input(program, organization, uploads), application
            )
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _saved(request, saved, form.submitting)
    return _render_form(request, form, program, organization, application, len(uploads))


@portal_view(read=READ, write=APPLY)
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest, pk: int, organization: int) -> HttpResponse:
    """Apply to a program for an organization of one's own: the self-assessment per criterion
    of its kind, a summary, photos and PDF files; saved as a draft or submitted."""
    user = request.user
    program = get_object_or_404(Program, pk=pk)
    organization = get_object_or_404(
        visible_organizations(user).select_related("unit"), pk=organization
    )
    if not access.can(user, APPLY, organization):
        return _forbidden(request, _apply_refusal())
    existing = (
        selectors.visible_applications(user)
        .filter(program=program, organization=organization)
        .first()
    )
    if existing is not None and request.method != "POST":
        messages.info(
            request,
            gettext("%(organization)s has already applied to %(program)s.")
            % {"organization": organization.name, "program": program.name},
        )
        return redirect("portal:evaluation_application", pk=existing.pk)
    criteria = list(criteria_of(program, organization.kind))
    if request.method == "POST":
        form = ApplicationForm(
            request.POST, criteria=criteria, submitting=request.POST.get("action") == "submit"
        )
        return _post_form(request, form, program, organization)
    return _render_form(request, ApplicationForm(criteria=criteria), program, organization)


@portal_view(read=READ, write=APPLY)
@require_http_methods(["GET", "POST"])
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft (and submit it). A submitted application is read-only: back to its page."""
    user = request.user
    application = _visible_application(request, pk)
    if not access.can(user, APPLY, application):
        return _forbidden(request, _apply_refusal())
    if application.status != S.DRAFT:
        messages.error(
            request,
            gettext("This application is %(status)s: it can no longer be changed.")
            % {"status": application.get_status_display()},
        )
        return redirect("portal:evaluation_application", pk=application.pk)
    criteria = list(selectors.criteria_for(application))
    program, organization = application.program, application.organization
    if request.method == "POST":
        form = ApplicationForm(
            request.POST, criteria=criteria, submitting=request.POST.get("action") == "submit"
        )
        return _post_form(request, form, program, organization, application)
    initial = {"summary": application.summary}
    for assessment in application.self_assessments.all():
        if assessment.score is not None:
            initial[f"score_{assessment.criterion_id}"] = plain_number(assessment.score)
        initial[f"evidence_{assessment.criterion_id}"] = assessment.evidence
    form = ApplicationForm(initial=initial, criteria=criteria)
    return _render_form(request, form, program, organization, application)


@portal_view(read=READ, write=APPLY)
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw an application before its review starts."""
    user = request.user
    application = _visible_application(request, pk)
    if not access.can(user, APPLY, application):
        return _forbidden(request, _apply_refusal())
    try:
        withdraw_application(user, application)
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, gettext("The application was withdrawn."))
    return redirect("portal:evaluation_application", pk=application.pk)


# --- the application's page and scoring --------------------------------------------------------


def _evidence(criterion: Criterion, found: dict) -> dict | None:
    """What the portal's data says for a criterion bound to a measure: text and tone."""
    measure = criterion.measure
    if not measure:
        return None
    value = found.get(measure)
    line = {
        "label": gettext("%(measure)s:") % {"measure": criterion.get_measure_display()},
        "tone": "unknown",
    }
    if measure == Evidence.NO_OPEN_PROBLEMS and value is None:
        line["text"] = gettext("Shown once the rectification problems feature is live")
    elif value is None:
        line["text"] = gettext("Not known from the data")
    elif measure == Evidence.ACTIVITY_SHARE:
        line["text"] = f"{float(value) * 100:.1f}%"
        line["tone"] = "good" if value >= 1 else "bad"
    else:
        line["text"] = gettext("Yes") if value else gettext("No")
        line["tone"] = "good" if value else "bad"
    return line


def _application_page(
    request: HttpRequest,
    application: Application,
    score_form: ScoreSheetForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    program = application.program
    today = timezone.localdate()
    criteria = list(selectors.criteria_for(application))
    assessments = {a.criterion_id: a for a in application.self_assessments.all()}
    attachments = list(application.attachments.all())
    for attachment in attachments:
        attachment.thumbnail = attachment.content_type in THUMBNAIL_TYPES
    may_apply = access.can(user, APPLY, application)
    may_score = access.can(user, SCORE, application)
    rows = []
    for criterion in criteria:
        assessment = assessments.get(criterion.pk)
        score = assessment.score if assessment is not None else None
        rows.append(
            {
                "criterion": criterion,
                "assessment": assessment,
                "self_score": plain_number(score) if score is not None else "—",
                "max": plain_number(criterion.max_score),
            }
        )
    context = {
        "application": application,
        "program": program,
        "organization": application.organization,
        "rows": rows,
        "attachments": attachments,
        "may_edit": may_apply and application.status == S.DRAFT,
        "may_withdraw": may_apply and rules.may_move(application.status, S.WITHDRAWN),
        "window_open": rules.window_open(program, today),
        "may_score": may_score,
        "score_form": score_form,
    }
    if may_score:
        found = selectors.evidence([application], today=today).get(application.pk, {})
        for row in rows:
            row["evidence"] = _evidence(row["criterion"], found)
        sheets = list(
            selectors.sheets_visible_to(user, application).prefetch_related("scores__criterion")
        )
        scored_now = any(
            s.reviewer_id == user.pk and s.stage_id == application.stage_id and s.submitted_at
            for s in sheets
        )
        under_review = application.status == S.UNDER_REVIEW and application.stage_id is not None
        conflict = under_review and rules.conflict_of_interest(user, application.organization)
        scoring = under_review and not scored_now and not conflict
        if scoring:
            score_form = score_form or ScoreSheetForm(criteria=criteria)
            for row in rows:
                row["score"] = score_form.row(row["criterion"])
        context.update(
            {
                "sheets": sheets,
                "scored_now": scored_now,
                "under_review": under_review,
                "conflict": conflict,
                "scoring": scoring,
                "score_form": score_form,
            }
        )
    if access.can(user, MANAGE):
        results = selectors.stage_results([application]).get(application.pk, {})
        context["stages"] = [
            {"stage": stage, "result": results.get(stage.pk)} for stage in program.stages.all()
        ]
    return render(request, "evaluations/application_detail.html", context, status=status)


@portal_view(read=READ)
@require_safe
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An application: status, stage, self-assessment, files; for reviewers the evidence from
    the data, the score sheet at the current stage and the sheets they may read; for staff the
    stage results."""
    return _application_page(request, _visible_application(request, pk))


@portal_view(read=READ, write=SCORE)
@require_POST
def application_score(request: HttpRequest, pk: int) -> HttpResponse:
    """A reviewer's scores at the application's current stage, once."""
    user = request.user
    application = _visible_application(request, pk)
    if not access.can(user, SCORE, application):
        return _forbidden(request, _score_refusal())
    form = ScoreSheetForm(request.POST, criteria=list(selectors.criteria_for(application)))
    if form.is_valid():
        try:
            sheet = submit_sheet(user, application, form.score_inputs())
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                gettext("Your scores at %(stage)s were submitted: %(total)s of 100.")
                % {"stage": sheet.stage.name, "total": plain_number(sheet.total)},
            )
            return redirect(
                reverse("portal:evaluation_application", args=[application.pk]) + "#sheets"
            )
    return _application_page(request, application, score_form=form)


@portal_view(read=READ)
@require_safe
def application_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """An application's file, for users who may see the application: media is never public."""
    attachment = get_object_or_404(
        ApplicationAttachment.objects.filter(
            application__in=selectors.visible_applications(request.user).values("pk")
        ),
        pk=pk,
    )
    return attachment_response(attachment)


# --- reviewers ---------------------------------------------------------------------------------


@portal_view(read=SCORE)
@require_safe
def review_list(request: HttpRequest) -> HttpResponse:
    """The applications of the programs the user reviews (staff: all), those under review
    first, with whether the user has scored the current stage."""
    user = request.user
    # Queries: 1 session, 2 user, 3 the programs (filter), 4 count, 5 the page.
    programs = list(selectors.reviewer_programs(user))
    filter_form = ReviewFilterForm(
        request.GET or None,
        programs=programs,
        statuses=[c for c in S.choices if c[0] != S.DRAFT],
    )
    own_sheet = ReviewSheet.objects.filter(
        application=OuterRef("pk"),
        stage=OuterRef("stage"),
        reviewer=user,
        submitted_at__isnull=False,
    )
    applications = (
        selectors.visible_applications(user)
        .exclude(status=S.DRAFT)
        .filter(**filter_form.filters())
        .select_related("program", "organization", "organization__unit", "stage")
        .annotate(
            scored=Exists(own_sheet),
            waiting=Case(
                When(status=S.UNDER_REVIEW, then=Value(0)),
                When(status=S.SUBMITTED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
        .order_by("waiting", "-program__year", "program__name", "organization__path", "pk")
    )
    page = Paginator(applications, APPLICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"filter": filter_form, "page": page, "querystring": _querystring(request)}
    return render(request, "evaluations/review_list.html", context)


@portal_view(read=SCORE)
@require_safe
def re_review_list(request: HttpRequest) -> HttpResponse:
    """Current titles whose validity ends within a month, or has ended (复评复审), in scope."""
    user = request.user
    today = timezone.localdate()
    titles = selectors.due_for_re_review(user, today=today).select_related("organization__unit")
    page = Paginator(titles, TITLES_PER_PAGE).get_page(request.GET.get("page"))
    for title in page.object_list:
        title.overdue = title.valid_until < today
    context = {"page": page, "querystring": _querystring(request), "today": today}
    return render(request, "evaluations/re_reviews.html", context)


# --- the honour roll ---------------------------------------------------------------------------


def _counts_text(lines: list[tuple[str, int]]) -> str:
    """[("党委", 10), ("党支部", 89)] -> "10 个党委、89 个党支部"."""
    parts = [gettext("%(kind)s: %(number)d") % {"kind": k, "number": n} for k, n in lines]
    text = parts[0] if parts else ""
    for part in parts[1:]:
        text = gettext("%(earlier)s, %(later)s") % {"earlier": text, "later": part}
    return text


@portal_view(read=READ)
@require_safe
def honour_roll(request: HttpRequest) -> HttpResponse:
    """Current titles (revoked ones are not on it), counted by program kind and organization
    kind, and listed; public to every user of the portal."""
    kind = request.GET.get("kind")
    kind = kind if kind in ProgramKind.values else ""
    titles = selectors.honour_roll()
    organization_kinds = dict(OrganizationKind.choices)
    position = {value: i for i, value in enumerate(organization_kinds)}
    by_program_kind: dict[str, list[tuple[str, int]]] = {}
    for line in sorted(
        selectors.titles_by_kind(titles),
        key=lambda x: (x["program__kind"], position.get(x["organization__kind"], 99)),
    ):
        by_program_kind.setdefault(line["program__kind"], []).append(
            (organization_kinds.get(line["organization__kind"], ""), line["n"])
        )
    program_kinds = dict(ProgramKind.choices)
    counts = [
        {
            "kind": value,
            "label": program_kinds.get(value, value),
            "total": sum(n for _, n in lines),
            "text": _counts_text(lines),
        }
        for value, lines in by_program_kind.items()
    ]
    listed = titles.filter(program__kind=kind) if kind else titles
    page = Paginator(listed, TITLES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "counts": counts,
        "kind": kind,
        "kind_label": program_kinds.get(kind, ""),
        "page": page,
        "querystring": _querystring(request),
    }
    return render(request, "evaluations/honour_roll.html", context)
