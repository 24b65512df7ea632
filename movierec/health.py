"""``GET /healthz``: is every service this process depends on answering?"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


def _timed(check: Any) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        detail = check()
        result: dict[str, Any] = {"ok": True}
        if detail:
            result.update(detail)
    except Exception as exc:  # any failure is "down"; the reason is for operators
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
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

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


REQUIRED = ("database", "redis", "broker")

#: Checks apps register (``register_check``), run after the core ones when the database is up.
_app_checks: dict[str, Callable[[], dict[str, Any] | None]] = {}


def register_check(name: str, check: Callable[[], dict[str, Any] | None]) -> None:
    """Add an optional (never 503-making) check that reads the database, such as recs'
    active model; apps call it from ``AppConfig.ready()`` so the core imports no app."""
    _app_checks[name] = check


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _timed(check_database),
        "redis": _timed(check_redis),
        "broker": _timed(check_broker),
    }
    for name, check in _app_checks.items():
        checks[name] = _timed(check) if checks["database"]["ok"] else {"ok": False}
    healthy = all(checks[name]["ok"] for name in REQUIRED)
    status = 200 if healthy else 503
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return JsonResponse(body, status=status)
