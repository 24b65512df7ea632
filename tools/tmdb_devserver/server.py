"""A TMDb-compatible HTTP server over a :class:`Catalogue`, for tests and local development.

Routing and behaviour live in :class:`DevApp` (plain method calls, easy to reason about); the
stdlib HTTP layer only translates requests. It runs threaded with HTTP/1.1 keep-alive so a pooled
HTTP client behaves as it would against TMDb. Failure modes (auth, 429 with
``Retry-After``, random 5xx, queued faults, malformed payloads) are there so the client and the
sync can be tested against the real wire format.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from tools.tmdb_devserver.catalogue import Catalogue
from tools.tmdb_devserver.posters import poster_svg

__all__ = ["DevApp", "DevServer", "Response"]

PAGE_SIZE = 20
CHANGES_PAGE_SIZE = 100
MAX_PAGE = 500
MAX_CHANGES_DAYS = 14

CHANGE_KEYS = [
    "adult",
    "air_date",
    "also_known_as",
    "alternative_titles",
    "biography",
    "birthday",
    "budget",
    "cast",
    "certifications",
    "character_names",
    "created_by",
    "crew",
    "deathday",
    "episode",
    "episode_number",
    "episode_run_time",
    "freebase_id",
    "freebase_mid",
    "general",
    "genres",
    "guest_stars",
    "homepage",
    "images",
    "imdb_id",
    "languages",
    "name",
    "network",
    "origin_country",
    "original_name",
    "original_title",
    "overview",
    "parts",
    "place_of_birth",
    "plot_keywords",
    "production_code",
    "production_companies",
    "production_countries",
    "releases",
    "revenue",
    "runtime",
    "season",
    "season_number",
    "season_regular",
    "spoken_languages",
    "status",
    "tagline",
    "title",
    "translations",
    "tvdb_id",
    "tvrage_id",
    "type",
    "video",
    "videos",
]

CONFIGURATION = {
    "images": {
        "base_url": "http://image.tmdb.org/t/p/",
        "secure_base_url": "https://image.tmdb.org/t/p/",
        "backdrop_sizes": ["w300", "w780", "w1280", "original"],
        "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
        "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
        "profile_sizes": ["w45", "w185", "h632", "original"],
        "still_sizes": ["w92", "w185", "w300", "original"],
    },
    "change_keys": CHANGE_KEYS,
}


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: int, message: str, **headers: str) -> Response:
    body = {"status_code": code, "status_message": message, "success": False}
    return Response(status, body, dict(headers))


def _not_found() -> Response:
    return _error(404, 34, "The resource you requested could not be found.")


def _invalid_page() -> Response:
    return _error(
        400,
        22,
        "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.",
    )


def _invalid_input(message: str = "The input is not valid.") -> Response:
    return _error(422, 47, message)


class _PageError(Exception):
    pass


def _page_number(query: Mapping[str, str]) -> int:
    raw = query.get("page", "1") or "1"
    try:
        page = int(raw)
    except ValueError:
        raise _PageError from None
    if not 1 <= page <= MAX_PAGE:
        raise _PageError
    return page


def _paged(ids: list[int], page: int, render: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    start = (page - 1) * PAGE_SIZE
    return {
        "page": page,
        "results": [render(mid) for mid in ids[start : start + PAGE_SIZE]],
        "total_pages": math.ceil(len(ids) / PAGE_SIZE),
        "total_results": len(ids),
    }


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"/3/configuration"), "configuration"),
    ("GET", re.compile(r"/3/genre/movie/list"), "genres"),
    ("GET", re.compile(r"/3/trending/movie/(?P<window>[^/]+)"), "trending"),
    ("GET", re.compile(r"/3/movie/popular"), "popular"),
    ("GET", re.compile(r"/3/discover/movie"), "discover"),
    ("GET", re.compile(r"/3/movie/changes"), "changes"),
    ("GET", re.compile(r"/3/movie/(?P<id>\d+)"), "movie"),
    ("GET", re.compile(r"/3/movie/(?P<id>\d+)/credits"), "credits"),
    ("GET", re.compile(r"/3/movie/(?P<id>\d+)/keywords"), "keywords"),
    ("GET", re.compile(r"/3/movie/(?P<id>\d+)/changes"), "movie_changes"),
    ("POST", re.compile(r"/_dev/movies/(?P<id>\d+)/touch"), "dev_touch"),
    ("POST", re.compile(r"/_dev/movies/(?P<id>\d+)/malform"), "dev_malform"),
    ("POST", re.compile(r"/_dev/reset"), "dev_reset"),
    ("POST", re.compile(r"/_dev/faults"), "dev_faults"),
    ("GET", re.compile(r"/_dev/stats"), "dev_stats"),
    ("GET", re.compile(r"/_dev/requests"), "dev_requests"),
    (
        "GET",
        re.compile(r"/t/p/(?P<size>[a-z0-9]+)(?P<path>/[A-Za-z0-9_-]+\.(?:jpg|png|svg))"),
        "image",
    ),
]
_ENDPOINT_LABELS = {
    "trending": "/3/trending/movie/{time_window}",
    "movie": "/3/movie/{movie_id}",
    "credits": "/3/movie/{movie_id}/credits",
    "keywords": "/3/movie/{movie_id}/keywords",
    "movie_changes": "/3/movie/{movie_id}/changes",
}


class DevApp:
    """TMDb's behaviour over a catalogue, independent of the HTTP transport.

    ``rate_limit`` (requests/second, burst of the same size) answers 429 with TMDb's code 25
    and ``Retry-After``; ``error_rate`` answers a seeded random 500/503. With ``require_auth``,
    requests need ``api_key`` or a Bearer token (checked against ``api_key`` / ``read_token``
    when those are set, else any non-empty value is accepted).
    """

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        rate_limit: float | None = None,
        error_rate: float = 0.0,
        latency_ms: float = 0.0,
        require_auth: bool = False,
        api_key: str | None = None,
        read_token: str | None = None,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        log_size: int = 10_000,
    ) -> None:
        self.catalogue = catalogue
        self.rate_limit = rate_limit
        self.error_rate = error_rate
        self.latency_ms = latency_ms
        self.require_auth = require_auth or bool(api_key or read_token)
        self.api_key = api_key
        self.read_token = read_token
        self._seed = seed
        self._clock = clock
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._faults: deque[tuple[int, float | None]] = deque()
        self._tokens = float(rate_limit or 0)
        self._tokens_at = clock()
        self.request_log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._by_endpoint: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._by_auth: Counter[str] = Counter()
        self._titles: dict[str, str] | None = None

    # --- public controls -------------------------------------------------------------------------

    def inject_faults(self, status: int, count: int = 1, retry_after: float | None = None) -> None:
        """Make the next ``count`` API requests fail with ``status`` (429 gets TMDb's code 25
        and, when given, ``Retry-After``)."""
        with self._lock:
            self._faults.extend([(status, retry_after)] * count)

    def reset(self) -> None:
        """Restore the catalogue and clear faults, counters and the request log."""
        self.catalogue.reset()
        with self._lock:
            self._faults.clear()
            self._rng = random.Random(self._seed)
            self._tokens = float(self.rate_limit or 0)
            self._tokens_at = self._clock()
            self.request_log.clear()
            self._by_endpoint.clear()
            self._by_status.clear()
            self._by_auth.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": sum(self._by_endpoint.values()),
                "by_endpoint": dict(self._by_endpoint),
                "by_status": dict(self._by_status),
                "by_auth": dict(self._by_auth),
                "movies": len(self.catalogue.movies),
                "malformed": sorted(self.catalogue.malformed),
            }

    # --- request handling ------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Response:
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        route, params = self._match(method, path)
        if route is None:
            if params.get("method_mismatch"):
                response = _error(405, 3, "Method not allowed.")
            else:
                response = _not_found()
            if path.startswith("/3/"):
                self._record(path, query, headers, "unknown", response.status)
            return response
        if route.startswith("dev_"):
            return getattr(self, f"_{route}")(params, query, body)
        if route == "image":  # the image CDN: no API key, no rate limit
            return self._image(params)

        auth = self._auth_kind(headers, query)
        response = self._gate(auth, headers, query)
        if response is None:
            try:
                response = getattr(self, f"_{route}")(params, query)
            except _PageError:
                response = _invalid_page()
        self._record(path, query, headers, _ENDPOINT_LABELS.get(route, path), response.status, auth)
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        return response

    def _match(self, method: str, path: str) -> tuple[str | None, dict[str, Any]]:
        mismatch = False
        for route_method, pattern, name in _ROUTES:
            found = pattern.fullmatch(path)
            if found:
                if route_method == method:
                    return name, found.groupdict()
                mismatch = True
        return None, {"method_mismatch": mismatch}

    def _auth_kind(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str:
        authorization = headers.get("Authorization") or headers.get("authorization") or ""
        if authorization.startswith("Bearer "):
            return "bearer"
        if query.get("api_key"):
            return "api_key"
        return "none"

    def _gate(
        self, auth: str, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> Response | None:
        """Auth, queued faults, rate limit and random errors, in TMDb's order."""
        if self.require_auth:
            authorization = headers.get("Authorization") or headers.get("authorization") or ""
            token = authorization.removeprefix("Bearer ").strip() if auth == "bearer" else ""
            if auth == "bearer":
                valid = bool(token) and (self.read_token is None or token == self.read_token)
            elif auth == "api_key":
                valid = self.api_key is None or query["api_key"] == self.api_key
            else:
                valid = False
            if not valid:
                return _error(401, 7, "Invalid API key: You must be granted a valid key.")
        with self._lock:
            if self._faults:
                status, retry_after = self._faults.popleft()
                return self._fault_response(status, retry_after)
            if self.rate_limit:
                now = self._clock()
                self._tokens = min(
                    float(self.rate_limit), self._tokens + (now - self._tokens_at) * self.rate_limit
                )
                self._tokens_at = now
                if self._tokens < 1:
                    wait = max(1, math.ceil((1 - self._tokens) / self.rate_limit))
                    return self._fault_response(429, wait)
                self._tokens -= 1
            if self.error_rate and self._rng.random() < self.error_rate:
                return self._fault_response(self._rng.choice((500, 503)), None)
        return None

    def _fault_response(self, status: int, retry_after: float | None) -> Response:
        if status == 429:
            limit = int(self.rate_limit or 40)
            message = f"Your request count ({limit + 1}) is over the allowed limit of {limit}."
            headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
            return _error(429, 25, message, **headers)
        if status == 503:
            return _error(
                503, 9, "Service offline: This service is temporarily offline, try again later."
            )
        if status == 401:
            return _error(401, 7, "Invalid API key: You must be granted a valid key.")
        if status == 404:
            return _not_found()
        return _error(status, 11, "Internal error: Something went wrong, contact TMDb.")

    def _record(
        self,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        endpoint: str,
        status: int,
        auth: str | None = None,
    ) -> None:
        safe_query = {k: ("***" if k == "api_key" else v) for k, v in query.items()}
        with self._lock:
            self._by_endpoint[endpoint] += 1
            self._by_status[str(status)] += 1
            self._by_auth[auth or "none"] += 1
            self.request_log.append(
                {
                    "path": path,
                    "endpoint": endpoint,
                    "query": safe_query,
                    "auth": auth or "none",
                    "status": status,
                }
            )

    # --- TMDb endpoints --------------------------------------------------------------------------

    def _configuration(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        return Response(200, CONFIGURATION)

    def _genres(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        return Response(200, {"genres": self.catalogue.genres})

    def _trending(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        window = params["window"]
        if window not in ("day", "week"):
            return _not_found()
        page = _page_number(query)

        def render(mid: int) -> dict[str, Any]:
            item = self.catalogue.summary(mid)
            item["media_type"] = "movie"
            return item

        return Response(200, _paged(self.catalogue.trending_ids(window), page, render))

    def _popular(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        page = _page_number(query)
        return Response(200, _paged(self.catalogue.popular_ids(), page, self.catalogue.summary))

    def _discover(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        page = _page_number(query)
        try:
            ids = self.catalogue.discover_ids(query)
        except ValueError as exc:
            return _invalid_input(str(exc))
        return Response(200, _paged(ids, page, self.catalogue.summary))

    def _movie(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        movie_id = int(params["id"])
        if movie_id not in self.catalogue.movies:
            return _not_found()
        sections = [s.strip() for s in query.get("append_to_response", "").split(",") if s.strip()]
        if len(sections) > 20:
            return _invalid_input("Too many append to response objects: The maximum number is 20.")
        return Response(200, self.catalogue.detail(movie_id, sections))

    def _credits(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        movie_id = int(params["id"])
        if movie_id not in self.catalogue.movies:
            return _not_found()
        return Response(200, self.catalogue.credits_for(movie_id))

    def _keywords(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        movie_id = int(params["id"])
        if movie_id not in self.catalogue.movies:
            return _not_found()
        return Response(200, self.catalogue.keywords_for(movie_id))

    def _movie_changes(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        """Touched fields of one movie, as TMDb's change groups (touch changes these four)."""
        movie_id = int(params["id"])
        if movie_id not in self.catalogue.movies:
            return _not_found()
        times = [when for when, mid in self.catalogue.changes if mid == movie_id]
        groups = []
        if times:
            stamp = max(times).strftime("%Y-%m-%d %H:%M:%S UTC")
            movie = self.catalogue.movies[movie_id]
            for key in ("popularity", "vote_count", "vote_average", "tagline"):
                item = {
                    "id": f"{movie_id:012x}{len(times):012x}",
                    "action": "updated",
                    "time": stamp,
                    "value": movie[key],
                }
                groups.append({"key": key, "items": [item]})
        return Response(200, {"changes": groups})

    def _changes(self, params: dict[str, str], query: Mapping[str, str]) -> Response:
        page = _page_number(query)
        try:
            end = date.fromisoformat(query["end_date"]) if query.get("end_date") else None
            start = date.fromisoformat(query["start_date"]) if query.get("start_date") else None
        except ValueError:
            return _invalid_input("Invalid date: dates are expected as YYYY-MM-DD.")
        end = end or datetime.now(UTC).date()
        start = start or end - timedelta(days=1)
        if end < start or end - start > timedelta(days=MAX_CHANGES_DAYS):
            return _invalid_input("Invalid date range: Should be a range no longer than 14 days.")
        ids = self.catalogue.changed_ids(start, end)
        offset = (page - 1) * CHANGES_PAGE_SIZE
        return Response(
            200,
            {
                "results": [
                    {"id": mid, "adult": False} for mid in ids[offset : offset + CHANGES_PAGE_SIZE]
                ],
                "page": page,
                "total_pages": math.ceil(len(ids) / CHANGES_PAGE_SIZE),
                "total_results": len(ids),
            },
        )

    def _image(self, params: dict[str, str]) -> Response:
        """A placeholder poster for any image path (image.tmdb.org's ``/t/p/{size}{path}``)."""
        if self._titles is None:
            self._titles = {
                m[key]: m["title"]
                for m in self.catalogue.movies.values()
                for key in ("poster_path", "backdrop_path")
                if m.get(key)
            }
        svg = poster_svg(params["path"], params["size"], self._titles.get(params["path"]))
        if svg is None:
            return _not_found()
        headers = {"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"}
        return Response(200, svg, headers)

    # --- dev control endpoints -------------------------------------------------------------------

    def _dev_touch(self, params: dict[str, str], query: Mapping[str, str], body: bytes) -> Response:
        movie_id = int(params["id"])
        if movie_id not in self.catalogue.movies:
            return _not_found()
        return Response(200, self.catalogue.touch(movie_id))

    def _dev_malform(
        self, params: dict[str, str], query: Mapping[str, str], body: bytes
    ) -> Response:
        movie_id = int(params["id"])
        if movie_id not in self.catalogue.movies:
            return _not_found()
        self.catalogue.malform(movie_id)
        return Response(200, {"success": True, "malformed": movie_id})

    def _dev_reset(self, params: dict[str, str], query: Mapping[str, str], body: bytes) -> Response:
        self.reset()
        return Response(200, {"success": True})

    def _dev_faults(
        self, params: dict[str, str], query: Mapping[str, str], body: bytes
    ) -> Response:
        """``POST /_dev/faults?status=429&count=2&retry_after=1`` (or the same as a JSON body)."""
        options: dict[str, Any] = dict(query)
        if body.strip():
            try:
                options.update(json.loads(body))
            except ValueError:
                return _invalid_input("Body must be JSON.")
        try:
            status = int(options.get("status", 500))
            count = int(options.get("count", 1))
            retry_after = options.get("retry_after")
            retry = None if retry_after in (None, "") else float(retry_after)
        except (TypeError, ValueError):
            return _invalid_input()
        self.inject_faults(status, count, retry)
        return Response(200, {"success": True, "queued": count})

    def _dev_stats(self, params: dict[str, str], query: Mapping[str, str], body: bytes) -> Response:
        return Response(200, self.stats())

    def _dev_requests(
        self, params: dict[str, str], query: Mapping[str, str], body: bytes
    ) -> Response:
        with self._lock:
            return Response(200, {"requests": list(self.request_log)})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per response and TCP_NODELAY: otherwise Nagle plus delayed ACKs add
    # ~40 ms to every keep-alive request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server_version = "movierec-tmdb-dev/1.0"
    app: DevApp  # set on a per-server subclass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.app.handle(self.command, self.path, self.headers, body)
        if isinstance(response.body, bytes):  # an image
            payload = response.body
        else:
            payload = json.dumps(response.body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json;charset=utf-8", **response.headers}
        self.send_response(response.status)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; ``/_dev/stats`` and the request log cover it."""


class DevServer:
    """Threaded dev server; ``start()`` returns the API root (``http://127.0.0.1:PORT/3``).

    Usable as a context manager (``with DevServer(cat) as server: server.base_url``). Port 0
    picks a free port. Without a catalogue it generates 1000 movies with seed 42. Extra keyword
    arguments (``latency_ms``, ``require_auth``, ``api_key``, ``read_token``, ``seed``) go to
    :class:`DevApp`.
    """

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: float | None = None,
        error_rate: float = 0.0,
        **app_options: Any,
    ) -> None:
        self.catalogue = catalogue if catalogue is not None else Catalogue.generate(1000, 42)
        self.app = DevApp(
            self.catalogue, rate_limit=rate_limit, error_rate=error_rate, **app_options
        )
        self.host = host
        self.port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server is not running")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/3"

    def start(self) -> str:
        if self._httpd is None:
            handler = type("Handler", (_Handler,), {"app": self.app})
            self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
            self._httpd.daemon_threads = True
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},  # stop() returns within 50 ms
                name="tmdb-devserver",
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._httpd = None
            self._thread = None

    # conveniences mirroring the /_dev endpoints
    def inject_faults(self, status: int, count: int = 1, retry_after: float | None = None) -> None:
        self.app.inject_faults(status, count, retry_after)

    def stats(self) -> dict[str, Any]:
        return self.app.stats()

    @property
    def request_log(self) -> list[dict[str, Any]]:
        return list(self.app.request_log)

    def reset(self) -> None:
        self.app.reset()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
