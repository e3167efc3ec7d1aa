"""The login backend: Django's ModelBackend, whose user of each request comes with their
organization, so the scoping selectors know its path and kind without a query
(`branches.selectors.visible_members`: a secretary's members by an index, not a scan)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PortalModelBackend(ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("organization").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
