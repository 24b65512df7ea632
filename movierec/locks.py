"""Cross-process locks in Redis, for jobs that must not run twice at once (syncs, training)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django_redis import get_redis_connection


def _key(name: str) -> str:
    return f"movierec:lock:{name}"


def job_lock_held(name: str) -> bool:
    """Whether some process holds ``name`` now (for operators and tests; never to decide
    whether to run: that is :func:`job_lock`'s atomic acquire)."""
    return bool(get_redis_connection("default").exists(_key(name)))


@contextlib.contextmanager
def job_lock(name: str, *, timeout: int) -> Iterator[bool]:
    """Yield True when this process holds ``name``, False when another one does.

    The lock expires after ``timeout`` seconds so a killed worker cannot hold it forever;
    pick a timeout longer than the job's hard time limit.
    """
    lock = get_redis_connection("default").lock(_key(name), timeout=timeout)
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            with contextlib.suppress(Exception):  # expired meanwhile: nothing left to release
                lock.release()
