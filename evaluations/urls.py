"""Portal pages of evaluations (included under the "portal" namespace, at /portal/evaluations/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.program_list, name="evaluation_programs"),
    path("honours/", views.honour_roll, name="evaluation_honours"),
    # A secretary applies for an organization of theirs; a draft is changed, then submitted.
    path(
        "programs/<int:pk>/apply/<int:organization>/",
        views.application_new,
        name="evaluation_apply",
    ),
    path("applications/<int:pk>/", views.application_detail, name="evaluation_application"),
    path("applications/<int:pk>/edit/", views.application_edit, name="evaluation_application_edit"),
    path(
        "applications/<int:pk>/withdraw/",
        views.application_withdraw,
        name="evaluation_withdraw",
    ),
    # Files through a scoped view (media is never public).
    path("files/<int:pk>/", views.application_attachment, name="evaluation_attachment"),
    # Reviewers: their list, a score sheet, the titles due for re-review.
    path("reviews/", views.review_list, name="evaluation_reviews"),
    path("applications/<int:pk>/score/", views.application_score, name="evaluation_score"),
    path("re-reviews/", views.re_review_list, name="evaluation_re_reviews"),
]
