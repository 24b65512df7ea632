"""Django middleware: request context for logs, one answer when PostgreSQL is down, and CORS
with credentials only for the refresh-cookie endpoints."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import corsheaders.middleware
import structlog
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

logger = structlog.get_logger("movierec.request")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# A lost or refused database connection; not IntegrityError/DataError (those are bugs or input).
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


def is_dependency_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` means "PostgreSQL is unreachable" (retryable), not a bug."""
    while exc is not None:
        if isinstance(exc, DATABASE_UNAVAILABLE):
            return True
        exc = exc.__cause__
    return False


def service_unavailable_response() -> HttpResponse:
    """The one answer to a dependency outage, for GraphQL and REST alike."""
    from movierec import metrics

    metrics.DEPENDENCY_UNAVAILABLE.labels(dependency="database").inc()
    metrics.ERRORS.labels(code="SERVICE_UNAVAILABLE").inc()
    retry_after = settings.SERVICE_UNAVAILABLE_RETRY_AFTER
    body = {
        "errors": [
            {
                "message": "The service is temporarily unavailable; retry later.",
                "extensions": {"code": "SERVICE_UNAVAILABLE", "retryAfter": retry_after},
            }
        ]
    }
    response = HttpResponse(json.dumps(body), status=503, content_type="application/json")
    response["Retry-After"] = str(retry_after)
    return response


class RequestContextMiddleware:
    """Binds ``request_id`` (the caller's ``X-Request-ID`` when sane, else a new one),
    ``viewer_id`` (set once authenticated) and, for GraphQL, ``operation`` to every log line
    of the request, logs one ``request.finished`` line, and echoes ``X-Request-ID``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=request_id, viewer_id=None, operation=None
        )
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "request.finished",
                method=request.method,
                path=request.path,
                status=response.status_code,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
            return response
        finally:
            structlog.contextvars.clear_contextvars()


class DatabaseTimeoutMiddleware:
    """No wait on PostgreSQL inside a request lasts more than ``DATABASE_QUERY_TIMEOUT``
    (:mod:`movierec.db`), so a hung server gives a 503 within the budget, not a stuck worker."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from movierec.db import query_timeout

        with query_timeout(settings.DATABASE_QUERY_TIMEOUT):
            return self.get_response(request)


class DependencyUnavailableMiddleware:
    """An unreachable PostgreSQL anywhere outside GraphQL execution (authentication, REST
    sign-in, admin) answers 503 ``SERVICE_UNAVAILABLE`` with ``Retry-After``, not HTML 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if is_dependency_outage(exception):
            logger.error("request.database_unavailable", error=type(exception).__name__)
            return service_unavailable_response()
        return None


class CorsMiddleware(corsheaders.middleware.CorsMiddleware):
    """django-cors-headers, with credentials granted only where a cookie is the point.

    Everything else authenticates with ``Authorization: Bearer``, so browsers may send no
    cookies there (``CORS_ALLOW_CREDENTIALS`` stays off). Paths matching
    ``CORS_CREDENTIALS_URLS_REGEX`` (the httpOnly refresh-cookie endpoints) also answer
    ``Access-Control-Allow-Credentials: true``, and only to an origin the parent already
    allowed by name (never to ``*``).
    """

    def add_response_headers(self, request: HttpRequest, response: Any) -> Any:
        response = super().add_response_headers(request, response)
        granted = response.get(corsheaders.middleware.ACCESS_CONTROL_ALLOW_ORIGIN)
        if (
            granted
            and granted != "*"
            and re.match(settings.CORS_CREDENTIALS_URLS_REGEX, request.path_info)
        ):
            response[corsheaders.middleware.ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"
        return response
