"""Portal pages of the organ tree: home, "my organization", member search.

Every query set starts from `branches.selectors`; an organization outside the user's scope is a
404, never a 403, so the portal does not confirm that it exists. Counts and the current term
are annotations: a page costs the same number of queries for 5 members or 50.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.models import Role
from accounts.views import landing_url

from .filters import MemberSearchFilter
from .models import COLLEGE_OR_ABOVE, MemberStatus, OrganizationKind, PartyDuty
from .selectors import (
    election_overdue,
    organizations_for_display,
    structure_warnings,
    unit_counts_in_scope,
    visible_members,
    visible_organizations,
    visible_units,
)

MEMBERS_PER_PAGE = 50

# Officers first on a roster, in the order of the branch work regulations.
DUTY_RANK = Case(
    When(duty=PartyDuty.SECRETARY, then=Value(0)),
    When(duty=PartyDuty.DEPUTY_SECRETARY, then=Value(1)),
    When(duty=PartyDuty.COMMITTEE_MEMBER, then=Value(2)),
    When(duty=PartyDuty.GROUP_LEADER, then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


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

    context = {
        "organization": organization,
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
