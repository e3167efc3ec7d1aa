"""Portal pages of campaigns and supervision (included under the "portal" namespace, at
/portal/campaigns/)."""

from django.urls import path

from . import views

urlpatterns = [
    # Campaigns: targets, participation, theme days.
    path("", views.campaign_list, name="campaigns"),
    path("<int:pk>/", views.campaign_detail, name="campaign"),
    path("<int:pk>/participation/", views.participation, name="participation"),
    path("<int:pk>/theme-days/", views.campaign_tag, name="campaign_tag"),
    # Problems and their rectification; photos through a scoped view (media is never public).
    path("problems/", views.problem_list, name="problems"),
    path("problems/new/", views.problem_new, name="problem_new"),
    path("problems/<int:pk>/", views.problem_detail, name="problem"),
    path("problems/<int:pk>/start/", views.problem_start, name="problem_start"),
    path("problems/<int:pk>/answer/", views.problem_answer, name="problem_answer"),
    path("problems/<int:pk>/accept/", views.problem_accept, name="problem_accept"),
    path("problems/<int:pk>/send-back/", views.problem_send_back, name="problem_send_back"),
    path("problems/photos/<int:pk>/", views.problem_photo, name="problem_photo"),
    # The user's notices (an overdue problem...).
    path("notices/", views.notice_list, name="notices"),
    path("notices/read/", views.notices_read, name="notices_read"),
    path("notices/unread/", views.notices_unread, name="notices_unread"),
]
