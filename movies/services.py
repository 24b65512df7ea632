"""Catalogue writes outside the sync jobs: the process's TMDb client, the trending cache
version the recommendations key on, and each movie's community rating (``rating_count`` /
``rating_sum``), which the ratings app moves through here. The sync jobs themselves live in
``movies.sync``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F

from movies.models import Genre, Movie
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


# --- community rating ----------------------------------------------------------------------------


def movie_rating_stats_add(*, movie_id: int, count: int = 0, total: Decimal | int = 0) -> None:
    """Move one movie's community rating by a delta, in the caller's transaction.

    The rating path is hot and concurrent, so this is one ``UPDATE`` with F() expressions:
    the database adds to the row as it is when locked, no read-modify-write can lose a
    concurrent rating, and the caller pays no extra query. A zero delta stays out of the SET
    (a re-rating only moves the sum); with nothing to move there is no query at all.
    """
    changes = {}
    if count:
        changes["rating_count"] = F("rating_count") + count
    if total:
        changes["rating_sum"] = F("rating_sum") + total
    if changes:
        Movie.objects.filter(pk=movie_id).update(**changes)


def movie_rating_stats_apply(*, stats: str, params: Sequence[Any], replace: bool = False) -> int:
    """Apply many movies' rating stats, derived by the ratings owner from its own table.

    ``stats`` is a SELECT of ``(movie_id, n, total)`` rows in the caller's SQL (it names the
    caller's tables, this names only ``movies_movie``); ``replace`` sets the counts to them
    (a recount), otherwise they are signed deltas added to the counts. One ``UPDATE ... FROM``
    statement, so the ratings are read and the counts written at once: no rating can land
    between a read and a write. Returns how many movies were updated.
    """
    if replace:
        assign = "rating_count = s.n, rating_sum = s.total"
    else:
        assign = "rating_count = m.rating_count + s.n, rating_sum = m.rating_sum + s.total"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE movies_movie AS m SET {assign} FROM ({stats}) AS s WHERE m.id = s.movie_id",
            list(params),
        )
        return cursor.rowcount


# --- catalogue imports outside TMDb --------------------------------------------------------------


@dataclass(frozen=True)
class MovieSeed:
    """A movie known from another catalogue (e.g. MovieLens), before TMDb enriches it."""

    title: str
    original_title: str
    year: int | None
    genres: Sequence[str] = field(default_factory=tuple)
    tmdb_id: int | None = None
    imdb_id: str = ""


def movies_bulk_create(*, seeds: Sequence[MovieSeed], batch_size: int = 2000) -> list[int]:
    """Create one movie per seed (genres by name, created when missing) in bulk INSERTs;
    returns the new pks in the seeds' order. The caller has matched existing movies first."""
    names = sorted({g for seed in seeds for g in seed.genres})
    Genre.objects.bulk_create([Genre(name=n) for n in names], ignore_conflicts=True)
    genre_ids = dict(Genre.objects.filter(name__in=names).values_list("name", "id"))
    created = Movie.objects.bulk_create(
        [
            Movie(
                tmdb_id=seed.tmdb_id,
                imdb_id=seed.imdb_id,
                title=seed.title,
                original_title=seed.original_title or seed.title,
                year=seed.year,
            )
            for seed in seeds
        ],
        batch_size=batch_size,
    )
    through = Movie.genres.through
    links = [
        through(movie_id=movie.pk, genre_id=genre_ids[g])
        for movie, seed in zip(created, seeds, strict=True)
        for g in seed.genres
    ]
    through.objects.bulk_create(links, batch_size=batch_size * 5, ignore_conflicts=True)
    return [movie.pk for movie in created]
