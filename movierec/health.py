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
from pathlib import Path
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
        conn.ensure_connection(max_retries=1, timeout=1)


def check_model() -> dict[str, Any]:
    from recs.models import ModelVersion
    from recs.serving import serving_status

    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is None:
        # Not required: recommendations fall back to popularity until a model is trained.
        return {"version": None, "note": "no active model; serving popularity fallback"}
    result: dict[str, Any] = {"version": active.pk, "activated_at": active.activated_at}
    status = serving_status()
    artifact_ok = (
        bool(active.artifact_path)
        and (Path(settings.RECS_MODEL_DIR) / active.artifact_path).is_file()
    )
    if not artifact_ok or status["failedToLoad"] == active.pk:
        served = status["serving"]
        result["degraded"] = True
        result["note"] = (
            f"active model's artifact is missing or unreadable; serving version {served}"
            if served
            else "active model's artifact is missing or unreadable; serving popularity fallback"
        )
    return result


REQUIRED = ("database", "redis", "broker")


def _all_checks() -> dict[str, dict[str, Any]]:
    checks = {
        "database": _timed("database", check_database),
        "redis": _timed("redis", check_redis),
        "broker": _timed("broker", check_broker),
    }
    checks["model"] = _timed("model", check_model) if checks["database"]["ok"] else {"ok": False}
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
    degraded = not (checks["redis"]["ok"] and checks["broker"]["ok"]) or checks["model"].get(
        "degraded", False
    )
    return JsonResponse({"status": "degraded" if degraded else "ok", "checks": checks})
