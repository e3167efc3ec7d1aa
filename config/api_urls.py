"""The /api/ door: one router, viewsets from each app, OpenAPI schema and docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from branches import api as branches_api
from reports import api as reports_api

router = DefaultRouter()
# Scoped viewsets have no class-level queryset (config.api_base), so each needs a basename.
router.register("units", branches_api.UnitViewSet, basename="unit")
router.register("organizations", branches_api.OrganizationViewSet, basename="organization")
router.register("members", branches_api.MemberViewSet, basename="member")
router.register("activity-types", branches_api.ActivityTypeViewSet, basename="activity-type")
router.register("activity-records", branches_api.ActivityRecordViewSet, basename="activity-record")
router.register("compliance", branches_api.ComplianceViewSet, basename="compliance")
reports_api.register(router)

urlpatterns = [
    path("", include(router.urls)),
    path("token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
