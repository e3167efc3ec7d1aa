"""The /portal/ door for secretaries and inspectors: one namespace, pages from each app."""

from django.contrib.auth.views import LogoutView
from django.urls import include, path

from accounts.views import PortalLoginView

app_name = "portal"

urlpatterns = [
    path("login/", PortalLoginView.as_view(), name="login"),
    # POST only (Django 5): a link or prefetch cannot log anybody out.
    path("logout/", LogoutView.as_view(), name="logout"),
    path("", include("branches.urls")),
    path("reports/", include("reports.urls")),
]
