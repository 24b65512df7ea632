"""TMDb integration without Django: typed client, response schemas and Redis rate limiter.
The TMDb-compatible dev server for tests and local demos is a development tool outside the
production package: ``tools/tmdb_devserver``."""

from movies.tmdb.client import MAX_CHANGES_WINDOW, MAX_PAGE, TmdbClient, TmdbStats
from movies.tmdb.errors import (
    TRANSIENT_ERRORS,
    TmdbAuthError,
    TmdbBadRequest,
    TmdbConnectionError,
    TmdbError,
    TmdbNotFound,
    TmdbPayloadError,
    TmdbRateLimited,
    TmdbServerError,
)
from movies.tmdb.ratelimit import NullRateLimiter, RateLimiter, RedisTokenBucket
from movies.tmdb.schemas import (
    TmdbCast,
    TmdbChangesPage,
    TmdbConfiguration,
    TmdbCredits,
    TmdbCrew,
    TmdbGenre,
    TmdbKeyword,
    TmdbMovieChange,
    TmdbMovieDetail,
    TmdbMovieSummary,
    TmdbPage,
)

__all__ = [
    "MAX_CHANGES_WINDOW",
    "MAX_PAGE",
    "TRANSIENT_ERRORS",
    "NullRateLimiter",
    "RateLimiter",
    "RedisTokenBucket",
    "TmdbAuthError",
    "TmdbBadRequest",
    "TmdbCast",
    "TmdbChangesPage",
    "TmdbClient",
    "TmdbConfiguration",
    "TmdbConnectionError",
    "TmdbCredits",
    "TmdbCrew",
    "TmdbError",
    "TmdbGenre",
    "TmdbKeyword",
    "TmdbMovieChange",
    "TmdbMovieDetail",
    "TmdbMovieSummary",
    "TmdbNotFound",
    "TmdbPage",
    "TmdbPayloadError",
    "TmdbRateLimited",
    "TmdbServerError",
    "TmdbStats",
]
