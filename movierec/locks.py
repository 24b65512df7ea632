"""Cross-process locks in Redis, for jobs that must not run twice at once (syncs, training).

One implementation: a key ``movierec:lock:<name>`` holding its owner's token, set with NX and an
expiry, released only by that token (compare-and-delete in one Lua call). :func:`job_lock` holds
one for a block, optionally renewed by a heartbeat thread; :func:`lock_acquire` /
:func:`lock_release` let a job that spans processes (a TMDb sync's coordinator and its chunk
tasks) hold it under a token of its own, such as its run id.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator

import structlog
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)

_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# The heartbeat's renewal: extend our own lock (1); take it back when the key is gone, as
# after a Redis restart or flush (2); 0 when another process holds it now.
_HEARTBEAT_LUA = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then redis.call('EXPIRE', KEYS[1], ARGV[2]) return 1 end
if not held then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 2 end
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


def lock_heartbeat(name: str, token: str, *, timeout: int) -> str:
    """Renew ``name`` for ``token``: "renewed", "retaken" when its key had vanished (Redis
    restarted or flushed, so nobody else could have taken it yet), or "lost" when another
    process holds it now."""
    result = get_redis_connection("default").eval(_HEARTBEAT_LUA, 1, _key(name), token, timeout)
    return {1: "renewed", 2: "retaken"}.get(int(result), "lost")


def _renew_until_stopped(
    name: str, token: str, timeout: int, every: float, stop: threading.Event
) -> None:
    while not stop.wait(every):
        try:
            outcome = lock_heartbeat(name, token, timeout=timeout)
        except RedisError as exc:
            logger.error("lock.renew_failed", lock=name, error=type(exc).__name__)
            continue  # Redis away: the next beat takes the lock back if its key is gone
        if outcome == "retaken":
            logger.warning("lock.retaken", lock=name)
        elif outcome == "lost":
            # Another process took it (it expired during a Redis outage longer than the
            # timeout): the job goes on, but a second run may be under way; say so loudly.
            logger.error("lock.lost", lock=name)


@contextlib.contextmanager
def job_lock(name: str, *, timeout: int, heartbeat: float | None = None) -> Iterator[bool]:
    """Yield True when this process holds ``name``, False when another one does.

    The lock expires after ``timeout`` seconds so a killed worker cannot hold it forever.
    Without ``heartbeat`` pick a timeout longer than the job's hard time limit. With
    ``heartbeat`` a thread renews the lock every ``heartbeat`` seconds while the block runs,
    so ``timeout`` can be short (say 60 s) and a SIGKILLed holder frees the lock within it,
    however long the job may run.
    """
    token = uuid.uuid4().hex
    acquired = lock_acquire(name, token, timeout=timeout)
    stop = threading.Event()
    renewer = None
    if acquired and heartbeat:
        renewer = threading.Thread(
            target=_renew_until_stopped,
            args=(name, token, timeout, heartbeat, stop),
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
            with contextlib.suppress(Exception):  # Redis gone meanwhile: the lock expires
                lock_release(name, token)
