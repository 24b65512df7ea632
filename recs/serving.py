"""Process-wide serving state: the model registry, the Redis cache guard, per-user generations.

Every web process holds the active hybrid model (memory-mapped, so workers share its pages),
loaded once and swapped without a restart
when another version is activated: at most every ``RECS_VERSION_CHECK_SECONDS`` one request
reads ``recs:active_version`` from Redis (set by the trainer on activation), falling back to
the database when Redis is down or the key is missing. Loading happens outside the check
lock, so other threads keep serving the previous model while a new one loads.

Per-user cache entries carry a generation token (``recs:u{user}:gen``); feedback changes
replace the token (:func:`user_cache_invalidate`), so stale entries are never read again
and expire by TTL: no key scans. Personalized entries also carry the model version.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp
import structlog
from django.conf import settings
from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from recs import artifact_store, keys
from recs.engine.artifacts import ArtifactError
from recs.engine.hybrid import HybridModel
from recs.services import recs_model_active
from recs.taste import TasteProfile, taste_profile_read

logger = structlog.get_logger(__name__)

ACTIVE_VERSION_KEY = keys.ACTIVE_VERSION
# How long a version learnt from the database is trusted in Redis; the trainer's own
# ``set`` on activation always overwrites it, ``add`` never overwrites the trainer's value.
_DB_VERSION_TTL = 60

T = TypeVar("T")


@dataclass(frozen=True)
class ActiveModel:
    """The model serving this process, with the ``ModelVersion`` pk it was loaded from."""

    version: int
    model: HybridModel


class ModelRegistry:
    """Thread-safe holder of the active model; one instance per process (``registry``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._active: ActiveModel | None = None
        self._checked_at = -math.inf
        self._failed_version: int | None = None
        self._failed_at = -math.inf

    def reset(self) -> None:
        """Forget the loaded model (tests, and operators via a shell)."""
        with self._lock:
            self._active = None
            self._checked_at = -math.inf
            self._failed_version = None
            self._failed_at = -math.inf

    def get(self) -> ActiveModel | None:
        """The active model, re-checking the active version at most every few seconds."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < settings.RECS_VERSION_CHECK_SECONDS:
                return self._active
            self._checked_at = now  # this thread checks; the others keep serving meanwhile
            current = self._active
        wanted = self._wanted_version()
        if wanted == (current.version if current else None) or (
            wanted is not None
            and wanted == self._failed_version
            and now - self._failed_at < settings.RECS_MODEL_RETRY_SECONDS
        ):
            return current
        return self._load(wanted)

    @staticmethod
    def _wanted_version() -> int | None:
        cached = cache_get(ACTIVE_VERSION_KEY)
        if cached is not None:
            return int(cached) or None
        active = recs_model_active()
        version = active.pk if active is not None else None
        cache_add(ACTIVE_VERSION_KEY, version or 0, timeout=_DB_VERSION_TTL)
        return version

    def _load(self, wanted: int | None) -> ActiveModel | None:
        with self._load_lock:
            current = self._active
            if wanted is None:
                self._set(None)
                return None
            if current is not None and current.version == wanted:
                return current  # another thread loaded it while we waited
            # The database is the truth: Redis may lag a rollback or run ahead of a commit.
            row = recs_model_active()
            if row is None:
                self._set(None)
                return None
            version, path = row.pk, row.artifact_path
            if current is not None and current.version == version:
                return current
            started = time.perf_counter()
            try:
                model = artifact_store.artifact_load(path)
            except (ArtifactError, OSError) as exc:
                # Keep serving the previous model; retry this version only after a while.
                logger.error("recs.model_load_failed", version=version, error=str(exc))
                with self._lock:
                    self._failed_version = version
                    self._failed_at = time.monotonic()
                return current
            _warm(model)
            active = ActiveModel(version=version, model=model)
            self._set(active)
            logger.info(
                "recs.model_loaded",
                version=version,
                items=model.n_items,
                users=model.n_users,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
            return active

    def _set(self, active: ActiveModel | None) -> None:
        with self._lock:
            self._active = active
            self._failed_version = None
            self._failed_at = -math.inf


def _warm(model: HybridModel) -> None:
    """Fill the model's derived arrays (Y^T Y, item norms, popularity) before it serves."""
    model.als.recalculate_user(sp.csr_matrix((1, model.n_items), dtype=np.float32))
    model.pop_z  # noqa: B018 - computed once, cached on the model
    if model.n_items > 1:
        model.similar_items(0, n=1)


registry = ModelRegistry()


def active_model() -> ActiveModel | None:
    """The model this process serves now, or None when no version is active."""
    return registry.get()


# ------------------------------------------------------------------ cache helpers


class CacheGuard:
    """Cache calls that degrade to "no cache" on a Redis error, without paying for it twice.

    django-redis already swallows errors (``IGNORE_EXCEPTIONS``), but every call still
    retries the connection with back-off (a second or more per call while Redis is down).
    After one failure this process skips Redis for ``RECS_CACHE_RETRY_SECONDS``.
    """

    def __init__(self) -> None:
        self._skip_until = 0.0

    def reset(self) -> None:
        self._skip_until = 0.0

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._skip_until

    def call(self, method: str, *args: Any, default: Any = None, **kwargs: Any) -> Any:
        if not self.available:
            return default
        # The raw django-redis client raises instead of swallowing, so failures are seen.
        backend = getattr(cache, "client", cache)
        try:
            return getattr(backend, method)(*args, **kwargs)
        except (ConnectionInterrupted, RedisError, OSError) as exc:
            self._skip_until = time.monotonic() + settings.RECS_CACHE_RETRY_SECONDS
            logger.warning(
                "recs.cache_unavailable",
                error=str(exc)[:200],
                retry_in_seconds=settings.RECS_CACHE_RETRY_SECONDS,
            )
            return default


guard = CacheGuard()


def cache_get(key: str) -> Any:
    return guard.call("get", key)


def cache_set(key: str, value: Any, timeout: float | None) -> None:
    if timeout is None or timeout > 0:  # 0 is "caching off": no round trip to delete it
        guard.call("set", key, value, timeout=timeout)


def cache_add(key: str, value: Any, timeout: float | None) -> bool:
    return bool(guard.call("add", key, value, timeout=timeout, default=False))


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    return guard.call("get_many", keys, default={}) or {}


def cache_set_many(values: dict[str, Any], timeout: float | None) -> None:
    if values and (timeout is None or timeout > 0):
        guard.call("set_many", values, timeout=timeout)


def user_generation(user_id: int) -> str | None:
    """The user's current cache generation; None when Redis is unavailable."""
    key = keys.user_generation(user_id)
    generation = cache_get(key)
    if generation is None:
        cache_add(key, uuid.uuid4().hex, timeout=None)
        generation = cache_get(key)
    return generation


def user_cache_invalidate(user_id: int) -> None:
    """Invalidate every cached entry of one user (call on commit after any feedback change:
    rating, watchlist, favourite, playlist item, favourite genres)."""
    cache_set(keys.user_generation(user_id), uuid.uuid4().hex, timeout=None)


def trending_version() -> int:
    """The value the TMDb trending sync bumps; part of every trending cache key."""
    value = cache_get(keys.TRENDING_VERSION)
    return int(value) if value is not None else 0


def cached(key: str | None, ttl: int, compute: Callable[[], T]) -> T:
    """``compute()`` through the cache; ``key=None`` or ``ttl`` 0 means caching is off."""
    if key is None or ttl <= 0 or not guard.available:
        return compute()
    value = cache_get(key)
    if value is None:
        value = compute()
        cache_set(key, value, timeout=ttl)
    return value


def taste_profile(user_id: int, generation: str | None = None) -> TasteProfile:
    """One user's taste profile, cached under their generation (a change is seen at once)."""
    if generation is None:
        generation = user_generation(user_id)
    key = keys.taste_profile(user_id, generation) if generation is not None else None
    return cached(key, settings.RECS_CACHE_TTL, lambda: taste_profile_read(user_id))


def serving_status() -> dict[str, int | None]:
    """What this process serves (for health): the loaded version and one that failed to load."""
    with registry._lock:
        active, failed = registry._active, registry._failed_version
    return {"serving": active.version if active else None, "failedToLoad": failed}
