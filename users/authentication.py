"""JWT authentication shared by the GraphQL view and DRF: simplejwt plus our token checks."""

from __future__ import annotations

from typing import Any

import structlog
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from users import auth_state
from users.exceptions import TokenRejected
from users.models import User
from users.selectors import decode_token, user_for_token_payload
from users.tokens import SESSION_CLAIM, VERSION_CLAIM


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

    def state_keys(self, validated_token: Any) -> list[str]:
        """Cache keys to read with the request's first Redis round trip; their values go to
        :meth:`get_viewer` (see :mod:`users.auth_state`)."""
        payload = validated_token.payload
        return auth_state.state_keys(
            payload.get(api_settings.USER_ID_CLAIM), payload.get(SESSION_CLAIM)
        )

    def get_viewer(self, validated_token: Any, state: list[Any]) -> Any:
        """The request's user: a :class:`~users.auth_state.LazyViewer` (no SQL) when the values
        of :meth:`state_keys` prove the token good, else :meth:`get_user`'s SQL check, whose
        success is remembered for the next requests."""
        payload = validated_token.payload
        raw_id = payload.get(api_settings.USER_ID_CLAIM)
        version = payload.get(VERSION_CLAIM, 0)
        if state and auth_state.proven(raw_id, version, state):
            structlog.contextvars.bind_contextvars(viewer_id=int(raw_id))
            return auth_state.LazyViewer(int(raw_id))
        user = self.get_user(validated_token)
        if state:
            auth_state.remember(user.pk, payload.get(SESSION_CLAIM), user.token_version)
        return user

    def user_id(self, validated_token: Any) -> str:
        """The user the token names (not yet checked), for per-viewer rate limits."""
        return str(validated_token.payload.get(api_settings.USER_ID_CLAIM))

    def validated_token(self, request: Any) -> Token | None:
        """The request's verified access token (no I/O); None without a Bearer header."""
        header = self.get_header(request)
        raw = self.get_raw_token(header) if header is not None else None
        return None if raw is None else self.get_validated_token(raw)
