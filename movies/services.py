"""Catalogue writes outside the sync jobs: the process's TMDb client and the trending cache
version the recommendations key on. The sync jobs themselves live in ``movies.sync``."""

from __future__ import annotations

import threading
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache

from movies.tmdb import (
    NullRateLimiter,
    RedisTokenBucket,
    TmdbClient,
)

#: Cache key the recommendations read: every trending/recommendation cache key embeds it,
#: so bumping it after a sync retires all of them at once.
TRENDING_VERSION_KEY = "trending:version"


# --- client ------------------------------------------------------------------------------------

_clients: dict[tuple[Any, ...], TmdbClient] = {}
_clients_lock = threading.Lock()


def tmdb_client_from_settings() -> TmdbClient:
    """The process's TMDb client for the current ``TMDB_*`` settings (one per configuration).

    The rate limit is a Redis token bucket shared by every worker using the same key;
    ``TMDB_RATE_LIMIT <= 0`` disables it (the local dev server has no limit).
    """
    rate = float(settings.TMDB_RATE_LIMIT)
    burst = int(getattr(settings, "TMDB_RATE_BURST", 0) or max(1, round(rate)))
    key = (
        settings.TMDB_API_URL,
        settings.TMDB_READ_TOKEN,
        settings.TMDB_API_KEY,
        rate,
        burst,
        settings.REDIS_URL,
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            limiter = (
                RedisTokenBucket(redis.Redis.from_url(settings.REDIS_URL), rate=rate, burst=burst)
                if rate > 0
                else NullRateLimiter()
            )
            client = TmdbClient(
                settings.TMDB_API_URL,
                read_token=settings.TMDB_READ_TOKEN or None,
                api_key=settings.TMDB_API_KEY or None,
                rate_limiter=limiter,
                pool_size=max(8, settings.TMDB_SYNC_THREADS * 2),
            )
            _clients[key] = client
        return client


# --- trending cache ----------------------------------------------------------------------------


def trending_cache_version() -> int:
    """The current version of everything cached under ``trending:`` (1 until the first bump)."""
    cache.add(TRENDING_VERSION_KEY, 1, timeout=None)
    return int(cache.get(TRENDING_VERSION_KEY) or 1)


def trending_cache_bump() -> int:
    """Retire every ``trending:v{old}:...`` key by moving to a new version."""
    cache.add(TRENDING_VERSION_KEY, 1, timeout=None)
    try:
        return int(cache.incr(TRENDING_VERSION_KEY))
    except ValueError:  # evicted between add and incr
        cache.set(TRENDING_VERSION_KEY, 2, timeout=None)
        return 2
