"""Cross-process locks in Redis, for jobs that must not run twice at once (syncs, training).

One implementation: a key ``movierec:lock:<name>`` holding its owner's token, set with NX and an
expiry, released only by that token (compare-and-delete in one Lua call). :func:`job_lock` holds
one for a block; :func:`lock_acquire` / :func:`lock_release` let a job that spans processes (a
TMDb sync's coordinator and its chunk tasks) hold it under a token of its own, such as its run id.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from django_redis import get_redis_connection

_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _key(name: str) -> str:
    return f"movierec:lock:{name}"


def job_lock_held(name: str) -> bool:
    """Whether some process holds ``name`` now (for operators and tests; never to decide
    whether to run: that is :func:`job_lock`'s atomic acquire)."""
    return bool(get_redis_connection("default").exists(_key(name)))


def lock_acquire(name: str, token: str, *, timeout: int) -> bool:
    """Take ``name`` for ``token`` for ``timeout`` seconds; True also when ``token`` already
    holds it (a redelivered task resuming its own run)."""
    connection = get_redis_connection("default")
    if connection.set(_key(name), token, nx=True, ex=timeout):
        return True
    held = connection.get(_key(name))
    return held is not None and held.decode() == token


def lock_release(name: str, token: str) -> None:
    """Free ``name`` if ``token`` still holds it (an expired lock another took is left alone)."""
    get_redis_connection("default").eval(_RELEASE_LUA, 1, _key(name), token)


@contextlib.contextmanager
def job_lock(name: str, *, timeout: int) -> Iterator[bool]:
    """Yield True when this process holds ``name``, False when another one does.

    The lock expires after ``timeout`` seconds so a killed worker cannot hold it forever;
    pick a timeout longer than the job's hard time limit.
    """
    token = uuid.uuid4().hex
    acquired = lock_acquire(name, token, timeout=timeout)
    try:
        yield acquired
    finally:
        if acquired:
            with contextlib.suppress(Exception):  # Redis gone meanwhile: the lock expires
                lock_release(name, token)
