"""JWT authentication shared by the GraphQL view and DRF: simplejwt plus our token checks."""

from __future__ import annotations

from typing import Any

import structlog
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from users.exceptions import TokenRejected
from users.models import User
from users.selectors import decode_token, user_for_token_payload


class JWTAuthentication(authentication.JWTAuthentication):
    """Accepts only access tokens that are well signed (HS256 only: ``alg: none`` and other
    algorithms fail), unexpired, of an active user at the current ``token_version``, and of a
    session not logged out. Every refusal is ``AuthenticationFailed`` with a safe message."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        token_class = api_settings.AUTH_TOKEN_CLASSES[0]
        try:
            return decode_token(raw_token.decode("utf-8", "replace"), token_class)
        except TokenRejected as exc:
            raise AuthenticationFailed(exc.message, code=f"token_{exc.reason}") from exc

    def get_user(self, validated_token: Any) -> User:
        try:
            user = user_for_token_payload(validated_token.payload)
        except TokenRejected as exc:
            raise AuthenticationFailed(exc.message, code=f"token_{exc.reason}") from exc
        structlog.contextvars.bind_contextvars(viewer_id=user.pk)  # on every later log line
        return user

    def user_id(self, validated_token: Any) -> str:
        """The user the token names (not yet checked), for per-viewer rate limits."""
        return str(validated_token.payload.get(api_settings.USER_ID_CLAIM))

    def validated_token(self, request: Any) -> Token | None:
        """The request's verified access token (no I/O); None without a Bearer header."""
        header = self.get_header(request)
        raw = self.get_raw_token(header) if header is not None else None
        return None if raw is None else self.get_validated_token(raw)
