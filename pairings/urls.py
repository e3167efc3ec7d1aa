"""Portal pages of pairings (included under the "portal" namespace, at /portal/pairings/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.pairing_list, name="pairings"),
    path("progress/", views.pairing_progress, name="pairing_progress"),
    path("<int:pk>/", views.pairing_detail, name="pairing"),
    # Help given, filed from a phone; photos through a scoped view (media is never public).
    path("<int:pk>/help/new/", views.help_new, name="help_new"),
    path("help/<int:pk>/", views.help_record, name="help_record"),
    path("photos/<int:pk>/", views.help_photo, name="help_photo"),
    # Needs (缺什么补什么), their measures, projects and member pairs.
    path("<int:pk>/needs/new/", views.need_new, name="need_new"),
    path("needs/<int:pk>/close/", views.need_close, name="need_close"),
    path("needs/<int:pk>/measures/new/", views.measure_new, name="measure_new"),
    path("<int:pk>/projects/new/", views.project_new, name="project_new"),
    path("<int:pk>/member-pairs/new/", views.member_pair_new, name="member_pair_new"),
]
