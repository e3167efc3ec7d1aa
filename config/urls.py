from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.access import PUBLIC, declare
from config import views

urlpatterns = [
    path(
        "",
        declare(RedirectView.as_view(pattern_name="portal:home", permanent=False), read=PUBLIC),
    ),
    path("admin/", admin.site.urls),
    path("portal/", include("config.portal_urls")),
    path("api/", include("config.api_urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
# No MEDIA_URL route, not even with DEBUG: stored files (photos, minutes, ledgers) are served
# only by the scoped views that check who asks.
