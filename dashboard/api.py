"""The dashboard's data: `/api/dashboard/<panel>/`, one read-only action per panel
(`docs/dashboard.md`). Thin: the figures come from `dashboard.selectors`, cached for the
whole city by `dashboard.cache`."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_base import fits_an_id

from . import cache, selectors
from . import serializers as shapes


def _panel(summary: str, serializer: type, **extra: Any):
    return extend_schema(summary=summary, responses={200: serializer}, filters=False, **extra)


class DashboardViewSet(viewsets.ViewSet):
    """The figures of the dashboard and the big screen, over the user's scope."""

    read_capability = "dashboard.view"
    write_capability = None

    def _answer(self, request: Request, panel: str) -> Response:
        today = timezone.localdate()
        build = getattr(selectors, panel)
        return Response(
            cache.answer(request.user, panel, today, lambda: build(request.user, today))
        )

    @_panel(
        "Compliance: the last 12 months' bulletins and this month by unit",
        shapes.DashboardCompliancePanelSerializer,
    )
    @action(detail=False, methods=["get"])
    def compliance(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(request, "compliance")

    @_panel("What is still owed this month", shapes.DashboardOwedPanelSerializer)
    @action(detail=False, methods=["get"])
    def owed(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(request, "owed")

    @_panel(
        "Term elections overdue and due within 90 days", shapes.DashboardElectionsPanelSerializer
    )
    @action(detail=False, methods=["get"])
    def elections(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(request, "elections")

    @_panel(
        "Members: age, youth, education, 50 years in the party, probationary",
        shapes.DashboardMembersPanelSerializer,
    )
    @action(detail=False, methods=["get"])
    def members(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(request, "members")

    @_panel(
        "Pairings: docking per scheme and help by quarter", shapes.DashboardPairingsPanelSerializer
    )
    @action(detail=False, methods=["get"])
    def pairings(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(request, "pairings")

    @_panel(
        "Titles held by program kind and re-reviews due", shapes.DashboardEvaluationsPanelSerializer
    )
    @action(detail=False, methods=["get"])
    def evaluations(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(request, "evaluations")

    @_panel("Targets of the campaigns running today", shapes.DashboardCampaignsPanelSerializer)
    @action(detail=False, methods=["get"])
    def campaigns(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(request, "campaigns")

    @_panel("Problems open and overdue, by unit", shapes.DashboardProblemsPanelSerializer)
    @action(detail=False, methods=["get"])
    def problems(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(request, "problems")

    @_panel(
        "One organization: owed this month, attendance, problems, pairing visits",
        shapes.DashboardBranchPanelSerializer,
        parameters=[
            OpenApiParameter(
                "organization",
                OpenApiTypes.INT,
                description="An organization in your scope (default: your own).",
            )
        ],
    )
    @action(detail=False, methods=["get"])
    def branch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wanted = request.query_params.get("organization")
        if wanted is not None and not fits_an_id(wanted):
            raise Http404(gettext("No such organization in your scope."))
        if wanted is None and not getattr(request.user, "organization_id", None):
            raise Http404(
                gettext("You have no organization of your own: choose one (?organization=<id>).")
            )
        organization = selectors.branch_organization(request.user, wanted)
        if organization is None:
            raise Http404(gettext("No such organization in your scope."))
        today = timezone.localdate()
        return Response(
            cache.answer(
                request.user,
                "branch",
                today,
                lambda: selectors.branch(request.user, organization, today),
                organization.pk,
            )
        )
