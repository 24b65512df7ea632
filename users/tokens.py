"""The one token system of GraphQL and REST: simplejwt tokens carrying two extra claims.

- ``token_version``: the user's ``token_version`` when the token was issued. Changing the
  password or deactivating the account bumps it, which kills every older token at once.
  A token without the claim counts as version 0 (nothing but this server can sign one).
- ``sid``: one id per sign-in, kept through refresh rotations and copied into each access
  token, so logging out (``RevokedSession``) ends the whole session, access tokens included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from users.models import User

VERSION_CLAIM = "token_version"
SESSION_CLAIM = "sid"


class BlacklistedTokenError(TokenError):
    """A refresh token whose signature and expiry are valid but which was blacklisted."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__("Token is blacklisted")
        self.payload = payload


class RefreshToken(tokens.RefreshToken):
    def check_blacklist(self) -> None:
        jti = self.payload[api_settings.JTI_CLAIM]
        if BlacklistedToken.objects.filter(token__jti=jti).exists():
            raise BlacklistedTokenError(self.payload)

    @classmethod
    def for_user(cls, user: User) -> RefreshToken:  # type: ignore[override]
        """A new session's refresh token, recorded as outstanding (one INSERT)."""
        token = cls()
        token[api_settings.USER_ID_CLAIM] = str(user.pk)
        token[VERSION_CLAIM] = user.token_version
        token[SESSION_CLAIM] = uuid4().hex
        token.record_outstanding(user)
        return token

    def rotate(self, user: User) -> None:
        """Turn this token into its successor: same session, new id and lifetime."""
        self.set_jti()
        self.set_exp()
        self.set_iat()
        self[VERSION_CLAIM] = user.token_version
        self.record_outstanding(user)

    def record_outstanding(self, user: User) -> None:
        OutstandingToken.objects.create(
            user=user,
            jti=self[api_settings.JTI_CLAIM],
            token=str(self),
            created_at=self.current_time,
            expires_at=datetime_from_epoch(self["exp"]),
        )


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str

    @classmethod
    def from_refresh(cls, refresh: RefreshToken) -> TokenPair:
        return cls(access=str(refresh.access_token), refresh=str(refresh))
