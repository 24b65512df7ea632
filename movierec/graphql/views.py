"""The GraphQL endpoint: JWT authentication, limits, and contract-shaped errors."""

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
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from movierec.graphql.dataloaders import DeferredExecutionContext
from movierec.graphql.errors import ErrorCode, format_error
from movierec.graphql.middleware import MutationRollbackMiddleware


def _error_response(status: int, message: str, code: ErrorCode, **extra: Any) -> HttpResponse:
    body = {"errors": [{"message": message, "extensions": {"code": str(code), **extra}}]}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


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
        if request.META.get("HTTP_AUTHORIZATION"):
            try:
                result = self.jwt_authentication.authenticate(request)
            except (AuthenticationFailed, InvalidToken, TokenError):
                return _error_response(401, "Invalid or expired token.", ErrorCode.UNAUTHENTICATED)
            if result is None:
                return _error_response(
                    401, "Unsupported Authorization header; use Bearer.", ErrorCode.UNAUTHENTICATED
                )
            request.user = result[0]
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        if isinstance(error, HttpError):  # malformed body, missing query, GET mutation
            return {"message": str(error), "extensions": {"code": str(ErrorCode.BAD_USER_INPUT)}}
        return format_error(error)
