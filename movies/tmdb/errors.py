"""Typed TMDb errors, so callers (Celery tasks, commands) can retry only what is transient."""

from __future__ import annotations


class TmdbError(Exception):
    """Base for every TMDb failure; carries the HTTP status and TMDb's own status_code."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        status_code: int | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.status_code = status_code
        self.path = path

    def __str__(self) -> str:
        parts = [self.message]
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.status_code is not None:
            parts.append(f"tmdb_code={self.status_code}")
        if self.path:
            parts.append(f"path={self.path}")
        return " ".join(parts)


class TmdbAuthError(TmdbError):
    """401: missing or invalid credentials; retrying cannot help."""


class TmdbNotFound(TmdbError):
    """404 (TMDb code 34): the movie was deleted or never existed."""


class TmdbBadRequest(TmdbError):
    """400/422: invalid page, date range or filter; a bug on our side, never retried."""


class TmdbRateLimited(TmdbError):
    """429 (TMDb code 25) still returned after all retries."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class TmdbServerError(TmdbError):
    """5xx still returned after all retries."""


class TmdbConnectionError(TmdbError):
    """Connection failure or timeout still happening after all retries."""


class TmdbPayloadError(TmdbError, ValueError):
    """A response that is not valid JSON or lacks required fields / has wrong types."""


#: Errors worth retrying later (e.g. Celery ``autoretry_for``); the others are permanent.
TRANSIENT_ERRORS: tuple[type[TmdbError], ...] = (
    TmdbRateLimited,
    TmdbServerError,
    TmdbConnectionError,
)
