"""The GraphQL endpoint: JWT authentication, limits, and contract-shaped errors.

Authentication happens before anything executes: a present but unacceptable token (malformed,
forged or ``alg: none``, expired, of a logged-out session, predating a password change or
deactivation) answers 401 ``UNAUTHENTICATED`` and is never downgraded to anonymous. Then the
per-viewer request limit (users, or client IP when anonymous) may answer 429 ``RATE_LIMITED``.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from graphene.validation import depth_limit_validator
from graphene_django.views import GraphQLView, HttpError
from graphql.validation import specified_rules
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from movierec.graphql.dataloaders import DeferredExecutionContext
from movierec.graphql.errors import ErrorCode, format_error
from movierec.graphql.middleware import MutationRollbackMiddleware
from users import throttling
from users.authentication import JWTAuthentication


def _error_response(status: int, message: str, code: ErrorCode, **extra: Any) -> HttpResponse:
    body = {"errors": [{"message": message, "extensions": {"code": str(code), **extra}}]}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _auth_failure(exc: Exception) -> HttpResponse:
    detail = getattr(exc, "detail", None)
    message, reason = "Invalid or expired token.", "invalid"
    if isinstance(detail, dict) and isinstance(detail.get("detail"), str):
        message = detail["detail"]
        code = str(detail.get("code") or "")
        reason = code.removeprefix("token_") or reason
    response = _error_response(401, message, ErrorCode.UNAUTHENTICATED, reason=reason)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


class MovierecGraphQLView(GraphQLView):
    """Reads ``Authorization: Bearer``; a bad token is an error, never anonymous."""

    jwt_authentication = JWTAuthentication()

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("middleware", [MutationRollbackMiddleware()])
        kwargs.setdefault("execution_context_class", DeferredExecutionContext)
        kwargs.setdefault(
            "validation_rules",
            [*specified_rules, depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH)],
        )
        super().__init__(**kwargs)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Session cookies (admin) must not authenticate GraphQL: the endpoint is CSRF-exempt.
        request.user = AnonymousUser()
        if request.META.get("HTTP_AUTHORIZATION", "").strip():
            try:
                result = self.jwt_authentication.authenticate(request)
            except (AuthenticationFailed, InvalidToken, TokenError) as exc:
                return _auth_failure(exc)
            if result is None:
                return _error_response(
                    401, "Unsupported Authorization header; use Bearer.", ErrorCode.UNAUTHENTICATED
                )
            request.user = result[0]
        viewer_key = (
            f"user:{request.user.pk}"
            if request.user.is_authenticated
            else f"ip:{throttling.client_ip(request)}"
        )
        try:
            throttling.hit("graphql", viewer_key)
        except throttling.RateLimitExceeded as exc:
            response = _error_response(
                429, "Too many requests.", ErrorCode.RATE_LIMITED, retryAfter=exc.retry_after
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        if isinstance(error, HttpError):  # malformed body, missing query, GET mutation
            return {"message": str(error), "extensions": {"code": str(ErrorCode.BAD_USER_INPUT)}}
        return format_error(error)
