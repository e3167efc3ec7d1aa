from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BranchesConfig(AppConfig):
    name = "branches"
    verbose_name = _("Organizations and members")

    def ready(self) -> None:
        from . import counts
        from .db_triggers import install_after_migrate

        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="branches_triggers")
        post_migrate.connect(
            counts.refresh_after_migrate, sender=self, dispatch_uid="branches_counts"
        )
        counts.connect_signals()
