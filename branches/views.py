"""Portal pages of the organ tree: home, "my organization", member search, and the activity
records (organizational life) that secretaries file from their phones.

Every query set starts from `branches.selectors`; an organization outside the user's scope is a
404, never a 403, so the portal does not confirm that it exists. A user who may see a record but
not change it (an inspector, or a secretary after the edit window) gets a 403 page saying why.
Counts and the current term are annotations: a page costs the same number of queries for 5
members or 50. Every write goes through `branches.services`.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts import access
from accounts.access import portal_view
from accounts.views import landing_url
from campaigns.selectors import overdue_problems
from config.files import attachment_response
from config.pagination import KeysFirstPaginator as Paginator

from .compliance import what_we_still_owe
from .filters import ActivityRecordFilter, MemberSearchFilter
from .forms import ActivityRecordForm, initial_from_query, statuses_from, upload_token_from
from .models import (
    COLLEGE_OR_ABOVE,
    ActivityType,
    AgeBand,
    AttendanceStatus,
    Education,
    MemberStatus,
    OrganizationKind,
)
from .selectors import (
    activity_types_for,
    attendance_by_status,
    attendee_pool,
    election_overdue,
    organizations_for_display,
    records_under,
    roster_of,
    structure_warnings,
    units_with_top_organizations,
    visible_activity_records,
    visible_attachments,
    visible_members,
    visible_organizations,
    visible_units,
)
from .services import (
    attachment_limits_text,
    change_refusal,
    clear_pending_uploads,
    delete_activity_record,
    discard_pending_uploads,
    edit_window_message,
    file_activity_record,
    keep_pending_uploads,
    pending_uploads,
    update_activity_record,
)

MEMBERS_PER_PAGE = 50
UNITS_PER_PAGE = 20  # on the inspectors' home
UNIT_SEARCH_MAX = 50
# The organization page lists this many members (one line each, details on tap); the others
# are a tap away ("show all"), and the member search lists them all with filters.
ROSTER_FIRST = 20
RECORDS_PER_PAGE = 20
# A secretary's own organization page (their home) lists this many overdue problems.
OVERDUE_FIRST = 5
# Attachments a browser can show in an <img>; HEIC (iPhone) and PDF are offered as links.
THUMBNAIL_TYPES = {"image/jpeg", "image/png", "image/webp"}


def _election_due_soon(due: datetime.date | None, today: datetime.date) -> bool:
    horizon = today + datetime.timedelta(days=settings.TERM_DUE_SOON_DAYS)
    return due is not None and today <= due <= horizon


@portal_view(read="organization.view")
def home(request: HttpRequest) -> HttpResponse:
    """Staff go to the admin, a user given an organization (a secretary) to it; the others
    (inspectors) see the units of their scope."""
    user = request.user
    if access.can(user, "committee.admin"):
        return redirect(landing_url(user))
    if user.organization_id:
        return redirect("portal:organization", pk=user.organization_id)

    # A page of units: a province-wide inspector has hundreds; a name finds one.
    search = request.GET.get("q", "").strip()[:UNIT_SEARCH_MAX]
    in_scope = visible_units(user)
    if search:
        in_scope = in_scope.filter(Q(name__icontains=search) | Q(short_name__icontains=search))
    page = Paginator(in_scope.order_by("sort_order", "name", "pk"), UNITS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    page.object_list = units_with_top_organizations(
        user, timezone.localdate(), in_scope.filter(pk__in=[u.pk for u in page.object_list])
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "units": page.object_list,
        "page": page,
        "q": search,
        "querystring": query.urlencode(),
    }
    return render(request, "portal/home.html", context)


@portal_view(read="organization.view")
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The "my organization" page: facts, term, warnings, sub-organizations and roster."""
    user = request.user
    visible = visible_organizations(user)
    # Query 1 (+1 prefetch of joint units): the organization with its counts and current term.
    organization = get_object_or_404(
        organizations_for_display(user)
        .select_related("parent")
        .prefetch_related("joint_units")
        # Link the parent only when the user may open it (no query per page view for that).
        .annotate(parent_visible=Exists(visible.filter(pk=OuterRef("parent_id")))),
        pk=pk,
    )
    # Query 2: the sub-organizations in scope, each with its counts and term.
    children = list(organizations_for_display(user).filter(parent=organization))
    today = timezone.localdate()
    for child in children:
        child.election_overdue = election_overdue(child, today)

    # Query 3 (branch or group only): the roster, officers first.
    members = None
    if organization.holds_members:
        members = list(roster_of(user, organization))

    summary = None
    if members is not None:
        summary = {
            "total": len(members),
            "full": sum(m.status == MemberStatus.FULL for m in members),
            "probationary": sum(m.status == MemberStatus.PROBATIONARY for m in members),
            "youth": sum(m.is_youth for m in members),
            "women": sum(m.sex == "female" for m in members),
            "college": sum(m.education in COLLEGE_OR_ABOVE for m in members),
        }

    # Branch or group: the "what we still owe" card (this month, quarter, year) and the links
    # to file a record, for this organization and for each of its groups.
    owed = can_file = None
    file_types: dict[str, int] = {}
    groups = [child for child in children if child.kind == OrganizationKind.GROUP]
    if organization.kind in (OrganizationKind.BRANCH, OrganizationKind.GROUP):
        owed = what_we_still_owe(organization, today)
        can_file = access.can(user, "activity.file", organization)
        if can_file:
            file_types = {t.name: t.pk for t in activity_types_for(organization)}
        for status in owed:
            # (type name, how many, type id to prefill the form with, when filed here)
            status.items = [(name, n, file_types.get(name)) for name, n in status.still_owed]

    # The secretary's home: one query for the first overdue problems of their scope (one more
    # than shown, to know whether to say "all").
    overdue = None
    if user.organization_id == organization.pk and access.can(user, "problem.answer"):
        overdue = list(overdue_problems(user)[: OVERDUE_FIRST + 1])

    context = {
        "organization": organization,
        "overdue_problems": overdue,
        "owed": owed,
        "can_file": can_file,
        "groups": groups,
        "joint_units": list(organization.joint_units.all()),
        "election_overdue": election_overdue(organization, today),
        "election_due_soon": _election_due_soon(organization.election_due_on, today),
        "warnings": structure_warnings(organization),
        "children": children,
        "members": members,
        "roster_first": members[:ROSTER_FIRST] if members else [],
        "roster_rest": members[ROSTER_FIRST:] if members else [],
        "summary": summary,
        "probationary_count": organization.member_count - organization.full_member_count,
        "is_own": user.organization_id == organization.pk,
    }
    return render(request, "branches/organization_detail.html", context)


@portal_view(read="organization.view")
def member_search(request: HttpRequest) -> HttpResponse:
    """Find members within the scope by name or number, organization, status, youth..."""
    user = request.user
    members = visible_members(user).select_related("branch__unit", "group")
    member_filter = MemberSearchFilter(
        request.GET, queryset=members.order_by("branch__path", "member_no"), request=request
    )
    page = Paginator(member_filter.qs, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": member_filter,
        "page": page,
        "organizations": visible_organizations(user).only("pk", "name", "depth", "path"),
        "status_choices": MemberStatus.choices,
        "age_choices": AgeBand.choices,
        "education_choices": Education.choices,
        "querystring": query.urlencode(),
    }
    return render(request, "branches/member_search.html", context)


# --- Organizational life: activity records --------------------------------------------------


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


def _render_form(request, form, organization, record=None) -> HttpResponse:
    context = {
        "form": form,
        "organization": organization,
        "record": record,
        "attachments": list(record.attachments.all()) if record is not None else [],
        "today": timezone.localdate(),
        "limits": {
            "file_bytes": settings.ACTIVITY_ATTACHMENT_MAX_MB * 1024 * 1024,
            "file_mb": settings.ACTIVITY_ATTACHMENT_MAX_MB,
            "files": settings.ACTIVITY_ATTACHMENTS_MAX_FILES,
            "total_bytes": settings.ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB * 1024 * 1024,
            "total_mb": settings.ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB,
            "text": attachment_limits_text(),
            "keep_hours": settings.ACTIVITY_PENDING_UPLOAD_HOURS,
        },
    }
    return render(request, "branches/activity_form.html", context)


def _offer_kept_files(request: HttpRequest, form: ActivityRecordForm) -> None:
    """The form refreshed without JavaScript (a GET carrying its token) offers the files kept
    from an earlier try again; a new form has none (and costs no query for them)."""
    if upload_token_from(request.GET.get("upload_token")):
        form.pending_uploads = pending_uploads(request.user, form.upload_token)


def _submit(request: HttpRequest, form: ActivityRecordForm, save, record=None):
    """A POST of the filing form: `save(data)` when everything is in order. Otherwise the form
    comes back with every error at once (its own and the service's), and the good files are
    kept for the user under the form's token, offered as already attached. Returns what
    `save` returned, or None when the form comes back."""
    user = request.user
    clear_pending_uploads()  # the kept files of abandoned forms, anybody's, past their time
    token = form.upload_token
    if form.removed_pending_ids:
        discard_pending_uploads(user, token, form.removed_pending_ids)
    pending = pending_uploads(user, token)
    uploads = request.FILES.getlist("attachments")
    if form.is_valid():
        try:
            return save(form.activity_input(uploads, pending))
        except ValidationError as exc:
            form.add_service_errors(exc)
    else:
        form.check_with_service(form.activity_input(uploads, pending), record)
    form.attachment_errors += keep_pending_uploads(
        user, token, uploads, record=record, remove_attachment_ids=form.removed_attachment_ids
    )
    form.pending_uploads = pending_uploads(user, token)
    return None


@portal_view(read="organization.view", write="activity.file")
@require_http_methods(["GET", "POST"])
def activity_new(request: HttpRequest, pk: int) -> HttpResponse:
    """File a record: type, date, topic, attendance (everyone present unless marked), photos."""
    user = request.user
    organization = get_object_or_404(visible_organizations(user), pk=pk)
    if not access.can(user, "activity.file", organization):
        return _forbidden(request, gettext("You cannot file records for this organization."))
    form_kwargs = dict(
        organization=organization,
        types=activity_types_for(organization),
        members=attendee_pool(organization),
    )
    if request.method == "POST":
        form = ActivityRecordForm(request.POST, **form_kwargs)
        try:
            record = _submit(request, form, lambda data: file_activity_record(user, data))
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        if record is not None:
            messages.success(
                request,
                gettext("Filed: %(type)s on %(date)s, %(present)d of %(expected)d present.")
                % {
                    "type": record.type_name,
                    "date": record.date.isoformat(),
                    "present": record.present_count,
                    "expected": record.expected_count,
                },
            )
            return redirect("portal:activity_list", pk=organization.pk)
    else:
        # Prefilled from the query string: "?activity_type=" from the owed card, or the whole
        # form when the list is refreshed for another type without JavaScript.
        form = ActivityRecordForm(
            initial=initial_from_query(request.GET, timezone.localdate()),
            statuses=statuses_from(request.GET, form_kwargs["members"]),
            upload_token=request.GET.get("upload_token"),
            **form_kwargs,
        )
        _offer_kept_files(request, form)
    return _render_form(request, form, organization)


@portal_view(read="organization.view", write="activity.change")
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The filing form, prefilled; secretaries may edit within the window, staff always."""
    user = request.user
    record = get_object_or_404(
        visible_activity_records(user).select_related("organization", "activity_type"), pk=pk
    )
    refusal = change_refusal(user, record)
    if refusal is not None:
        return _forbidden(request, refusal)
    organization = record.organization
    types = activity_types_for(organization)
    if record.activity_type is not None and record.activity_type not in types:
        types.append(record.activity_type)  # its kinds changed since: keep it choosable
    form_kwargs = dict(organization=organization, types=types, members=attendee_pool(organization))
    if request.method == "POST":
        form = ActivityRecordForm(request.POST, **form_kwargs)

        def save(data):
            return update_activity_record(
                user, record, data, remove_attachment_ids=form.removed_attachment_ids
            )

        try:
            saved = _submit(request, form, save, record)
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        if saved is not None:
            messages.success(request, gettext("The record was updated."))
            return redirect("portal:activity_detail", pk=record.pk)
    else:
        initial = {
            "activity_type": record.activity_type_id,
            "date": record.date,
            "topic": record.topic,
            "place": record.place,
            "content": record.content,
        }
        statuses = dict(record.attendances.values_list("member_id", "status"))
        if "activity_type" in request.GET:  # refreshed without JavaScript
            initial.update(initial_from_query(request.GET, record.date))
            statuses = statuses_from(request.GET, form_kwargs["members"])
        form = ActivityRecordForm(
            initial=initial,
            statuses=statuses,
            upload_token=request.GET.get("upload_token"),
            **form_kwargs,
        )
        _offer_kept_files(request, form)
    return _render_form(request, form, organization, record)


@portal_view(read="organization.view", write="activity.change")
@require_http_methods(["GET", "POST"])
def activity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes (the record, its attendance and its files)."""
    user = request.user
    record = get_object_or_404(visible_activity_records(user).select_related("organization"), pk=pk)
    refusal = change_refusal(user, record)
    if refusal is not None:
        return _forbidden(request, refusal)
    if request.method == "POST":
        organization_pk = record.organization_id
        try:
            delete_activity_record(user, record)
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        messages.success(request, gettext("The record was deleted."))
        return redirect("portal:activity_list", pk=organization_pk)
    return render(request, "branches/activity_confirm_delete.html", {"record": record})


@portal_view(read="organization.view")
@require_safe
def activity_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Records of the organization and of everything under it (a branch's groups), newest
    first, filtered by type and month."""
    user = request.user
    # Queries: 1 the organization, 2 may the user file here (secretaries only), 3 the types
    # for the filter, 4 count for the pager, 5 the page (organization joined, attachments
    # counted in a subquery).
    organization = get_object_or_404(visible_organizations(user), pk=pk)
    records = records_under(user, organization)
    record_filter = ActivityRecordFilter(request.GET, queryset=records, request=request)
    page = Paginator(record_filter.qs, RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "organization": organization,
        "filter": record_filter,
        "page": page,
        "types": list(ActivityType.objects.all()),
        "can_file": access.can(user, "activity.file", organization),
        "querystring": query.urlencode(),
    }
    return render(request, "branches/activity_list.html", context)


@portal_view(read="organization.view")
@require_safe
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One record: facts, attendance by status, photos and minutes."""
    user = request.user
    # Queries: 1 the record (organization, type, filer joined), 2 attendance with members,
    # 3 attachments, 4-5 may the user write here / edit it still (secretaries only).
    record = get_object_or_404(
        visible_activity_records(user).select_related("organization", "activity_type", "filed_by"),
        pk=pk,
    )
    by_status = attendance_by_status(record)
    attachments = list(record.attachments.all())
    for attachment in attachments:
        attachment.thumbnail = attachment.content_type in THUMBNAIL_TYPES
    can_write = access.can(user, "activity.file", record.organization)
    can_edit = can_write and access.can(user, "activity.change", record)
    context = {
        "record": record,
        "attendance": [
            (value, label, by_status[value]) for value, label in AttendanceStatus.choices
        ],
        "attachments": attachments,
        "can_edit": can_edit,
        "window_closed": can_write and not can_edit,
        "window_message": edit_window_message() if can_write and not can_edit else "",
    }
    return render(request, "branches/activity_detail.html", context)


@portal_view(read="organization.view")
@require_safe
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """An attachment's file, for users who may see its record: media files are never public."""
    return attachment_response(get_object_or_404(visible_attachments(request.user), pk=pk))
