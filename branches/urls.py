"""Portal pages of the organ tree (included under the "portal" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization"),
    path("members/", views.member_search, name="members"),
]
