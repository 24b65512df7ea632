"""Health endpoints: ``/livez`` (the process answers), ``/readyz`` (it can serve requests) and
``/healthz`` (every dependency, for operators and the original load-balancer check).

Readiness needs only PostgreSQL: with Redis or the broker down the API still serves (limits
fail open, caches miss, revocation is read from the database), so it reports ``degraded``.
Failure details (exception text, hosts) are logged, never returned: anonymous callers see only
``ok``/``ms``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = structlog.get_logger(__name__)


def _timed(name: str, check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        detail = check()
        result: dict[str, Any] = {"ok": True}
        if detail:
            result.update(detail)
    except Exception as exc:  # any failure is "down"; the reason goes to the log only
        logger.warning("health.check_failed", check=name, error=f"{type(exc).__name__}: {exc}")
        result = {"ok": False}
    result["ms"] = round((time.perf_counter() - start) * 1000, 1)
    return result


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis() -> None:
    from django_redis import get_redis_connection

    get_redis_connection("default").ping()


def check_broker() -> None:
    from kombu import Connection

    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=1,
        transport_options={"socket_timeout": 1, "socket_connect_timeout": 1},
    ) as conn:
        conn.ensure_connection(max_retries=0)  # one try: a retry would sleep 2 s first


REQUIRED = ("database", "redis", "broker")

#: Checks apps register (``register_check``), run after the core ones when the database is up.
_app_checks: dict[str, Callable[[], dict[str, Any] | None]] = {}


def register_check(name: str, check: Callable[[], dict[str, Any] | None]) -> None:
    """Add an optional (never 503-making) check that reads the database, such as recs'
    active model; apps call it from ``AppConfig.ready()`` so the core imports no app."""
    _app_checks[name] = check


def _all_checks() -> dict[str, dict[str, Any]]:
    checks = {
        "database": _timed("database", check_database),
        "redis": _timed("redis", check_redis),
        "broker": _timed("broker", check_broker),
    }
    for name, check in _app_checks.items():
        checks[name] = _timed(name, check) if checks["database"]["ok"] else {"ok": False}
    return checks


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Every dependency; 503 when a required one is down."""
    checks = _all_checks()
    healthy = all(checks[name]["ok"] for name in REQUIRED)
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)


@require_GET
def livez(request: HttpRequest) -> JsonResponse:
    """The process is up and answering; restart it only when this fails."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Can this process serve? 503 only without PostgreSQL; ``degraded`` when Redis, the
    broker or the model artifact is missing (the API then serves with fallbacks)."""
    checks = _all_checks()
    if not checks["database"]["ok"]:
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    degraded = not (checks["redis"]["ok"] and checks["broker"]["ok"]) or any(
        check.get("degraded", False) for check in checks.values()
    )
    return JsonResponse({"status": "degraded" if degraded else "ok", "checks": checks})
