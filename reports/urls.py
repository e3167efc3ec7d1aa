"""Portal pages of the reports app (mounted at /portal/reports/ in the "portal" namespace)."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    # Ledgers (台账): choose, filter, download now or follow a background job.
    path("downloads/", views.downloads, name="downloads"),
    path("jobs/<int:pk>/", views.export_detail, name="export"),
    path("jobs/<int:pk>/status/", views.export_status, name="export_status"),
    path("jobs/<int:pk>/download/", views.export_download, name="export_download"),
    path("jobs/<int:pk>/retry/", views.export_retry, name="export_retry"),
    # Monthly bulletins, as built.
    path("bulletins/", views.bulletin_list, name="bulletins"),
    re_path(r"^bulletins/(?P<month>[0-9]{4}-[0-9]{2})/$", views.bulletin_detail, name="bulletin"),
]
