"""The /portal/ door for secretaries and inspectors: one namespace, pages from each app."""

from django.urls import include, path

app_name = "portal"

urlpatterns = [
    path("", include("branches.urls")),
]
