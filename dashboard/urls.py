"""Portal pages of the dashboard (included under the "portal" namespace, at /portal/dashboard/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("screen/", views.screen, name="dashboard_screen"),
]
