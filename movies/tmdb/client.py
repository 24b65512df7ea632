"""HTTP client for TMDb API v3: pooled, rate limited, retrying, typed.

Framework-free on purpose: the sync services wrap it, Celery decides what to retry later using
:data:`~movies.tmdb.errors.TRANSIENT_ERRORS`. Transient failures (connection errors, timeouts,
5xx, 429) are retried here first with exponential backoff and full jitter; 429 honours
``Retry-After``. Permanent failures (401, 404, 400/422, malformed payloads) raise at once.

Prefer ``read_token`` (Bearer header): an ``api_key`` has to travel in the query string, where
urllib3's debug logging and proxies can see it. This module never logs either.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Self, TypeVar

import requests
from requests.adapters import HTTPAdapter

from movies.tmdb.errors import (
    TmdbAuthError,
    TmdbBadRequest,
    TmdbConnectionError,
    TmdbError,
    TmdbNotFound,
    TmdbPayloadError,
    TmdbRateLimited,
    TmdbServerError,
)
from movies.tmdb.ratelimit import NullRateLimiter, RateLimiter
from movies.tmdb.schemas import (
    TmdbChangesPage,
    TmdbConfiguration,
    TmdbCredits,
    TmdbGenre,
    TmdbKeyword,
    TmdbMovieChange,
    TmdbMovieDetail,
    TmdbMovieSummary,
    TmdbPage,
    parse_changes_page,
    parse_configuration,
    parse_credits,
    parse_genres,
    parse_keywords,
    parse_movie_changes,
    parse_movie_detail,
    parse_movie_page,
)

__all__ = ["MAX_CHANGES_WINDOW", "MAX_PAGE", "TmdbClient", "TmdbStats"]

logger = logging.getLogger(__name__)

#: TMDb rejects ``page`` above 500 (status_code 22) whatever ``total_pages`` says.
MAX_PAGE = 500
#: ``/movie/changes`` accepts ``end_date - start_date`` of at most 14 days.
MAX_CHANGES_WINDOW = timedelta(days=14)

PageT = TypeVar("PageT", TmdbPage[Any], TmdbChangesPage)


@dataclass
class TmdbStats:
    """Counters for command/task summaries; safe to share between threads."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def incr(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "rate_limited": self.rate_limited,
                "errors": self.errors,
            }

    def reset(self) -> None:
        with self._lock:
            self.requests = self.retries = self.rate_limited = self.errors = 0


def _encode_param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_encode_param(v) for v in value)
    return str(value)


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _snapshot_environment(session: requests.Session, url: str) -> None:
    """Read the proxy and CA-bundle environment once, for every request to ``url``'s host.

    With ``trust_env`` on, requests rescans ``os.environ`` (proxies, ``no_proxy``, CA bundle)
    on every request: about a third of the client's CPU per detail request. The settings it
    would find are taken here instead; the environment does not change under a running
    process, and netrc is irrelevant (credentials travel in a header or the query string).
    """
    session.proxies.update(requests.utils.get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


def _check_page(page: int) -> None:
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise ValueError(f"page must be an integer in 1..{MAX_PAGE}, got {page!r}")


class TmdbClient:
    """Thread-safe TMDb v3 client; share one instance per process.

    ``base_url`` includes the version (``https://api.themoviedb.org/3``). ``sleep`` and ``rng``
    are injectable so tests can record backoff instead of waiting.
    """

    def __init__(
        self,
        base_url: str,
        *,
        read_token: str | None = None,
        api_key: str | None = None,
        timeout: float | tuple[float, float] = (3.05, 10),
        max_retries: int = 5,
        rate_limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
        pool_size: int = 32,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_max: float = 120.0,
        language: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.rate_limiter: RateLimiter = rate_limiter or NullRateLimiter()
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self.language = language
        self.stats = TmdbStats()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._api_key = None if read_token else api_key
        self._headers = {
            "Accept": "application/json",
            "User-Agent": "movierec-tmdb/1.0",
        }
        if read_token:
            self._headers["Authorization"] = f"Bearer {read_token}"
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _snapshot_environment(session, self.base_url)
        self.session = session

    def __repr__(self) -> str:  # never shows credentials
        auth = (
            "bearer"
            if "Authorization" in self._headers
            else ("api_key" if self._api_key else "none")
        )
        return f"TmdbClient({self.base_url!r}, auth={auth})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transport -------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Full jitter (AWS architecture blog): uniform in [0, min(max, base * 2**attempt)]."""
        return self._rng.uniform(0, min(self.backoff_max, self.backoff_base * (2**attempt)))

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``base_url + path`` and return decoded JSON, retrying transient failures."""
        query = {k: _encode_param(v) for k, v in (params or {}).items() if v is not None}
        if self.language and "language" not in query:
            query["language"] = self.language
        if self._api_key:
            query["api_key"] = self._api_key
        url = f"{self.base_url}/{path.lstrip('/')}"
        attempt = 0
        while True:
            self.rate_limiter.acquire()
            self.stats.incr("requests")
            delay: float | None = None
            try:
                response = self.session.get(
                    url, params=query, headers=self._headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.max_retries:
                    self.stats.incr("errors")
                    raise TmdbConnectionError(
                        f"{type(exc).__name__} after {attempt + 1} attempts", path=path
                    ) from exc
                logger.warning("tmdb %s: %s, retrying", path, type(exc).__name__)
            else:
                status = response.status_code
                if status < 400:
                    return self._decode(response, path)
                error = self._error_for(response, path)
                if status == 429:
                    self.stats.incr("rate_limited")
                    retry_after = _parse_retry_after(response.headers.get("Retry-After"))
                    if attempt >= self.max_retries:
                        self.stats.incr("errors")
                        raise TmdbRateLimited(
                            error.message,
                            retry_after=retry_after,
                            http_status=status,
                            status_code=error.status_code,
                            path=path,
                        )
                    if retry_after is not None:
                        delay = min(retry_after, self.retry_after_max)
                elif status >= 500:
                    if attempt >= self.max_retries:
                        self.stats.incr("errors")
                        raise error
                else:
                    self.stats.incr("errors")
                    raise error
                logger.warning("tmdb %s: HTTP %s, retrying", path, status)
            if delay is None:
                delay = self._backoff(attempt)
            attempt += 1
            self.stats.incr("retries")
            self._sleep(delay)

    def _decode(self, response: requests.Response, path: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            self.stats.incr("errors")
            raise TmdbPayloadError(
                "response is not JSON", http_status=response.status_code, path=path
            ) from exc

    @staticmethod
    def _error_for(response: requests.Response, path: str) -> TmdbError:
        status = response.status_code
        code: int | None = None
        message = f"HTTP {status}"
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            if isinstance(body.get("status_code"), int):
                code = body["status_code"]
            if isinstance(body.get("status_message"), str):
                message = body["status_message"]
        cls: type[TmdbError]
        if status == 401:
            cls = TmdbAuthError
        elif status == 404:
            cls = TmdbNotFound
        elif status in (400, 422):
            cls = TmdbBadRequest
        elif status == 429:
            cls = TmdbRateLimited
        elif status >= 500:
            cls = TmdbServerError
        else:
            cls = TmdbError
        return cls(message, http_status=status, status_code=code, path=path)

    def _parsed(
        self,
        parser: Callable[[Any], Any],
        path: str,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        payload = self.get_json(path, params)
        try:
            return parser(payload)
        except TmdbPayloadError as exc:
            self.stats.incr("errors")
            exc.path = exc.path or path
            raise

    # --- endpoints -------------------------------------------------------------------------------

    def configuration(self) -> TmdbConfiguration:
        """Image base URL and sizes (cache it: it changes rarely)."""
        return self._parsed(parse_configuration, "configuration")

    def genres(self) -> tuple[TmdbGenre, ...]:
        """The current movie genre list."""
        return self._parsed(parse_genres, "genre/movie/list")

    def trending(
        self, window: Literal["day", "week"] = "week", page: int = 1
    ) -> TmdbPage[TmdbMovieSummary]:
        if window not in ("day", "week"):
            raise ValueError("window must be 'day' or 'week'")
        _check_page(page)
        return self._parsed(parse_movie_page, f"trending/movie/{window}", {"page": page})

    def popular(self, page: int = 1) -> TmdbPage[TmdbMovieSummary]:
        _check_page(page)
        return self._parsed(parse_movie_page, "movie/popular", {"page": page})

    def discover(self, page: int = 1, **filters: Any) -> TmdbPage[TmdbMovieSummary]:
        """``/discover/movie``. TMDb's dotted names are spelled with ``__``:
        ``primary_release_date__gte=date(2000, 1, 1)`` sends ``primary_release_date.gte``.
        Lists become comma-separated (AND for ``with_genres``), dates ISO, bools true/false.
        """
        _check_page(page)
        params = {key.replace("__", "."): value for key, value in filters.items()}
        params["page"] = page
        return self._parsed(parse_movie_page, "discover/movie", params)

    def movie(
        self, tmdb_id: int, *, append: tuple[str, ...] = ("credits", "keywords")
    ) -> TmdbMovieDetail:
        """Details plus credits and keywords in one request (``append_to_response``)."""
        params = {"append_to_response": ",".join(append)} if append else None
        return self._parsed(parse_movie_detail, f"movie/{int(tmdb_id)}", params)

    def credits(self, tmdb_id: int) -> TmdbCredits:
        return self._parsed(parse_credits, f"movie/{int(tmdb_id)}/credits")

    def keywords(self, tmdb_id: int) -> tuple[TmdbKeyword, ...]:
        return self._parsed(parse_keywords, f"movie/{int(tmdb_id)}/keywords")

    def changes(self, start_date: date, end_date: date, page: int = 1) -> TmdbChangesPage:
        """Ids of movies changed between the two dates (inclusive, at most 14 days apart)."""
        if end_date < start_date:
            raise ValueError("end_date is before start_date")
        if end_date - start_date > MAX_CHANGES_WINDOW:
            raise ValueError(f"changes window is limited to {MAX_CHANGES_WINDOW.days} days")
        _check_page(page)
        params = {"start_date": start_date, "end_date": end_date, "page": page}
        return self._parsed(parse_changes_page, "movie/changes", params)

    def movie_changes(
        self, tmdb_id: int, start_date: date | None = None, end_date: date | None = None
    ) -> tuple[TmdbMovieChange, ...]:
        """What changed on one movie (TMDb defaults to the last 24 hours)."""
        params = {"start_date": start_date, "end_date": end_date}
        return self._parsed(parse_movie_changes, f"movie/{int(tmdb_id)}/changes", params)

    # --- iteration -------------------------------------------------------------------------------

    @staticmethod
    def changes_windows(since: date, until: date) -> list[tuple[date, date]]:
        """Split ``since..until`` (inclusive) into consecutive, non-overlapping windows that
        TMDb accepts (14 calendar days each)."""
        if until < since:
            raise ValueError("until is before since")
        windows = []
        start = since
        while start <= until:
            end = min(until, start + MAX_CHANGES_WINDOW - timedelta(days=1))
            windows.append((start, end))
            start = end + timedelta(days=1)
        return windows

    def iter_changes(self, since: date, until: date) -> Iterator[int]:
        """Each movie id changed in ``since..until`` once, however long the range."""
        seen: set[int] = set()
        for start, end in self.changes_windows(since, until):
            for page in self.iter_pages(self.changes, start_date=start, end_date=end):
                for movie_id in page.ids:
                    if movie_id not in seen:
                        seen.add(movie_id)
                        yield movie_id

    def iter_pages(
        self, method: Callable[..., PageT], max_pages: int | None = None, **kwargs: Any
    ) -> Iterator[PageT]:
        """Call ``method(page=n, **kwargs)`` for n = 1.. until the last page, ``max_pages`` or
        TMDb's page 500, whichever comes first. Yields whole pages so callers see ``errors``."""
        limit = MAX_PAGE if max_pages is None else min(max_pages, MAX_PAGE)
        page_number = 1
        while page_number <= limit:
            page = method(page=page_number, **kwargs)
            yield page
            if page_number >= page.total_pages:
                break
            page_number += 1
