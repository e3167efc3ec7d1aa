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
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Role
from accounts.views import landing_url

from .compliance import what_we_still_owe
from .filters import ActivityRecordFilter, MemberSearchFilter
from .forms import ActivityRecordForm, initial_from_query, statuses_from
from .models import (
    COLLEGE_OR_ABOVE,
    ActivityRecord,
    ActivityType,
    Attachment,
    AttendanceStatus,
    Member,
    MemberStatus,
    Organization,
    OrganizationKind,
    PartyDuty,
)
from .selectors import (
    SubqueryCount,
    election_overdue,
    organizations_for_display,
    structure_warnings,
    unit_counts_in_scope,
    visible_activity_records,
    visible_members,
    visible_organizations,
    visible_units,
)
from .services import (
    can_edit_record,
    can_write_for,
    delete_activity_record,
    expected_attendees,
    file_activity_record,
    update_activity_record,
)

MEMBERS_PER_PAGE = 50
RECORDS_PER_PAGE = 20
# Attachments a browser can show in an <img>; HEIC (iPhone) and PDF are offered as links.
THUMBNAIL_TYPES = {"image/jpeg", "image/png", "image/webp"}


def _duty_rank(field: str = "duty") -> Case:
    """Officers first on a roster, in the order of the branch work regulations."""
    return Case(
        When(**{field: PartyDuty.SECRETARY}, then=Value(0)),
        When(**{field: PartyDuty.DEPUTY_SECRETARY}, then=Value(1)),
        When(**{field: PartyDuty.COMMITTEE_MEMBER}, then=Value(2)),
        When(**{field: PartyDuty.GROUP_LEADER}, then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )


DUTY_RANK = _duty_rank()


def _election_due_soon(due: datetime.date | None, today: datetime.date) -> bool:
    horizon = today + datetime.timedelta(days=settings.TERM_DUE_SOON_DAYS)
    return due is not None and today <= due <= horizon


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff go to the admin, a secretary to their organization, an inspector sees the scope."""
    user = request.user
    if user.is_committee_staff:
        return redirect(landing_url(user))
    if user.role == Role.SECRETARY and user.organization_id:
        return redirect("portal:organization", pk=user.organization_id)

    # Queries: units in scope (counts as subqueries), top organizations (counts, current term),
    # and the other units of the joint committees among them (prefetch).
    units = list(unit_counts_in_scope(visible_units(user), user))
    visible_pks = visible_organizations(user).values("pk")
    tops = (
        organizations_for_display(user)
        # Tops of the scope: their parent is outside it (or they have none).
        .exclude(parent__in=visible_pks)
        .prefetch_related("joint_units")
        .order_by("unit__sort_order", "unit__name", "path")
    )
    today = timezone.localdate()
    by_unit: dict[int, list] = {unit.pk: [] for unit in units}
    for org in tops:
        org.election_overdue = election_overdue(org, today)
        # A joint committee is listed under each unit it spans.
        for unit_id in [org.unit_id, *(u.pk for u in org.joint_units.all())]:
            by_unit.setdefault(unit_id, []).append(org)
    for unit in units:
        unit.top_organizations = by_unit.get(unit.pk, [])
    return render(request, "portal/home.html", {"units": units})


@login_required
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
    if organization.kind in (OrganizationKind.BRANCH, OrganizationKind.GROUP):
        field = "branch" if organization.kind == OrganizationKind.BRANCH else "group"
        members = list(
            visible_members(user)
            .filter(**{field: organization})
            .select_related("group")
            .annotate(duty_rank=DUTY_RANK)
            .order_by("duty_rank", "member_no")
        )

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
        can_file = can_write_for(user, organization)
        if can_file:
            file_types = {t.name: t.pk for t in _types_for(organization)}
        for status in owed:
            # (type name, how many, type id to prefill the form with, when filed here)
            status.items = [(name, n, file_types.get(name)) for name, n in status.still_owed]

    context = {
        "organization": organization,
        "owed": owed,
        "can_file": can_file,
        "groups": groups,
        "joint_units": list(organization.joint_units.all()),
        "election_overdue": election_overdue(organization, today),
        "election_due_soon": _election_due_soon(organization.election_due_on, today),
        "warnings": structure_warnings(organization),
        "children": children,
        "members": members,
        "summary": summary,
        "probationary_count": organization.member_count - organization.full_member_count,
        "is_own": user.organization_id == organization.pk,
    }
    return render(request, "branches/organization_detail.html", context)


@login_required
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
        "querystring": query.urlencode(),
    }
    return render(request, "branches/member_search.html", context)


# --- Organizational life: activity records --------------------------------------------------


def _types_for(organization: Organization) -> list[ActivityType]:
    """The activity types this kind of organization holds (a JSON list: filtered in Python,
    since SQLite has no JSON containment lookup)."""
    return [t for t in ActivityType.objects.all() if organization.kind in t.organization_kinds]


def _attendee_pool(organization: Organization) -> list[Member]:
    """Everybody who may be expected at one of the organization's activities: its members
    (a group's own). The committee meeting's list is the part holding a committee duty."""
    everyone = ActivityType(committee_only=False)  # unsaved: only `committee_only` is read
    return list(
        expected_attendees(organization, everyone)
        .annotate(duty_rank=DUTY_RANK)
        .order_by("duty_rank", "member_no")
        .only("pk", "name", "member_no", "duty")
    )


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


def _window_message() -> str:
    return gettext(
        "Records filed more than %(days)d days ago can only be changed by committee staff."
    ) % {"days": settings.ACTIVITY_EDIT_WINDOW_DAYS}


def _edit_refusal(user, record: ActivityRecord) -> str:
    if can_write_for(user, record.organization):
        return _window_message()
    return gettext("You cannot change records of this organization.")


def _render_form(request, form, organization, record=None) -> HttpResponse:
    context = {
        "form": form,
        "organization": organization,
        "record": record,
        "attachments": list(record.attachments.all()) if record is not None else [],
        "today": timezone.localdate(),
    }
    return render(request, "branches/activity_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def activity_new(request: HttpRequest, pk: int) -> HttpResponse:
    """File a record: type, date, topic, attendance (everyone present unless marked), photos."""
    user = request.user
    organization = get_object_or_404(visible_organizations(user), pk=pk)
    if not can_write_for(user, organization):
        return _forbidden(request, gettext("You cannot file records for this organization."))
    form_kwargs = dict(
        organization=organization,
        types=_types_for(organization),
        members=_attendee_pool(organization),
    )
    if request.method == "POST":
        form = ActivityRecordForm(request.POST, **form_kwargs)
        uploads = request.FILES.getlist("attachments")
        if not form.is_valid():
            form.check_attachments(uploads)
        else:
            try:
                record = file_activity_record(user, form.activity_input(uploads))
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _forbidden(request, str(exc))
            else:
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
            **form_kwargs,
        )
    return _render_form(request, form, organization)


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The filing form, prefilled; secretaries may edit within the window, staff always."""
    user = request.user
    record = get_object_or_404(
        visible_activity_records(user).select_related("organization", "activity_type"), pk=pk
    )
    if not can_edit_record(user, record):
        return _forbidden(request, _edit_refusal(user, record))
    organization = record.organization
    types = _types_for(organization)
    if record.activity_type is not None and record.activity_type not in types:
        types.append(record.activity_type)  # its kinds changed since: keep it choosable
    form_kwargs = dict(organization=organization, types=types, members=_attendee_pool(organization))
    if request.method == "POST":
        form = ActivityRecordForm(request.POST, **form_kwargs)
        uploads = request.FILES.getlist("attachments")
        if not form.is_valid():
            form.check_attachments(uploads)
        else:
            remove = [int(v) for v in request.POST.getlist("remove_attachment") if v.isdigit()]
            try:
                update_activity_record(
                    user, record, form.activity_input(uploads), remove_attachment_ids=remove
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _forbidden(request, str(exc))
            else:
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
        form = ActivityRecordForm(initial=initial, statuses=statuses, **form_kwargs)
    return _render_form(request, form, organization, record)


@login_required
@require_http_methods(["GET", "POST"])
def activity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes (the record, its attendance and its files)."""
    user = request.user
    record = get_object_or_404(visible_activity_records(user).select_related("organization"), pk=pk)
    if not can_edit_record(user, record):
        return _forbidden(request, _edit_refusal(user, record))
    if request.method == "POST":
        organization_pk = record.organization_id
        try:
            delete_activity_record(user, record)
        except PermissionDenied as exc:
            return _forbidden(request, str(exc))
        messages.success(request, gettext("The record was deleted."))
        return redirect("portal:activity_list", pk=organization_pk)
    return render(request, "branches/activity_confirm_delete.html", {"record": record})


@login_required
@require_safe
def activity_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Records of the organization and of everything under it (a branch's groups), newest
    first, filtered by type and month."""
    user = request.user
    # Queries: 1 the organization, 2 may the user file here (secretaries only), 3 the types
    # for the filter, 4 count for the pager, 5 the page (organization joined, attachments
    # counted in a subquery).
    organization = get_object_or_404(visible_organizations(user), pk=pk)
    records = (
        visible_activity_records(user)
        .filter(organization__path__startswith=organization.path)
        .select_related("organization")
        .annotate(
            attachment_count=SubqueryCount(
                Attachment.objects.filter(record=OuterRef("pk")).values("pk")
            )
        )
        .order_by("-date", "-pk")
    )
    record_filter = ActivityRecordFilter(request.GET, queryset=records, request=request)
    page = Paginator(record_filter.qs, RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "organization": organization,
        "filter": record_filter,
        "page": page,
        "types": list(ActivityType.objects.all()),
        "can_file": can_write_for(user, organization),
        "querystring": query.urlencode(),
    }
    return render(request, "branches/activity_list.html", context)


@login_required
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
    attendances = list(
        record.attendances.select_related("member")
        .annotate(duty_rank=_duty_rank("member__duty"))
        .order_by("duty_rank", "member__member_no")
    )
    by_status = {value: [] for value in AttendanceStatus.values}
    for attendance in attendances:
        by_status.setdefault(attendance.status, []).append(attendance.member)
    attachments = list(record.attachments.all())
    for attachment in attachments:
        attachment.thumbnail = attachment.content_type in THUMBNAIL_TYPES
    can_write = can_write_for(user, record.organization)
    can_edit = can_write and can_edit_record(user, record)
    context = {
        "record": record,
        "attendance": [
            (value, label, by_status[value]) for value, label in AttendanceStatus.choices
        ],
        "attachments": attachments,
        "can_edit": can_edit,
        "window_closed": can_write and not can_edit,
        "window_message": _window_message() if can_write and not can_edit else "",
    }
    return render(request, "branches/activity_detail.html", context)


@login_required
@require_safe
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """An attachment's file, for users who may see its record: media files are never public."""
    found = get_object_or_404(
        Attachment.objects.filter(
            record__organization__in=visible_organizations(request.user).values("pk")
        ),
        pk=pk,
    )
    return attachment_response(found)


def attachment_response(found: Attachment) -> FileResponse:
    """Photos and PDFs open in the browser; the type is the one sniffed on upload."""
    try:
        handle = found.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(gettext("The file is missing.")) from exc
    response = FileResponse(
        handle,
        content_type=found.content_type,
        as_attachment=not (found.is_image or found.content_type == "application/pdf"),
        filename=found.original_name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
