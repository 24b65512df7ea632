"""TMDb sync: idempotent bulk upserts, one ``SyncRun`` per job, per-job Redis locks.

Every job has the same shape: *begin* (take the job's lock, record a running ``SyncRun``),
*collect* the TMDb ids to fetch (a few list requests), *plan* them as chunks, run each chunk
(fetch full details concurrently, upsert them in one transaction together with the run's
counters) and *finish* (write trending entries, set the status, release the lock, bump the
trending cache version). Chunks run inline here or as Celery tasks (``tasks.sync``) through the
``dispatch`` argument, so the command, the demo and the workers share one code path.

Why it is safe to retry and to run twice:

- upserts are ``INSERT ... ON CONFLICT (tmdb_id) DO UPDATE``; M2M rows and credits of a movie
  are replaced in the same transaction, after the movie's row lock is held;
- a chunk's writes and its counting commit together, and ``SyncRun.chunks_done`` records which
  chunks were counted, so a chunk redelivered after a worker died is neither lost nor counted
  twice; the chunk that completes the run closes it;
- a redelivered coordinator task finds its run by ``task_id`` and re-dispatches what is missing;
- a second run of the same job while one is running is recorded as ``skipped``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import psycopg
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django_redis import get_redis_connection

from movies.models import Credit, Genre, Keyword, Movie, Person, SyncRun, TrendingEntry
from movies.tmdb import (
    TRANSIENT_ERRORS,
    NullRateLimiter,
    RedisTokenBucket,
    TmdbClient,
    TmdbError,
    TmdbGenre,
    TmdbMovieDetail,
    TmdbNotFound,
    TmdbPayloadError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Job kinds, as stored in ``SyncRun.kind``.
KIND_GENRES = "genres"
KIND_TRENDING_DAY = "trending_day"
KIND_TRENDING_WEEK = "trending_week"
KIND_POPULAR = "popular"
KIND_DISCOVER = "discover"
KIND_MOVIE = "movie"
KIND_CHANGES = "changes"
KIND_STALE = "stale"
KINDS = (
    KIND_GENRES,
    KIND_TRENDING_DAY,
    KIND_TRENDING_WEEK,
    KIND_POPULAR,
    KIND_DISCOVER,
    KIND_MOVIE,
    KIND_CHANGES,
    KIND_STALE,
)

#: Cache key the recommendations read: every trending/recommendation cache key embeds it,
#: so bumping it after a sync retires all of them at once.
TRENDING_VERSION_KEY = "trending:version"
MAX_ERROR_SAMPLES = 20
_LOCK_PREFIX = "movierec:lock:"  # the namespace of movierec.locks.job_lock

Progress = Callable[[int, int], None]
"""``progress(done, total)``: movies handled so far out of those planned."""
Dispatch = Callable[[int, list[tuple[int, list[int]]]], None]
"""``dispatch(run_id, [(chunk_index, tmdb_ids), ...])``: hand chunks to workers."""


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


# --- upserts -----------------------------------------------------------------------------------


@dataclasses.dataclass
class UpsertResult:
    """Counts of one upsert (or a sum of several); ``errors`` are samples for the run."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.errors.extend(other.errors[: max(0, MAX_ERROR_SAMPLES - len(self.errors))])

    def fail(self, tmdb_id: int | None, error: object) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERROR_SAMPLES:
            self.errors.append({"tmdb_id": tmdb_id, "error": str(error)[:500]})

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` as JSON sees it (tuples as lists), without its deep copies:
    hashing a chunk with ``asdict`` cost about a third of a fresh ingest's upsert CPU."""
    cls = type(value)
    if cls is str or cls is int or cls is float or value is None or cls is bool:
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    names = _FIELD_NAMES.get(cls)
    if names is None and dataclasses.is_dataclass(cls):
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def movie_content_hash(detail: TmdbMovieDetail) -> str:
    """SHA-256 of the parsed payload: equal hashes mean TMDb sent nothing new.

    The digest is that of ``json.dumps(dataclasses.asdict(detail), sort_keys=True,
    default=str, separators=(",", ":"))``, so hashes stored by earlier versions still match.
    """
    raw = json.dumps(_plain(detail), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


_MOVIE_FIELDS = [
    "imdb_id",
    "title",
    "original_title",
    "overview",
    "tagline",
    "release_date",
    "year",
    "runtime",
    "original_language",
    "status",
    "poster_path",
    "backdrop_path",
    "popularity",
    "vote_average",
    "vote_count",
    "content_hash",
    "last_synced_at",
    "updated_at",
]
_MOVIE_CLEAN_EXCLUDE = [
    "search_vector",
    "created_at",
    "updated_at",
    "rating_sum",
    "rating_count",
    "genres",
    "keywords",
]


def _movie_from_detail(detail: TmdbMovieDetail, content_hash: str, now: datetime) -> Movie:
    runtime = detail.runtime if detail.runtime and 0 < detail.runtime <= 32767 else None
    return Movie(
        tmdb_id=detail.id,
        imdb_id=(detail.imdb_id or "")[:16],
        title=detail.title[:500],
        original_title=detail.original_title[:500],
        overview=detail.overview,
        tagline=detail.tagline[:500],
        release_date=detail.release_date,
        year=detail.release_date.year if detail.release_date else None,
        runtime=runtime,
        original_language=detail.original_language[:16],
        status=detail.status[:32],
        poster_path=(detail.poster_path or "")[:255],
        backdrop_path=(detail.backdrop_path or "")[:255],
        popularity=detail.popularity,
        vote_average=min(10.0, max(0.0, detail.vote_average)),
        vote_count=max(0, detail.vote_count),
        keywords_text=" ".join(k.name for k in detail.keywords),
        content_hash=content_hash,
        last_synced_at=now,
    )


def _is_deadlock(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "40P01"


def _retrying_deadlocks(fn: Callable[[], T], attempts: int = 4) -> T:
    """Run ``fn`` (one transaction); rerun it when PostgreSQL picked it as a deadlock victim."""
    for attempt in range(attempts):
        try:
            return fn()
        except OperationalError as exc:
            if not _is_deadlock(exc) or attempt == attempts - 1:
                raise
            logger.warning("sync: deadlock, retrying the transaction (attempt %s)", attempt + 1)
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


_GENRES_LOCK_KEY = 0x47454E52  # "GENR": one advisory lock for every genre writer


def _genres_read(wanted: dict[int, str]) -> tuple[dict[int, str], dict[str, int | None]]:
    """Stored genres by ``tmdb_id`` and, for the wanted names, by name (``tmdb_id`` or None)."""
    existing = dict(Genre.objects.filter(tmdb_id__in=wanted).values_list("tmdb_id", "name"))
    by_name = dict(
        Genre.objects.filter(name__in=list(wanted.values())).values_list("name", "tmdb_id")
    )
    return existing, by_name


def genres_upsert(*, genres: Iterable[TmdbGenre]) -> tuple[dict[int, int], UpsertResult]:
    """Upsert genres by ``tmdb_id``; return ``{tmdb_id: pk}`` and the counts.

    Genres that exist by name only (from an import) are claimed first, since names are unique.
    Genre has two unique keys (``tmdb_id`` and ``name``) and ``ON CONFLICT`` arbitrates only
    one, so concurrent sync chunks inserting the same new genre collided on the name. Writers
    therefore take one transaction-scoped advisory lock and re-read before writing; the common
    case (every genre already stored) reads once and takes no lock. Must run in a transaction.
    """
    wanted = {g.id: g.name[:64] for g in genres}
    result = UpsertResult()
    if not wanted:
        return {}, result
    existing, by_name = _genres_read(wanted)
    if any(existing.get(tid) != name for tid, name in wanted.items()):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_GENRES_LOCK_KEY])
        existing, by_name = _genres_read(wanted)  # what the lock's previous holder committed
    unclaimed = {
        name: tid for tid, name in wanted.items() if tid not in existing and name in by_name
    }
    claimed = set()
    for genre in Genre.objects.filter(tmdb_id__isnull=True, name__in=list(unclaimed)):
        genre.tmdb_id = unclaimed[genre.name]
        genre.save(update_fields=["tmdb_id"])
        existing[genre.tmdb_id] = genre.name
        claimed.add(genre.tmdb_id)
    to_write = []
    for tid, name in sorted(wanted.items()):
        if existing.get(tid) == name:
            if tid in claimed:
                result.updated += 1
            else:
                result.unchanged += 1
            continue
        if tid in existing:
            result.updated += 1
        else:
            result.created += 1
        genre = Genre(tmdb_id=tid, name=name)
        genre.clean_fields(exclude=["id"])
        to_write.append(genre)
    if to_write:
        Genre.objects.bulk_create(
            to_write, update_conflicts=True, unique_fields=["tmdb_id"], update_fields=["name"]
        )
    pks = dict(Genre.objects.filter(tmdb_id__in=wanted).values_list("tmdb_id", "pk"))
    return pks, result


@contextlib.contextmanager
def _binding_cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A psycopg cursor with server-side binding on Django's connection (same transaction).

    Django's own cursors bind client-side, formatting every value of an array into the SQL
    text in Python; for the sync's column arrays that cost more CPU than PostgreSQL spent on
    the statements. Database errors are wrapped as Django's (deadlock retries rely on that).
    """
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _upsert_by_tmdb_id(
    model: type[Any], fields: Sequence[str], wanted: dict[int, tuple[Any, ...]]
) -> dict[int, int]:
    """Insert or update rows keyed by ``tmdb_id`` (``wanted``: values of ``fields``); return
    ``{tmdb_id: pk}`` for all of them.

    Only new or changed rows are written, in ``tmdb_id`` order: popular actors appear in many
    concurrent chunks, and an unconditional upsert would make those chunks queue on their
    row locks.
    """
    if not wanted:
        return {}
    qn = connection.ops.quote_name
    opts = model._meta
    columns = [opts.get_field(name) for name in ("tmdb_id", *fields)]
    table, names = qn(opts.db_table), [qn(field.column) for field in columns]
    pks: dict[int, int] = {}
    existing: dict[int, tuple[Any, ...]] = {}
    with _binding_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(names)}, {qn(opts.pk.column)} FROM {table}"
            f" WHERE {names[0]} = ANY(%s::{columns[0].db_type(connection)}[])",
            [list(wanted)],
        )
        for tmdb_id, *values, pk in cursor:
            pks[tmdb_id] = pk
            existing[tmdb_id] = tuple(values)
        to_write = sorted(tid for tid, values in wanted.items() if existing.get(tid) != values)
        if to_write:
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
            updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in names[1:])
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
                f" ON CONFLICT ({names[0]}) DO UPDATE SET {updates}"
                f" RETURNING {names[0]}, {qn(opts.pk.column)}",
                [to_write, *([wanted[tid][i] for tid in to_write] for i in range(len(fields)))],
            )
            pks.update(cursor.fetchall())
    return pks


def _keywords_upsert(details: Sequence[TmdbMovieDetail]) -> dict[int, int]:
    wanted = {k.id: (k.name[:255],) for d in details if d.keywords_included for k in d.keywords}
    return _upsert_by_tmdb_id(Keyword, ("name",), wanted)


def _people_upsert(details: Sequence[TmdbMovieDetail]) -> dict[int, int]:
    wanted: dict[int, tuple[Any, ...]] = {}
    for detail in details:
        if detail.credits_included:
            for person in (*detail.cast, *detail.crew):
                wanted[person.person_id] = (person.name[:255], (person.profile_path or "")[:255])
    return _upsert_by_tmdb_id(Person, ("name", "profile_path"), wanted)


_CREDIT_COLUMNS = ("movie", "person", "kind", "character", "job", "department", "order")


def _credit_rows(
    detail: TmdbMovieDetail, movie_pk: int, people: dict[int, int]
) -> list[tuple[Any, ...]]:
    """The movie's credits as rows in ``_CREDIT_COLUMNS`` order, one per distinct role."""
    seen: set[tuple[Any, ...]] = set()
    rows = []
    cast_kind, crew_kind = Credit.Kind.CAST.value, Credit.Kind.CREW.value
    for cast in detail.cast:
        person, character = people[cast.person_id], cast.character[:500]
        key = (person, cast_kind, character, "")
        if key not in seen:
            seen.add(key)
            order = min(max(cast.order, 0), 32767)
            rows.append((movie_pk, person, cast_kind, character, "", "", order))
    for index, crew in enumerate(detail.crew):
        person, job = people[crew.person_id], crew.job[:128]
        key = (person, crew_kind, "", job)
        if key not in seen:
            seen.add(key)
            rows.append(
                (movie_pk, person, crew_kind, "", job, crew.department[:128], min(index, 32767))
            )
    return rows


def _insert_ignoring_conflicts(
    model: type[Any], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``INSERT ... SELECT FROM unnest(<one array per column>) ON CONFLICT DO NOTHING``.

    What ``bulk_create(ignore_conflicts=True)`` does, in one statement with one parameter per
    column and no model instances: for credits and link rows (about 20 per movie) building
    and compiling instances cost more CPU than PostgreSQL spent inserting them.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    names = ", ".join(qn(field.column) for field in columns)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
    with _binding_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(opts.db_table)} ({names}) SELECT * FROM unnest({arrays})"
            " ON CONFLICT DO NOTHING",
            [list(values) for values in zip(*rows, strict=True)],
        )


_UPSERT_LOCK_NAMESPACE = 0x4D52  # "MR": keeps our advisory locks apart from other users'


def _lock_tmdb_ids(tmdb_ids: Sequence[int]) -> None:
    """Transaction-scoped advisory locks on these TMDb ids, taken in ascending order so that
    overlapping batches cannot deadlock."""
    if not tmdb_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, t.id)"
            " FROM (SELECT unnest(%s::int[]) AS id ORDER BY 1) AS t",
            [_UPSERT_LOCK_NAMESPACE, list(tmdb_ids)],
        )


def movies_upsert_from_tmdb(
    *, details: Sequence[TmdbMovieDetail], synced_at: datetime | None = None
) -> UpsertResult:
    """Store full TMDb details in bulk, idempotently; return created/updated/unchanged/failed.

    A movie whose payload hash equals the stored ``content_hash`` is only marked synced.
    Genres, keywords and credits are replaced for changed movies, but only the sections the
    payload carried (``keywords_included`` / ``credits_included``): nothing is wiped that was
    not received. Runs in one transaction (a savepoint when the caller has one open).
    """
    now = synced_at or timezone.now()
    by_id = {d.id: d for d in details}
    hashes = {tid: movie_content_hash(d) for tid, d in by_id.items()}
    result = UpsertResult()
    with transaction.atomic():
        # Serialise concurrent upserts of the same movies (two jobs, or a redelivered chunk):
        # the stored state read below then includes the other job's committed rows, so each
        # movie is counted as created exactly once across jobs.
        _lock_tmdb_ids(sorted(by_id))
        existing = dict(
            Movie.objects.filter(tmdb_id__in=by_id).values_list("tmdb_id", "content_hash")
        )
        unchanged = sorted(tid for tid in by_id if existing.get(tid) == hashes[tid])
        changed: list[TmdbMovieDetail] = []
        rows: dict[int, Movie] = {}
        for tid in sorted(set(by_id) - set(unchanged)):
            movie = _movie_from_detail(by_id[tid], hashes[tid], now)
            try:
                movie.clean_fields(exclude=_MOVIE_CLEAN_EXCLUDE)
            except ValidationError as exc:
                result.fail(tid, exc)
                continue
            changed.append(by_id[tid])
            rows[tid] = movie

        if unchanged:
            Movie.objects.filter(tmdb_id__in=unchanged).update(last_synced_at=now)
            result.unchanged = len(unchanged)
        if not changed:
            return result
        named_genres = {g.id: g for d in changed for g in d.genres}
        genre_pks, _ = genres_upsert(genres=named_genres.values())
        unnamed = {gid for d in changed for gid in d.genre_ids} - set(genre_pks)
        if unnamed:
            genre_pks.update(Genre.objects.filter(tmdb_id__in=unnamed).values_list("tmdb_id", "pk"))
        keyword_pks = _keywords_upsert(changed)
        people = _people_upsert(changed)

        with_keywords = [rows[d.id] for d in changed if d.keywords_included]
        without_keywords = [rows[d.id] for d in changed if not d.keywords_included]
        for batch, fields in (
            (with_keywords, [*_MOVIE_FIELDS, "keywords_text"]),
            (without_keywords, _MOVIE_FIELDS),
        ):
            if batch:
                Movie.objects.bulk_create(
                    batch, update_conflicts=True, unique_fields=["tmdb_id"], update_fields=fields
                )
        movie_pks = dict(
            Movie.objects.filter(tmdb_id__in=rows).values_list("tmdb_id", "pk")
        )  # bulk_create's pks are unreliable for rows that conflicted

        genre_through = Movie.genres.through
        genre_through.objects.filter(movie_id__in=movie_pks.values()).delete()
        _insert_ignoring_conflicts(
            genre_through,
            ("movie", "genre"),
            [
                (movie_pks[d.id], genre_pks[gid])
                for d in changed
                for gid in dict.fromkeys(d.genre_ids or [g.id for g in d.genres])
                if gid in genre_pks
            ],
        )
        keyword_movies = [movie_pks[d.id] for d in changed if d.keywords_included]
        if keyword_movies:
            keyword_through = Movie.keywords.through
            keyword_through.objects.filter(movie_id__in=keyword_movies).delete()
            _insert_ignoring_conflicts(
                keyword_through,
                ("movie", "keyword"),
                [
                    (movie_pks[d.id], keyword_pks[k.id])
                    for d in changed
                    if d.keywords_included
                    for k in dict.fromkeys(d.keywords)
                ],
            )
        credit_movies = [d for d in changed if d.credits_included]
        if credit_movies:
            Credit.objects.filter(movie_id__in=[movie_pks[d.id] for d in credit_movies]).delete()
            _insert_ignoring_conflicts(
                Credit,
                _CREDIT_COLUMNS,
                [row for d in credit_movies for row in _credit_rows(d, movie_pks[d.id], people)],
            )
    for detail in changed:
        if detail.id in existing:
            result.updated += 1
        else:
            result.created += 1
    return result


def movie_upsert_from_tmdb(*, detail: TmdbMovieDetail) -> Movie:
    """Store one movie's full details (see :func:`movies_upsert_from_tmdb`); return it."""
    result = movies_upsert_from_tmdb(details=[detail])
    if result.failed:
        raise ValidationError(result.errors[0]["error"])
    return Movie.objects.get(tmdb_id=detail.id)


# --- fetching ----------------------------------------------------------------------------------


def movie_details_fetch(
    *, client: TmdbClient, tmdb_ids: Sequence[int], threads: int | None = None
) -> tuple[list[TmdbMovieDetail], UpsertResult]:
    """Fetch full details (credits + keywords appended) concurrently.

    Missing (404) and malformed movies are counted as failed in the returned result; transient
    errors (after the client's own retries) propagate so the task is retried as a whole.
    """
    failures = UpsertResult()
    if not tmdb_ids:
        return [], failures

    def fetch(tmdb_id: int) -> TmdbMovieDetail | TmdbError:
        try:
            return client.movie(tmdb_id)
        except (TmdbNotFound, TmdbPayloadError) as exc:
            return exc

    workers = max(1, min(threads or settings.TMDB_SYNC_THREADS, len(tmdb_ids)))
    if workers == 1:
        outcomes = [fetch(tid) for tid in tmdb_ids]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tmdb-fetch") as pool:
            outcomes = list(pool.map(fetch, tmdb_ids))
    details = []
    for tmdb_id, outcome in zip(tmdb_ids, outcomes, strict=True):
        if isinstance(outcome, TmdbError):
            failures.fail(tmdb_id, outcome)
        else:
            details.append(outcome)
    return details, failures


# --- runs: begin, plan, chunks, finish ---------------------------------------------------------


def _lock_name(kind: str, params: dict[str, Any]) -> str:
    if kind == KIND_MOVIE:
        return f"sync:{kind}:{params['tmdb_id']}"
    return f"sync:{kind}"


_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _lock_acquire(name: str, token: str) -> bool:
    connection = get_redis_connection("default")
    timeout = settings.TMDB_SYNC_LOCK_TIMEOUT
    key = _LOCK_PREFIX + name
    if connection.set(key, token, nx=True, ex=timeout):
        return True
    held = connection.get(key)
    return held is not None and held.decode() == token


def _lock_release(name: str, token: str) -> None:
    connection = get_redis_connection("default")
    connection.eval(_RELEASE_LUA, 1, _LOCK_PREFIX + name, token)


def sync_run_begin(*, kind: str, params: dict[str, Any], task_id: str = "") -> SyncRun:
    """Record a run and take its job's lock; a run that cannot is saved as ``skipped``.

    With a ``task_id`` already used by a run (a redelivered or retried task), that run is
    returned instead, so the task resumes it.
    """
    if kind not in KINDS:
        raise ValidationError({"kind": f"Unknown sync kind {kind!r}."})
    if task_id:
        previous = SyncRun.objects.filter(task_id=task_id).first()
        if previous is not None:
            return previous
    run = SyncRun(kind=kind, params=params, task_id=task_id)
    run.full_clean()
    run.save()
    lock = _lock_name(kind, params)
    if not _lock_acquire(lock, str(run.pk)):
        run.status = SyncRun.Status.SKIPPED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        return run
    if kind != KIND_MOVIE:
        # We hold the lock, so any other "running" run of this job lost it (its worker died
        # and the lock expired): close it for the record.
        SyncRun.objects.filter(kind=kind, status=SyncRun.Status.RUNNING).exclude(pk=run.pk).update(
            status=SyncRun.Status.FAILED,
            finished_at=timezone.now(),
            error_samples=[{"tmdb_id": None, "error": "abandoned: its lock expired"}],
        )
    return run


def _chunks(run: SyncRun) -> list[tuple[int, list[int]]]:
    size = int(run.params.get("chunk_size") or settings.TMDB_SYNC_CHUNK_SIZE)
    ids = list(run.tmdb_ids)
    return [(i, ids[start : start + size]) for i, start in enumerate(range(0, len(ids), size))]


def sync_run_plan(
    *, run: SyncRun, tmdb_ids: Sequence[int], failures: UpsertResult | None = None
) -> list[tuple[int, list[int]]]:
    """Fix the ids a run will fetch and its chunks; list-level failures are counted now."""
    run.tmdb_ids = list(dict.fromkeys(tmdb_ids))
    run.params = {**run.params, "chunk_size": settings.TMDB_SYNC_CHUNK_SIZE}
    chunks = _chunks(run)
    run.chunks_total = len(chunks)
    if failures is not None:
        run.failed += failures.failed
        run.error_samples = (run.error_samples + failures.errors)[:MAX_ERROR_SAMPLES]
    run.save(update_fields=["tmdb_ids", "params", "chunks_total", "failed", "error_samples"])
    return chunks


def sync_run_pending_chunks(*, run: SyncRun) -> list[tuple[int, list[int]]]:
    done = set(run.chunks_done)
    return [(index, ids) for index, ids in _chunks(run) if index not in done]


def _chunk_record(run_id: int, index: int, result: UpsertResult) -> bool:
    """Count a chunk once (inside the chunk's transaction); True when the run is complete."""
    run = SyncRun.objects.select_for_update().get(pk=run_id)
    if index in run.chunks_done:
        return len(run.chunks_done) >= run.chunks_total
    run.created += result.created
    run.updated += result.updated
    run.unchanged += result.unchanged
    run.failed += result.failed
    run.error_samples = (run.error_samples + result.errors)[:MAX_ERROR_SAMPLES]
    run.chunks_done = [*run.chunks_done, index]
    run.save(
        update_fields=["created", "updated", "unchanged", "failed", "error_samples", "chunks_done"]
    )
    return len(run.chunks_done) >= run.chunks_total


def sync_chunk_run(
    *,
    run_id: int,
    index: int,
    tmdb_ids: Sequence[int],
    client: TmdbClient | None = None,
    fetched: tuple[list[TmdbMovieDetail], UpsertResult] | None = None,
) -> UpsertResult | None:
    """Fetch and store one chunk of a run, count it, and close the run if it was the last.

    ``fetched`` is the chunk's :func:`movie_details_fetch` result when the caller prefetched
    it. Returns None when the chunk had already been counted (a redelivered message).
    """
    run = SyncRun.objects.get(pk=run_id)
    if run.status != SyncRun.Status.RUNNING:
        return None
    if index in run.chunks_done:
        if len(run.chunks_done) >= run.chunks_total:
            sync_run_finish(run_id=run_id)
        return None
    if fetched is None:
        client = client or tmdb_client_from_settings()
        fetched = movie_details_fetch(client=client, tmdb_ids=tmdb_ids)
    details, failures = fetched

    def write() -> tuple[UpsertResult, bool]:
        with transaction.atomic():
            result = movies_upsert_from_tmdb(details=details)
            result.add(failures)
            return result, _chunk_record(run_id, index, result)

    result, complete = _retrying_deadlocks(write)
    if complete:
        sync_run_finish(run_id=run_id)
    return result


def sync_chunk_fail(*, run_id: int, index: int, tmdb_ids: Sequence[int], error: object) -> None:
    """Count a chunk whose retries are exhausted as failed, so its run still closes."""
    result = UpsertResult()
    for tmdb_id in tmdb_ids:
        result.fail(tmdb_id, error)
    with transaction.atomic():
        complete = _chunk_record(run_id, index, result)
    if complete:
        sync_run_finish(run_id=run_id)


def _trending_entries_replace(run: SyncRun, synced_at: datetime) -> None:
    window = run.params["window"]
    pks = dict(Movie.objects.filter(tmdb_id__in=run.tmdb_ids).values_list("tmdb_id", "pk"))
    entries = [
        TrendingEntry(window=window, movie_id=pks[tid], rank=rank, synced_at=synced_at)
        for rank, tid in enumerate((t for t in run.tmdb_ids if t in pks), start=1)
    ]
    # Two runs of one window may finish at once: without the lock the later DELETE misses
    # the rows the earlier INSERT is committing, and the INSERT hits the unique constraints.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_UPSERT_LOCK_NAMESPACE, window]
        )
    TrendingEntry.objects.filter(window=window).delete()
    TrendingEntry.objects.bulk_create(entries)


def sync_run_finish(*, run_id: int) -> SyncRun:
    """Close a run once: kind-specific final writes, status, lock release, cache bump."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.status != SyncRun.Status.RUNNING:
            return run
        now = timezone.now()
        if run.kind in (KIND_TRENDING_DAY, KIND_TRENDING_WEEK):
            _trending_entries_replace(run, now)
        stored = run.created + run.updated + run.unchanged
        if not run.failed:
            run.status = SyncRun.Status.SUCCEEDED
        elif stored:
            run.status = SyncRun.Status.PARTIAL
        else:
            run.status = SyncRun.Status.FAILED
        run.finished_at = now
        run.save(update_fields=["status", "finished_at"])
    _lock_release(_lock_name(run.kind, run.params), str(run.pk))
    if run.created or run.updated or run.kind in (KIND_TRENDING_DAY, KIND_TRENDING_WEEK):
        transaction.on_commit(trending_cache_bump)
    return run


def sync_run_fail(*, run: SyncRun, error: object) -> None:
    """Fail a run that stopped with an error, keep the error as a sample, free its lock."""
    run.refresh_from_db()
    if run.status != SyncRun.Status.RUNNING:
        return
    run.status = SyncRun.Status.FAILED
    run.finished_at = timezone.now()
    sample = {"tmdb_id": None, "error": str(error)[:500] or type(error).__name__}
    run.error_samples = [*run.error_samples, sample][-MAX_ERROR_SAMPLES:]
    run.save(update_fields=["status", "finished_at", "error_samples"])
    _lock_release(_lock_name(run.kind, run.params), str(run.pk))


def sync_run_abort(*, task_id: str, error: object) -> None:
    """Fail the running run of a coordinator task that gave up (retries exhausted)."""
    run = SyncRun.objects.filter(task_id=task_id, status=SyncRun.Status.RUNNING).first()
    if run is not None:
        sync_run_fail(run=run, error=error)


def _execute(
    run: SyncRun,
    collect: Callable[[], tuple[list[int], UpsertResult]],
    *,
    client: TmdbClient,
    dispatch: Dispatch | None,
    progress: Progress | None,
) -> SyncRun:
    """Plan (unless resuming) and run or dispatch the chunks of a running run."""
    if run.status != SyncRun.Status.RUNNING:
        return run
    if run.chunks_total == 0 and not run.tmdb_ids:
        try:
            tmdb_ids, failures = collect()
        except Exception as exc:
            if dispatch is None or not isinstance(exc, TRANSIENT_ERRORS):
                sync_run_fail(run=run, error=exc)
            raise
        sync_run_plan(run=run, tmdb_ids=tmdb_ids, failures=failures)
    pending = sync_run_pending_chunks(run=run)
    if not pending:
        return sync_run_finish(run_id=run.pk)
    if dispatch is not None:
        dispatch(run.pk, pending)
        run.refresh_from_db()
        return run
    total = len(run.tmdb_ids)
    done = total - sum(len(ids) for _, ids in pending)
    if progress:
        progress(done, total)
    # In-process: fetch the next chunk while this one is written (HTTP and PostgreSQL overlap).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tmdb-prefetch") as prefetcher:

        def prefetch(ids: list[int]) -> Any:
            return prefetcher.submit(movie_details_fetch, client=client, tmdb_ids=ids)

        upcoming = prefetch(pending[0][1])
        for position, (index, ids) in enumerate(pending):
            try:
                fetched = upcoming.result()
                if position + 1 < len(pending):
                    upcoming = prefetch(pending[position + 1][1])
                sync_chunk_run(run_id=run.pk, index=index, tmdb_ids=ids, fetched=fetched)
            except Exception as exc:
                upcoming.cancel()
                sync_run_fail(run=run, error=exc)
                raise
            done += len(ids)
            if progress:
                progress(done, total)
    run.refresh_from_db()
    return run


def _page_ids(pages: Iterable[Any]) -> tuple[list[int], UpsertResult]:
    ids: list[int] = []
    failures = UpsertResult()
    for page in pages:
        ids.extend(movie.id for movie in page.results)
        for error in page.errors:
            failures.fail(None, error)
    return list(dict.fromkeys(ids)), failures


# --- the jobs ----------------------------------------------------------------------------------


def genres_sync(*, client: TmdbClient | None = None, task_id: str = "") -> SyncRun:
    """Upsert TMDb's genre list (one request)."""
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(kind=KIND_GENRES, params={}, task_id=task_id)
    if run.status != SyncRun.Status.RUNNING:
        return run
    try:
        genres = client.genres()
        with transaction.atomic():
            _, result = genres_upsert(genres=genres)
            SyncRun.objects.filter(pk=run.pk).update(
                created=result.created, updated=result.updated, unchanged=result.unchanged
            )
    except Exception as exc:
        sync_run_fail(run=run, error=exc)
        raise
    return sync_run_finish(run_id=run.pk)


def trending_sync(
    *,
    window: str,
    pages: int | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Store the full details of TMDb's trending movies and their ranks (``TrendingEntry``)."""
    if window not in ("day", "week"):
        raise ValidationError({"window": "Window must be 'day' or 'week'."})
    pages = pages or settings.TMDB_TRENDING_PAGES
    client = client or tmdb_client_from_settings()
    kind = KIND_TRENDING_DAY if window == "day" else KIND_TRENDING_WEEK
    run = sync_run_begin(kind=kind, params={"window": window, "pages": pages}, task_id=task_id)

    def collect() -> tuple[list[int], UpsertResult]:
        return _page_ids(client.iter_pages(client.trending, max_pages=pages, window=window))

    return _execute(run, collect, client=client, dispatch=dispatch, progress=progress)


def _list_pages(pages: int | None) -> int:
    """How many list pages to walk: TMDB_POPULAR_PAGES by default, TMDb serves 1..500."""
    pages = settings.TMDB_POPULAR_PAGES if pages is None else pages
    if not 1 <= pages <= 500:
        raise ValidationError({"pages": "Pages must be between 1 and 500."})
    return pages


def popular_sync(
    *,
    pages: int | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Store the full details of the movies on TMDb's first ``pages`` popular pages."""
    pages = _list_pages(pages)
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(kind=KIND_POPULAR, params={"pages": pages}, task_id=task_id)

    def collect() -> tuple[list[int], UpsertResult]:
        return _page_ids(client.iter_pages(client.popular, max_pages=pages))

    return _execute(run, collect, client=client, dispatch=dispatch, progress=progress)


#: ``/discover/movie`` filters a discover job may use (TMDb's names); anything else is refused
#: rather than silently sent, so a typo cannot turn a targeted crawl into "everything".
DISCOVER_FILTERS = frozenset(
    {
        "sort_by", "with_genres", "without_genres", "with_keywords", "with_original_language",
        "primary_release_year", "primary_release_date.gte", "primary_release_date.lte",
        "release_date.gte", "release_date.lte", "year", "region",
        "vote_average.gte", "vote_average.lte", "vote_count.gte", "vote_count.lte",
        "with_runtime.gte", "with_runtime.lte",
    }
)  # fmt: skip


def discover_sync(
    *,
    pages: int | None = None,
    filters: dict[str, str] | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Store the full details of the movies on ``/discover/movie`` pages.

    Popular stops at TMDb's page 500 (10,000 movies); discover slices the catalogue (by year,
    genre, language...) so a large catalogue is reached one slice at a time.
    """
    pages = _list_pages(pages)
    filters = dict(filters or {})
    unknown = sorted(set(filters) - DISCOVER_FILTERS)
    if unknown:
        raise ValidationError({"filters": f"Unknown discover filter(s): {', '.join(unknown)}."})
    filters.setdefault("sort_by", "popularity.desc")
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(
        kind=KIND_DISCOVER, params={"pages": pages, "filters": filters}, task_id=task_id
    )

    def collect() -> tuple[list[int], UpsertResult]:
        return _page_ids(client.iter_pages(client.discover, max_pages=pages, **filters))

    return _execute(run, collect, client=client, dispatch=dispatch, progress=progress)


def movie_sync(*, tmdb_id: int, client: TmdbClient | None = None, task_id: str = "") -> SyncRun:
    """Store one movie in full now (details, genres, keywords, credits)."""
    if tmdb_id < 1:
        raise ValidationError({"tmdb_id": "TMDb ids are positive."})
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(kind=KIND_MOVIE, params={"tmdb_id": tmdb_id}, task_id=task_id)
    return _execute(
        run, lambda: ([tmdb_id], UpsertResult()), client=client, dispatch=None, progress=None
    )


def changes_since_default(*, now: datetime | None = None) -> date:
    """Where an incremental run starts: the cursor of the last completed one, else yesterday."""
    last = SyncRun.objects.filter(
        kind=KIND_CHANGES,
        status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL],
        cursor__isnull=False,
    ).aggregate(cursor=Max("cursor"))["cursor"]
    if last is not None:
        return last.date()
    return ((now or timezone.now()) - timedelta(days=1)).date()


def changes_sync(
    *,
    since: date | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Refresh the stored movies that TMDb lists in ``/movie/changes`` since ``since``.

    ``since`` defaults to the day of the last completed run's cursor (TMDb's changes are
    day-granular, so one day overlaps; unchanged payloads cost nothing). Movies we do not
    store are ignored: the changes feed covers all of TMDb.
    """
    client = client or tmdb_client_from_settings()
    now = timezone.now()
    start = since or changes_since_default(now=now)
    params = {"since": start.isoformat(), "until": now.date().isoformat()}
    run = sync_run_begin(kind=KIND_CHANGES, params=params, task_id=task_id)
    if run.status == SyncRun.Status.RUNNING and run.cursor is None:
        run.cursor = now
        run.save(update_fields=["cursor"])

    def collect() -> tuple[list[int], UpsertResult]:
        until = date.fromisoformat(run.params["until"])
        changed = list(client.iter_changes(date.fromisoformat(run.params["since"]), until))
        known = set(Movie.objects.filter(tmdb_id__in=changed).values_list("tmdb_id", flat=True))
        return [tid for tid in changed if tid in known], UpsertResult()

    return _execute(run, collect, client=client, dispatch=dispatch, progress=progress)


def stale_refresh(
    *,
    days: int | None = None,
    limit: int | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Refetch movies not synced for ``days`` days (never-synced ones first)."""
    days = settings.TMDB_STALE_DAYS if days is None else days
    limit = limit or settings.TMDB_STALE_LIMIT
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(kind=KIND_STALE, params={"days": days, "limit": limit}, task_id=task_id)

    def collect() -> tuple[list[int], UpsertResult]:
        cutoff = timezone.now() - timedelta(days=days)
        stale = (
            Movie.objects.filter(tmdb_id__isnull=False)
            .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=cutoff))
            .order_by(F("last_synced_at").asc(nulls_first=True), "pk")
            .values_list("tmdb_id", flat=True)[:limit]
        )
        return list(stale), UpsertResult()

    return _execute(run, collect, client=client, dispatch=dispatch, progress=progress)
