"""Cross-process locks in Redis, for jobs that must not run twice at once (syncs, training)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import structlog
from django_redis import get_redis_connection
from redis.exceptions import LockError, RedisError

logger = structlog.get_logger(__name__)


def _key(name: str) -> str:
    return f"movierec:lock:{name}"


def job_lock_held(name: str) -> bool:
    """Whether some process holds ``name`` now (for operators and tests; never to decide
    whether to run: that is :func:`job_lock`'s atomic acquire)."""
    return bool(get_redis_connection("default").exists(_key(name)))


def _renew_until_stopped(lock: object, name: str, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        try:
            lock.reacquire()  # type: ignore[attr-defined]  # TTL back to the full timeout
        except (LockError, RedisError) as exc:
            # Lost (expired during a Redis outage, or taken over): the job goes on, but a
            # second run may now start; say so loudly.
            logger.error("lock.renew_failed", lock=name, error=type(exc).__name__)


@contextlib.contextmanager
def job_lock(name: str, *, timeout: int, heartbeat: float | None = None) -> Iterator[bool]:
    """Yield True when this process holds ``name``, False when another one does.

    The lock expires after ``timeout`` seconds so a killed worker cannot hold it forever.
    Without ``heartbeat`` pick a timeout longer than the job's hard time limit (locks that
    span several tasks, like a sync run's). With ``heartbeat`` a thread renews the lock every
    ``heartbeat`` seconds while the block runs, so ``timeout`` can be short (say 60 s) and a
    SIGKILLed holder frees the lock within it, however long the job may run.
    """
    # Not thread-local: the heartbeat thread renews the token this thread acquired.
    lock = get_redis_connection("default").lock(_key(name), timeout=timeout, thread_local=False)
    acquired = lock.acquire(blocking=False)
    stop = threading.Event()
    renewer = None
    if acquired and heartbeat:
        renewer = threading.Thread(
            target=_renew_until_stopped,
            args=(lock, name, heartbeat, stop),
            name=f"lock-heartbeat-{name}",
            daemon=True,
        )
        renewer.start()
    try:
        yield acquired
    finally:
        stop.set()
        if renewer is not None:
            renewer.join(timeout=5)
        if acquired:
            with contextlib.suppress(Exception):  # expired meanwhile: nothing left to release
                lock.release()
