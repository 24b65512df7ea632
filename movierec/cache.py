"""django-redis client that counts cache reads for the hit-ratio metric."""

from __future__ import annotations

from typing import Any

from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted

from movierec import metrics

_MISSING = object()


class MeteredClient(DefaultClient):
    """``DefaultClient`` whose ``get`` records hit, miss or error (Redis down or breaker open)."""

    def get(self, key: Any, default: Any = None, version: Any = None, client: Any = None) -> Any:
        try:
            value = super().get(key, default=_MISSING, version=version, client=client)
        except ConnectionInterrupted:
            metrics.CACHE_REQUESTS.labels(result="error").inc()
            raise
        if value is _MISSING:
            metrics.CACHE_REQUESTS.labels(result="miss").inc()
            return default
        metrics.CACHE_REQUESTS.labels(result="hit").inc()
        return value
