"""The error codes of the client contract, and the one mapping from exceptions to them.

Services raise Django's ``ValidationError`` / ``PermissionDenied`` / ``DoesNotExist`` (or
``ApiError`` when they need a specific code); :func:`format_error` turns every error that
leaves the GraphQL endpoint into ``{"message", "extensions": {"code", ["field"]}}``. Anything
unexpected becomes ``INTERNAL`` with a generic message: no tracebacks or SQL reach clients.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from graphql import GraphQLError

logger = structlog.get_logger(__name__)


class ErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    # A dependency (PostgreSQL) is down: retry after the response's Retry-After (HTTP 503).
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # The document does not parse, or asks for what the schema has not (unknown field, type...).
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    # Automatic persisted queries: the hash is unknown (send the query with it) or is not the
    # query's sha256.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    INTERNAL = "INTERNAL"


class ApiError(GraphQLError):
    """A GraphQL error with a stable ``extensions.code`` (and ``field`` for one bad input)."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        code = code or self.code
        extensions: dict[str, Any] = {"code": str(code)}
        if field:
            extensions["field"] = field
        if extra:
            extensions.update(extra)
        super().__init__(message, extensions=extensions, **kwargs)


class Unauthenticated(ApiError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(ApiError):
    code = ErrorCode.FORBIDDEN


class NotFound(ApiError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(ApiError):
    code = ErrorCode.BAD_USER_INPUT


class RateLimited(ApiError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str = "Too many requests.", *, retry_after: int = 1) -> None:
        super().__init__(message, extra={"retryAfter": retry_after})


class QueryTooComplex(ApiError):
    code = ErrorCode.QUERY_TOO_COMPLEX


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _message(error: ValidationError) -> str:
    """One error's text, interpolated only when it has params, as Django does.

    Our messages embed the client's input (``f"Unknown genre: {name}"``): ``%`` applied to
    them would crash on ``"50%, off"`` and turn ``"%s"`` into ``"{}"``.
    """
    message = str(error.message)
    if error.params:
        try:
            return message % error.params
        except (TypeError, ValueError, KeyError):
            return message
    return message


def _from_validation_error(exc: ValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        message = " ".join(_message(e) for e in errors)
        ext: dict[str, Any] = {"code": str(ErrorCode.BAD_USER_INPUT)}
        if field != "__all__":
            ext["field"] = _camel(field)
        return {"message": message, "extensions": ext}
    return {
        "message": " ".join(_message(e) for e in exc.error_list),
        "extensions": {"code": str(ErrorCode.BAD_USER_INPUT)},
    }


# graphql-core appends these hints to unknown field/argument/type/enum-value errors.
_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


def format_error(error: Exception) -> dict[str, Any]:
    """Render any error for the response body with one of the contract's codes.

    Without ``settings.GRAPHQL_SUGGESTIONS`` the "Did you mean ...?" hints are cut, so that
    unknown names do not reveal the schema piece by piece.
    """
    formatted = _format_error(error)
    if not settings.GRAPHQL_SUGGESTIONS and isinstance(formatted.get("message"), str):
        formatted["message"] = _SUGGESTION.sub("", formatted["message"])
    return formatted


def _format_error(error: Exception) -> dict[str, Any]:
    if isinstance(error, GraphQLError):
        formatted: dict[str, Any] = dict(error.formatted)
        original = error.original_error
        # A plain GraphQLError inside (e.g. an unknown enum value in a variable) is input too.
        if original is None or isinstance(original, GraphQLError):
            ext = dict(formatted.get("extensions") or {})
            if isinstance(original, ApiError):
                ext.update(original.extensions or {})
                formatted["message"] = original.message
            # Syntax, unknown-field and variable-coercion errors are the client's input.
            ext.setdefault("code", str(ErrorCode.BAD_USER_INPUT))
            formatted["extensions"] = ext
            return formatted
        mapped = _map_exception(original)
        formatted["message"] = mapped["message"]
        formatted["extensions"] = mapped["extensions"]
        return formatted
    return _map_exception(error)


def _map_exception(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, ValidationError):
        return _from_validation_error(exc)
    if isinstance(exc, PermissionDenied):
        return {
            "message": str(exc) or "Forbidden.",
            "extensions": {"code": str(ErrorCode.FORBIDDEN)},
        }
    if isinstance(exc, ObjectDoesNotExist):
        return {"message": "Not found.", "extensions": {"code": str(ErrorCode.NOT_FOUND)}}
    if isinstance(exc, ApiError):
        return {"message": exc.message, "extensions": dict(exc.extensions or {})}
    from movierec.middleware import is_dependency_outage

    if is_dependency_outage(exc):
        return {
            "message": "The service is temporarily unavailable; retry later.",
            "extensions": {"code": str(ErrorCode.SERVICE_UNAVAILABLE)},
        }
    logger.error("graphql.internal_error", exc_info=exc)
    from movierec.sentry import report_exception

    report_exception(exc)
    return {"message": "Internal server error.", "extensions": {"code": str(ErrorCode.INTERNAL)}}
