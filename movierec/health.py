"""``GET /healthz``: is every service this process depends on answering?"""

from __future__ import annotations

import time
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


def check_model() -> dict[str, Any]:
    from recs.models import ModelVersion

    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is None:
        # Not required: recommendations fall back to popularity until a model is trained.
        return {"version": None, "note": "no active model; serving popularity fallback"}
    return {"version": active.pk, "activated_at": active.activated_at}


REQUIRED = ("database", "redis", "broker")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _timed(check_database),
        "redis": _timed(check_redis),
        "broker": _timed(check_broker),
    }
    checks["model"] = _timed(check_model) if checks["database"]["ok"] else {"ok": False}
    healthy = all(checks[name]["ok"] for name in REQUIRED)
    status = 200 if healthy else 503
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return JsonResponse(body, status=status)
