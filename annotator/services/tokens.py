"""API tokens: one per user (DRF's ``Token``), created, regenerated and revoked.

The key is shown to its owner once, in the response that creates it; the page
shows only when it was created and its first characters afterwards. Creating a
token when one exists replaces it (regeneration), so a key that may have leaked
stops working at once.
"""

from __future__ import annotations

from django.db import transaction
from rest_framework.authtoken.models import Token

# Enough of the key to tell two tokens apart on the page, too little to use it.
KEY_PREFIX_CHARS = 6


def api_token_get(*, user) -> Token | None:
    """The user's current token, or None."""
    return Token.objects.filter(user=user).first()


@transaction.atomic
def api_token_create(*, user) -> Token:
    """A new token for ``user``; the old one, if any, stops working."""
    if not user.is_authenticated or not user.is_active:
        raise ValueError("only an active, logged-in user can have an API token")
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


@transaction.atomic
def api_token_revoke(*, user) -> bool:
    """Delete the user's token; True when there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0


def api_token_prefix(token: Token) -> str:
    return token.key[:KEY_PREFIX_CHARS]
