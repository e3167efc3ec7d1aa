from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        from reports.models import Bulletin

        from .signals import bulletin_changed

        post_save.connect(bulletin_changed, sender=Bulletin, dispatch_uid="dashboard-bulletin")
        post_delete.connect(
            bulletin_changed, sender=Bulletin, dispatch_uid="dashboard-bulletin-deleted"
        )
