"""The dashboard's pages (数据看板): a phone-first page of charts and the meeting room's big
screen (大屏).

Both are shells: they name the data endpoints (`/api/dashboard/<panel>/`, `dashboard.api`) and
the scope, and `static/dashboard/dashboard.js` fetches the figures and draws them with the
vendored ECharts. No database query beyond the session's user (who comes with their
organization, `accounts.backends`): what each user sees is the endpoints' business, scoped there.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from accounts import access
from accounts.access import portal_view

from .selectors import BRANCH, SCOPE_PANELS

READ = "dashboard.view"
# What the script writes (series names, states), translated here: dashboard.js holds no
# words of its own.
STRINGS = {
    "loading": _("Loading…"),
    "error": _("These figures could not be loaded. Try again later."),
    "empty": _("Nothing to show yet."),
    "rate": _("Compliance rate"),
    "organizations": _("Organizations"),
    "compliant": _("Compliant"),
    "owing": _("Organizations still owing"),
    "missing": _("Activities missing"),
    "overdue": _("Overdue"),
    "due_soon": _("Due within 90 days"),
    "members": _("Members"),
    "youth": _("Young members (35 or under)"),
    "fifty_years": _("Members for 50 years or more"),
    "probationary": _("Probationary members"),
    "re_reviews_due": _("Re-reviews due"),
    "open_in_time": _("Open, within the deadline"),
    "docking_rate": _("Docking rate"),
    "pairings": _("Pairings"),
    "docked": _("Docked"),
    "money": _("Money (yuan)"),
    "goods": _("Goods (yuan)"),
    "titles": _("Titles held"),
    "goal": _("Goal"),
    "actual": _("Done so far"),
    "problems_open": _("Problems not yet accepted"),
    "problems_overdue": _("Problems past their deadline"),
    "elections_overdue": _("Elections overdue"),
    "elections_due_soon": _("Elections due within 90 days"),
    "share_of_goal": _("Share of the goal"),
    "activities_owed": _("Activities still owed this month"),
    "visits": _("Pairing visits this year"),
    "last_visit": _("last visit"),
    "deadline": _("deadline"),
    "attended": _("Times attended"),
    "expected": _("Times expected to attend"),
    "month": pgettext_lazy("dashboard column", "Month"),
    "unit": _("Unit"),
    "quarter": _("Quarter"),
    "scheme": _("Pairing scheme"),
    "kind": pgettext_lazy("dashboard column", "Kind of program"),
    "target": _("Target"),
    "member": _("Member"),
    "type": _("Type of activity"),
    "label": _("Category"),
    "nothing_owed": _("Nothing owed this month."),
    "no_visits": _("No pairing visits this year."),
    "no_problems": _("No open problems."),
}
# The big screen fetches its figures again every five minutes.
SCREEN_REFRESH_SECONDS = 300


def _shell(request: HttpRequest) -> dict:
    """What both pages need: the endpoints and the scope's label, without a query (the
    endpoints answer with the scope's own label, which the script then shows)."""
    user = request.user
    has_organization = bool(user.organization_id)
    # The branch panel only for a user given an organization (a secretary).
    panels = [*SCOPE_PANELS, BRANCH] if has_organization else list(SCOPE_PANELS)
    if access.sees_whole_city(user):
        label = gettext("The whole city")
    elif has_organization:
        label = user.organization.name  # joined with the user (no query)
    else:
        label = gettext("Your units")
    return {
        "endpoints": {panel: reverse(f"dashboard-{panel}") for panel in panels},
        "scope_label": label,
        "has_branch": has_organization,
        "strings": STRINGS,
    }


@portal_view(read=READ)
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/dashboard.html", _shell(request))


@portal_view(read=READ)
@require_safe
def screen(request: HttpRequest) -> HttpResponse:
    context = _shell(request) | {"refresh_seconds": SCREEN_REFRESH_SECONDS}
    return render(request, "dashboard/screen.html", context)
