"""Idempotent bulk upserts of TMDb payloads, and the concurrent detail fetches that feed them.

Upserts are ``INSERT ... ON CONFLICT (tmdb_id) DO UPDATE``; M2M rows and credits of a movie are
replaced in the same transaction, after the movie's row lock is held, so running one twice or
retrying it is safe.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from movies.models import Credit, Genre, Keyword, Movie, Person
from movies.tmdb import (
    TmdbClient,
    TmdbError,
    TmdbGenre,
    TmdbMovieDetail,
    TmdbNotFound,
    TmdbPayloadError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ERROR_SAMPLES = 20


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


def retrying_deadlocks(fn: Callable[[], T], attempts: int = 4) -> T:
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


def genres_upsert(*, genres: Iterable[TmdbGenre]) -> tuple[dict[int, int], UpsertResult]:
    """Upsert genres by ``tmdb_id``; return ``{tmdb_id: pk}`` and the counts.

    Genres that exist by name only (from an import) are claimed first, since names are unique.
    """
    wanted = {g.id: g.name[:64] for g in genres}
    result = UpsertResult()
    if not wanted:
        return {}, result
    existing = {
        tid: name
        for tid, name in Genre.objects.filter(tmdb_id__in=wanted).values_list("tmdb_id", "name")
    }
    unclaimed = {wanted[tid]: tid for tid in wanted if tid not in existing}
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
