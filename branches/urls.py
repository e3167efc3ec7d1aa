"""Portal pages of the organ tree (included under the "portal" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization"),
    path("members/", views.member_search, name="members"),
    # Organizational life: records per organization, filed from a phone.
    path("organizations/<int:pk>/activities/", views.activity_list, name="activity_list"),
    path("organizations/<int:pk>/activities/new/", views.activity_new, name="activity_new"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="activity_delete"),
    # Files through a scoped view: media files are never served publicly.
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
