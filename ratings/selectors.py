"""Reads for ratings, reviews, the watchlist and favorites; the GraphQL layer calls these."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING

import psycopg
from django.db import connection, connections
from django.db.models import Count, FloatField, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Cast, TruncDay, TruncHour
from psycopg import sql

from ratings.models import Favorite, NotInterested, Rating, WatchlistEntry

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from users.models import User


def rating_list_for_user(*, user: User) -> QuerySet[Rating]:
    """A user's ratings (private to them); callers order, e.g. newest change first."""
    return Rating.objects.filter(user=user)


def ratings_of_user_for_movies(*, user: User, movie_ids: Iterable[int]) -> dict[int, Rating]:
    """The user's ratings of these movies by movie id, in one query (for ``Movie.myRating``)."""
    return {r.movie_id: r for r in Rating.objects.filter(user=user, movie_id__in=list(movie_ids))}


def review_list() -> QuerySet[Rating]:
    """Ratings that carry a review: public, shown under each movie."""
    return Rating.objects.exclude(review="")


def review_counts_for_movies(*, movie_ids: Iterable[int]) -> dict[int, int]:
    """Number of reviews per movie, one grouped COUNT for all of them."""
    rows = (
        review_list()
        .filter(movie_id__in=list(movie_ids))
        .values("movie_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["movie_id"]: row["n"] for row in rows}


def watchlist_for_user(*, user: User) -> QuerySet[WatchlistEntry]:
    """A user's watchlist entries (private to them)."""
    return WatchlistEntry.objects.filter(user=user)


def favorites_for_user(*, user: User) -> QuerySet[Favorite]:
    """A user's favorite movies (private to them)."""
    return Favorite.objects.filter(user=user)


def watchlisted_movie_ids(*, user: User, movie_ids: Iterable[int]) -> set[int]:
    """Which of ``movie_ids`` are on the user's watchlist, in one query."""
    return set(
        WatchlistEntry.objects.filter(user=user, movie_id__in=list(movie_ids)).values_list(
            "movie_id", flat=True
        )
    )


def favorited_movie_ids(*, user: User, movie_ids: Iterable[int]) -> set[int]:
    """Which of ``movie_ids`` are among the user's favorites, in one query."""
    return set(
        Favorite.objects.filter(user=user, movie_id__in=list(movie_ids)).values_list(
            "movie_id", flat=True
        )
    )


# ------------------------------------------------------ interaction rows for recommenders
# Recommenders read ratings as rows, never as models: all of them at once for training
# (binary COPY, no Python object per row) or one user's on a request (one UNION ALL query
# built by the caller from the querysets below and other owners' ones).

#: Columns of :func:`rating_column_chunks`: user (int8), movie (int8), score (float4) and
#: updated_at as Unix seconds (int8), each chunk's column as one PostgreSQL binary array
#: (``array_send``: a 20-byte header, then an int32 length and the big-endian value per
#: element). Every column is NOT NULL, so elements are fixed width.
RATING_ARRAY_COLUMNS = (("user", "i8"), ("movie", "i8"), ("score", "f4"), ("ts", "i8"))

# The rows arrive in id order, not in the heap's (which updates and deletes reshuffle): the
# training's holdout split draws its random keys in row order, so the same data must give
# the same rows in the same order, or two trainings on it are judged on different splits.
_RATINGS_CHUNK = """
SELECT array_send(array_agg(user_id)), array_send(array_agg(movie_id)),
       array_send(array_agg(score)), array_send(array_agg(ts))
  FROM (SELECT user_id::int8, movie_id::int8, score::float4,
               floor(date_part('epoch', updated_at))::int8 AS ts
          FROM ratings_rating
         WHERE id >= %s AND id < %s
         ORDER BY id) AS chunk
"""


def rating_column_chunks(
    *, ids_per_chunk: int = 1_000_000, streams: int = 1
) -> Iterator[dict[str, bytes]]:
    """Every rating as chunks of columns (layout: :data:`RATING_ARRAY_COLUMNS`), one query
    per range of ``ids_per_chunk`` primary keys, in id order.

    A chunk is four arrays, not a million rows: a binary ``COPY`` hands its reader one
    message per row, and reading 25M of them in Python took 40 s against 13 s of
    PostgreSQL's own work. Runs in the caller's transaction, so a caller reading several
    owners in one REPEATABLE READ transaction sees one snapshot.

    ``streams`` > 1 reads the chunks over that many extra connections at once, each
    importing this transaction's snapshot (``pg_export_snapshot``), so PostgreSQL builds
    them on several cores and the result is still one consistent read. Only for a caller
    whose transaction has written nothing: other connections never see uncommitted rows.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM ratings_rating")
        low, high = cursor.fetchone()
        if low is None:
            return
        starts = list(range(low, high + 1, ids_per_chunk))
        if streams <= 1 or len(starts) == 1:
            # A plain psycopg cursor on Django's connection (Django's binds client-side,
            # which has no binary results): bytea arrives as bytes, not as hex text.
            with psycopg.Cursor(connection.connection) as raw:
                for start in starts:
                    chunk = _rating_chunk(raw, start, ids_per_chunk)
                    if chunk is not None:
                        yield chunk
            return
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
    yield from _rating_chunks_parallel(snapshot, starts, ids_per_chunk, streams)


def _rating_chunk(
    cursor: psycopg.Cursor, start: int, ids_per_chunk: int
) -> dict[str, bytes] | None:
    cursor.execute(_RATINGS_CHUNK, [start, start + ids_per_chunk], binary=True)
    row = cursor.fetchone()
    if row is None or row[0] is None:  # a range with no rating left aggregates to NULL
        return None
    return dict(zip([name for name, _ in RATING_ARRAY_COLUMNS], map(bytes, row), strict=True))


def _rating_chunks_parallel(
    snapshot: str, starts: list[int], ids_per_chunk: int, streams: int
) -> Iterator[dict[str, bytes]]:
    """The chunks in id order, read by ``streams`` threads, each over its own connection
    inside ``snapshot``; at most a few chunks wait to be consumed."""
    local = threading.local()
    opened: list[BaseDatabaseWrapper] = []

    def read(start: int) -> dict[str, bytes] | None:
        if not hasattr(local, "cursor"):
            other = connections.create_connection(connection.alias)
            other.inc_thread_sharing()  # closed by the generator's thread when done
            other.ensure_connection()
            opened.append(other)
            local.cursor = psycopg.Cursor(other.connection)
            local.cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            local.cursor.execute(
                sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot))
            )
        return _rating_chunk(local.cursor, start, ids_per_chunk)

    pending: deque[Future[dict[str, bytes] | None]] = deque()
    todo = iter(starts)
    pool = ThreadPoolExecutor(max_workers=streams)
    try:
        for start in islice(todo, 2 * streams):
            pending.append(pool.submit(read, start))
        while pending:
            chunk = pending.popleft().result()
            for start in islice(todo, 1):
                pending.append(pool.submit(read, start))
            if chunk is not None:
                yield chunk
    finally:  # also when the caller stops early: queued reads are dropped
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
        for other in opened:  # the threads are done: nothing uses these any more
            other.close()


def ratings_changed_since(cutoff: datetime) -> int:
    """Ratings written or changed after ``cutoff`` (what a retrain would newly see)."""
    return Rating.objects.filter(updated_at__gt=cutoff).count()


def feedback_rows_for_user(
    *,
    user_id: int,
    rating_kind: int,
    favorite_kind: int,
    watchlist_kind: int,
    not_interested_kind: int,
) -> list[QuerySet]:
    """One user's ratings, favorites, watchlist and "not interested" marks as
    ``(movie_id, score, kind, at)`` rows.

    Four value querysets of one shape (all but ratings score 0.0), for the caller to UNION
    ALL with other owners' rows into one query; the caller's kind codes tag each source.
    """
    no_score = Value(0.0, output_field=FloatField())

    def rows(queryset: QuerySet, kind: int, score: object, at: str) -> QuerySet:
        return queryset.values_list("movie_id", score, Value(kind, output_field=IntegerField()), at)

    return [
        rows(
            Rating.objects.filter(user_id=user_id),
            rating_kind,
            Cast("score", FloatField()),
            "updated_at",
        ),
        rows(Favorite.objects.filter(user_id=user_id), favorite_kind, no_score, "added_at"),
        rows(WatchlistEntry.objects.filter(user_id=user_id), watchlist_kind, no_score, "added_at"),
        rows(
            NotInterested.objects.filter(user_id=user_id), not_interested_kind, no_score, "added_at"
        ),
    ]


def rated_movie_ids(*, user_id: int) -> list[int]:
    """Every movie the user rated."""
    return list(Rating.objects.filter(user_id=user_id).values_list("movie_id", flat=True))


def rating_activity(*, since: datetime, hourly: bool) -> list[tuple[int, datetime, float]]:
    """``(movie_id, bucket start, sum of scores)`` of the ratings written since ``since``,
    bucketed per hour (``hourly``) or per day: the "our users" half of trending."""
    trunc = TruncHour if hourly else TruncDay
    rows = (
        Rating.objects.filter(updated_at__gte=since)
        .annotate(bucket=trunc("updated_at"))
        .values("movie_id", "bucket")
        .annotate(total=Sum("score"))
        .order_by()
    )
    return [(row["movie_id"], row["bucket"], float(row["total"])) for row in rows]
