"""Cross-process locks in Redis, for jobs that must not run twice at once (syncs, training)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django_redis import get_redis_connection


@contextlib.contextmanager
def job_lock(name: str, *, timeout: int) -> Iterator[bool]:
    """Yield True when this process holds ``name``, False when another one does.

    The lock expires after ``timeout`` seconds so a killed worker cannot hold it forever;
    pick a timeout longer than the job's hard time limit.
    """
    lock = get_redis_connection("default").lock(f"movierec:lock:{name}", timeout=timeout)
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            with contextlib.suppress(Exception):  # expired meanwhile: nothing left to release
                lock.release()
