"""The /portal/ door for secretaries and inspectors: one namespace, pages from each app."""

from django.contrib.auth.views import LogoutView
from django.urls import include, path

from accounts.access import PUBLIC, declare, portal_view
from accounts.views import PortalLoginView, PortalPasswordChangeView

app_name = "portal"

urlpatterns = [
    path("login/", declare(PortalLoginView.as_view(), read=PUBLIC, write=PUBLIC), name="login"),
    # POST only (Django 5): a link or prefetch cannot log anybody out.
    path("logout/", declare(LogoutView.as_view(), read=PUBLIC, write=PUBLIC), name="logout"),
    path(
        "password/",
        portal_view(read="account.password", write="account.password")(
            PortalPasswordChangeView.as_view()
        ),
        name="password_change",
    ),
    path("", include("branches.urls")),
    path("reports/", include("reports.urls")),
    path("pairings/", include("pairings.urls")),
    path("evaluations/", include("evaluations.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("dashboard/", include("dashboard.urls")),
]
