"""A process-wide circuit breaker for Redis, shared by every user of the ``default`` cache.

A hung Redis (SIGSTOP, a full network buffer) does not refuse connections: every call waits
for its socket timeout. One request touches Redis several times (rate limit, caches, model
version), so without a breaker each of those waits in turn. The breaker sits in the redis-py
connection itself (:class:`BreakerConnectionPool`, set as django-redis's pool class), so the
rate limiter, the caches, the recommendation cache and the locks all share it: the first
timeout or connection error opens it, and for ``REDIS_BREAKER_SECONDS`` every Redis call
fails at once with ``ConnectionError``, which each caller already handles its own way
(throttling fails open, caches miss, revocation is read from PostgreSQL). After that one
call is let through to probe; success closes the breaker, failure opens it again.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import structlog
from redis import ConnectionPool
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = structlog.get_logger(__name__)


class CircuitBreaker:
    """Closed (calls pass), open (calls fail fast until ``open_until``), then one probe."""

    def __init__(self, name: str, reset_seconds: float) -> None:
        self.name = name
        self.reset_seconds = reset_seconds
        self._open_until = 0.0
        self._probing = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def allow(self) -> bool:
        """May a call go to the dependency now? While open, no; afterwards one probe at a time."""
        if self._open_until == 0.0:
            return True
        with self._lock:
            if time.monotonic() < self._open_until or self._probing:
                return False
            self._probing = True
            return True

    def record_failure(self) -> None:
        with self._lock:
            was_closed = self._open_until == 0.0
            self._open_until = time.monotonic() + self.reset_seconds
            self._probing = False
        if was_closed:
            logger.warning("breaker.opened", dependency=self.name, seconds=self.reset_seconds)
            _count_transition(self.name, "open")

    def record_success(self) -> None:
        if self._open_until == 0.0:
            return
        with self._lock:
            self._open_until = 0.0
            self._probing = False
        logger.info("breaker.closed", dependency=self.name)
        _count_transition(self.name, "closed")

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0
            self._probing = False


def _count_transition(name: str, state: str) -> None:
    from movierec import metrics

    metrics.BREAKER_TRANSITIONS.labels(dependency=name, state=state).inc()


class _LazyBreaker(CircuitBreaker):
    """Reads its window from ``setting`` when it opens (settings load after this module)."""

    def __init__(self, name: str, setting: str = "REDIS_BREAKER_SECONDS") -> None:
        super().__init__(name, reset_seconds=0.0)
        self.setting = setting

    def record_failure(self) -> None:
        from django.conf import settings

        self.reset_seconds = float(getattr(settings, self.setting, 5.0))
        super().record_failure()


REDIS_BREAKER = _LazyBreaker("redis")
#: The Celery broker as seen by publishers (:mod:`movierec.outbox`): a hung broker costs one
#: publish timeout per window, not one per write.
BROKER_BREAKER = _LazyBreaker("broker")
#: PostgreSQL not answering inside web requests (:mod:`movierec.db`).
DATABASE_BREAKER = _LazyBreaker("database", setting="DATABASE_BREAKER_SECONDS")
_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class _BreakerMixin:
    """Fails fast while the breaker is open; opens it on a connection error or timeout."""

    def connect(self) -> None:
        if not REDIS_BREAKER.allow():
            raise RedisConnectionError("Redis circuit breaker is open.")
        try:
            super().connect()  # type: ignore[misc]
        except _FAILURES:
            REDIS_BREAKER.record_failure()
            raise

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if REDIS_BREAKER.is_open:
            self.disconnect()  # type: ignore[attr-defined]
            raise RedisConnectionError("Redis circuit breaker is open.")
        try:
            super().send_packed_command(command, check_health)  # type: ignore[misc]
        except _FAILURES:
            REDIS_BREAKER.record_failure()
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = super().read_response(*args, **kwargs)  # type: ignore[misc]
        except _FAILURES:
            REDIS_BREAKER.record_failure()
            raise
        REDIS_BREAKER.record_success()
        return response


class BreakerConnection(_BreakerMixin, Connection):
    pass


class BreakerUnixDomainSocketConnection(_BreakerMixin, UnixDomainSocketConnection):
    pass


class BreakerSSLConnection(_BreakerMixin, SSLConnection):
    pass


_WRAPPED = {
    Connection: BreakerConnection,
    UnixDomainSocketConnection: BreakerUnixDomainSocketConnection,
    SSLConnection: BreakerSSLConnection,
}


class BreakerConnectionPool(ConnectionPool):
    """django-redis ``CONNECTION_POOL_CLASS``: the URL's connection class, breaker-wrapped."""

    def __init__(self, connection_class: type[Connection] = Connection, **kwargs: Any) -> None:
        super().__init__(
            connection_class=_WRAPPED.get(connection_class, connection_class), **kwargs
        )
