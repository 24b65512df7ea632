"""REST error bodies shaped like GraphQL errors, so mobile clients parse one format.

``{"errors": [{"message": ..., "extensions": {"code": ..., "field"?: ..., "retryAfter"?: ...}}]}``
with the contract's codes; a 429 also carries ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from movierec.throttling import RateLimitExceeded
from users.exceptions import AuthenticationError


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extensions}}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        if "detail" in detail:  # simplejwt's {"detail", "code", "messages"}
            return [str(detail["detail"])]
        return [m for value in detail.values() for m in _flatten(value)]
    if isinstance(detail, list | tuple):
        return [m for value in detail for m in _flatten(value)]
    return [str(detail)]


def _validation_errors(detail: Any) -> list[dict[str, Any]]:
    if not isinstance(detail, dict):
        return [_error(" ".join(_flatten(detail)), "BAD_USER_INPUT")]
    errors = []
    for field, messages in detail.items():
        extra = {} if field in ("non_field_errors", "__all__") else {"field": _camel(field)}
        errors.append(_error(" ".join(_flatten(messages)), "BAD_USER_INPUT", **extra))
    return errors


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler with the contract's error shape and codes."""
    if isinstance(exc, RateLimitExceeded):
        body = {
            "errors": [_error("Too many requests.", "RATE_LIMITED", retryAfter=exc.retry_after)]
        }
        return Response(
            body,
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, AuthenticationError):
        body = {"errors": [_error(exc.message, "UNAUTHENTICATED", reason=exc.reason)]}
        return Response(body, status=status.HTTP_401_UNAUTHORIZED)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handling, no details to the client
    if isinstance(exc, exceptions.ValidationError):
        errors = _validation_errors(exc.detail)
    elif isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        errors = [_error("Too many requests.", "RATE_LIMITED", retryAfter=wait)]
    elif isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        errors = [_error(" ".join(_flatten(exc.detail)), "UNAUTHENTICATED")]
    elif isinstance(exc, exceptions.PermissionDenied | PermissionDenied):
        errors = [_error(" ".join(_flatten(response.data)), "FORBIDDEN")]
    elif isinstance(exc, exceptions.NotFound | Http404):
        errors = [_error("Not found.", "NOT_FOUND")]
    elif response.status_code < 500:
        errors = [_error(" ".join(_flatten(response.data)), "BAD_USER_INPUT")]
    else:
        errors = [_error("Internal server error.", "INTERNAL")]
    response.data = {"errors": errors}
    return response
