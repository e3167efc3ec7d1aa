"""The /api/ door: one router, viewsets from each app, OpenAPI schema and docs."""

import datetime

from django.conf import settings
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import APIRootView, DefaultRouter

from accounts.access import PUBLIC
from accounts.authentication import fresh_token
from accounts.lockout import locked_out
from branches import api as branches_api
from campaigns import api as campaigns_api
from config.api_permissions import CapabilityPermission
from dashboard.api import DashboardViewSet
from evaluations import api as evaluations_api
from pairings import api as pairings_api
from reports import api as reports_api


class PortalAPIRootView(APIRootView):
    """The list of endpoints, for logged-in users."""

    read_capability = "organization.view"
    write_capability = None


class PublicMixin:
    """Open to anybody, declared so: a token needs credentials, the schema holds no data."""

    permission_classes = [CapabilityPermission]
    read_capability = PUBLIC
    write_capability = PUBLIC


class TokenRequestSerializer(AuthTokenSerializer):
    # As long as a username can be: a longer one is a 400, before the lockout's records.
    username = serializers.CharField(label=_("Username"), max_length=150, write_only=True)


class TokenView(PublicMixin, ObtainAuthToken):
    """Username and password for a token (locked out like every login after repeated
    failures); an expired token is replaced by a new one."""

    serializer_class = TokenRequestSerializer

    @extend_schema(
        summary="A token for a username and password (valid API_TOKEN_DAYS days)",
        auth=[],
        responses={
            200: inline_serializer(
                "Token",
                {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()},
            )
        },
    )
    def post(self, request, *args, **kwargs):
        return self._token(request)

    def _token(self, request):
        serializer = self.serializer_class(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # django-axes marks the request it was given (DRF's) when the account is locked.
            if getattr(request, "axes_locked_out", False):
                return locked_out(request._request)
            raise ValidationError(serializer.errors)
        token = fresh_token(serializer.validated_data["user"])
        expires = token.created + datetime.timedelta(days=settings.API_TOKEN_DAYS)
        return Response({"token": token.key, "expires_at": expires})


class SchemaView(PublicMixin, SpectacularAPIView):
    write_capability = None


class DocsView(PublicMixin, SpectacularSwaggerView):
    write_capability = None


class PortalRouter(DefaultRouter):
    APIRootView = PortalAPIRootView


router = PortalRouter()
# Scoped viewsets have no class-level queryset (config.api_base), so each needs a basename.
router.register("units", branches_api.UnitViewSet, basename="unit")
router.register("organizations", branches_api.OrganizationViewSet, basename="organization")
router.register("members", branches_api.MemberViewSet, basename="member")
router.register("activity-types", branches_api.ActivityTypeViewSet, basename="activity-type")
router.register("activity-records", branches_api.ActivityRecordViewSet, basename="activity-record")
router.register("compliance", branches_api.ComplianceViewSet, basename="compliance")
reports_api.register(router)
pairings_api.register(router)
evaluations_api.register(router)
campaigns_api.register(router)
router.register("dashboard", DashboardViewSet, basename="dashboard")

urlpatterns = [
    path("", include(router.urls)),
    path("token/", TokenView.as_view(), name="api-token"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
]
