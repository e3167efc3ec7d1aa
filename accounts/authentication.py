"""API tokens that expire: a token older than API_TOKEN_DAYS is refused and deleted, and
`/api/token/` then hands out a new one. Staff revoke a token at once by deleting it in the
admin (令牌)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expired(token: Token, now: datetime.datetime | None = None) -> bool:
    age = (now or timezone.now()) - token.created
    return age > datetime.timedelta(days=settings.API_TOKEN_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        # DRF's lookup, with the user's organization joined (the scoping selectors read it).
        try:
            token = self.get_model().objects.select_related("user__organization").get(key=key)
        except self.get_model().DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        user = token.user
        if token_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed(
                _("The token has expired: ask for a new one at /api/token/.")
            )
        return user, token


def fresh_token(user) -> Token:
    """The user's token, replaced by a new one when it has expired."""
    token, created = Token.objects.get_or_create(user=user)
    if not created and token_expired(token):
        token.delete()
        token = Token.objects.create(user=user)
    return token
