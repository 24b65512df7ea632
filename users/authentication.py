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
