"""Writes for ratings, the watchlist and favorites.

Every rating change keeps the movie's community rating (``rating_count`` / ``rating_sum``) exact
through ``movies.services`` (one F() update in the same transaction as the rating row, never a
recount), and fires ``user_feedback_changed``
(``movierec.events``) after the transaction commits, as do watchlist and favorite changes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Model
from django.utils import timezone
from psycopg import sql
from psycopg.errors import CardinalityViolation

from movierec.events import feedback_changed
from movies.services import movie_rating_stats_add, movie_rating_stats_apply
from ratings.models import SCORES, Favorite, NotInterested, Rating, WatchlistEntry

if TYPE_CHECKING:
    from movies.models import Movie
    from users.models import User

_M = TypeVar("_M", bound=Model)

REVIEW_MAX_LENGTH = 5000
#: Rating fields that hold rows the caller has already loaded: not re-validated by a query.
_LOADED = ["user", "movie"]


def _validate_score(score: float | Decimal) -> Decimal:
    message = "Score must be between 0.5 and 5.0 in steps of 0.5."
    if isinstance(score, bool) or not math.isfinite(float(score)):
        raise ValidationError({"score": message})
    value = Decimal(str(score))
    if value not in SCORES:
        raise ValidationError({"score": message})
    return value.quantize(Decimal("0.1"))


def _validate_review(review: str | None) -> str:
    review = (review or "").strip()
    if len(review) > REVIEW_MAX_LENGTH:
        raise ValidationError(
            {"review": f"Review may be at most {REVIEW_MAX_LENGTH} characters long."}
        )
    return review


def rating_set(
    *, user: User, movie: Movie, score: float | Decimal, review: str | None = None
) -> Rating:
    """Create or update ``user``'s rating of ``movie``; the community rating moves by the delta.

    ``review=None`` keeps an existing review, ``""`` clears it. The input is validated before
    any statement runs; the writes then share the caller's transaction without a savepoint
    (a failure there fails the caller's transaction: the mutation rolls back whole).
    """
    value = _validate_score(score)
    new_review = None if review is None else _validate_review(review)
    return _rating_write(user=user, movie=movie, value=value, new_review=new_review)


@transaction.atomic(savepoint=False)
def _rating_write(*, user: User, movie: Movie, value: Decimal, new_review: str | None) -> Rating:
    """The writes of :func:`rating_set`, in as few statements as the checks allow.

    The rating row is locked (``SELECT ... FOR UPDATE``) before its old score is read, so
    concurrent re-ratings of the same movie by the same user serialize and each applies the
    delta against the score it replaced. A first rating is ``INSERT ... ON CONFLICT DO
    NOTHING``: when a concurrent first rating won the unique constraint, nothing is inserted
    and this one updates that row instead (no savepoint to roll back to, two statements
    fewer than catching the IntegrityError). ``full_clean`` skips constraint checks (the
    constraint resolves the race anyway) and the user and the movie: both are rows the
    caller loaded, and validating a foreign key is one query each, which the foreign-key
    constraints back anyway.
    """
    rating = Rating.objects.select_for_update().filter(user=user, movie=movie).first()
    if rating is None:
        rating = Rating(user=user, movie=movie, score=value, review=new_review or "")
        rating.full_clean(exclude=_LOADED, validate_unique=False, validate_constraints=False)
        if _insert_if_absent(rating):
            movie_rating_stats_add(movie_id=movie.pk, count=1, total=value)
            feedback_changed(user_id=user.pk, movie_id=movie.pk)
            return rating
        rating = Rating.objects.select_for_update().get(user=user, movie=movie)
    delta = value - rating.score
    rating.score = value
    if new_review is not None:
        rating.review = new_review
    rating.full_clean(exclude=_LOADED, validate_unique=False, validate_constraints=False)
    rating.save(update_fields=["score", "review", "updated_at"])
    movie_rating_stats_add(movie_id=movie.pk, total=delta)
    feedback_changed(user_id=user.pk, movie_id=movie.pk)
    return rating


def _insert_if_absent(rating: Rating) -> bool:
    """Insert ``rating`` unless its (user, movie) row exists; False when it did (a concurrent
    first rating committed it while this one waited on the unique index). Like ``save``
    (``auto_now_add`` / ``auto_now``) it stamps both times; no model signal is sent, and no
    receiver listens for ratings' (feedback goes out through ``feedback_changed``)."""
    rating.created_at = rating.updated_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ratings_rating (user_id, movie_id, score, review, created_at, "
            "updated_at) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (user_id, movie_id) DO NOTHING RETURNING id",
            [
                rating.user_id,
                rating.movie_id,
                rating.score,
                rating.review,
                rating.created_at,
                rating.updated_at,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    rating.pk = row[0]
    rating._state.adding = False
    return True


@transaction.atomic
def rating_delete(*, user: User, movie: Movie) -> None:
    """Delete ``user``'s rating of ``movie``; raises ``Rating.DoesNotExist`` if unrated."""
    rating = Rating.objects.select_for_update().get(user=user, movie=movie)
    score = rating.score
    rating.delete()
    movie_rating_stats_add(movie_id=movie.pk, count=-1, total=-score)
    feedback_changed(user_id=user.pk, movie_id=movie.pk)


@transaction.atomic
def rating_delete_all_for_user(*, user: User) -> int:
    """Delete every rating of ``user`` (account deletion), taking each out of its movie's
    community rating in one set-based UPDATE rather than a cascade that would leave the
    counts stale. Returns how many ratings were deleted."""
    movie_rating_stats_apply(
        stats="SELECT movie_id, -1 AS n, -score AS total FROM ratings_rating WHERE user_id = %s",
        params=[user.pk],
    )
    deleted, _ = Rating.objects.filter(user=user).delete()
    return deleted


def _mark(model: type[_M], *, user: User, movie: Movie) -> _M:
    """The (user, movie) row of ``model``, created if absent; feedback fires only on creation."""
    row, created = model.objects.get_or_create(user=user, movie=movie)
    if created:
        feedback_changed(user_id=user.pk, movie_id=movie.pk)
    return row


def _unmark(model: type[Model], *, user: User, movie: Movie) -> bool:
    """Delete the (user, movie) row of ``model``; True when there was one."""
    deleted, _ = model.objects.filter(user=user, movie=movie).delete()
    if deleted:
        feedback_changed(user_id=user.pk, movie_id=movie.pk)
    return bool(deleted)


def watchlist_add(*, user: User, movie: Movie) -> WatchlistEntry:
    """Put ``movie`` on ``user``'s watchlist; adding it again keeps the original entry."""
    return _mark(WatchlistEntry, user=user, movie=movie)


def watchlist_remove(*, user: User, movie: Movie) -> bool:
    """Take ``movie`` off the watchlist; True when it was there (removing again is fine)."""
    return _unmark(WatchlistEntry, user=user, movie=movie)


def favorite_add(*, user: User, movie: Movie) -> Favorite:
    """Mark ``movie`` as a favorite of ``user``; idempotent."""
    return _mark(Favorite, user=user, movie=movie)


def favorite_remove(*, user: User, movie: Movie) -> bool:
    """Unmark a favorite; True when it was marked."""
    return _unmark(Favorite, user=user, movie=movie)


def not_interested_add(*, user: User, movie: Movie) -> NotInterested:
    """Hide ``movie`` from ``user``'s recommendations and make it a negative signal in their
    own scores (recs reads it at serving time only); idempotent, undone by the remove."""
    return _mark(NotInterested, user=user, movie=movie)


def not_interested_remove(*, user: User, movie: Movie) -> bool:
    """Undo "not interested"; True when it was set (undoing again is fine)."""
    return _unmark(NotInterested, user=user, movie=movie)


def feedback_bulk_create(
    *,
    ratings: Iterable[tuple[int, int, Decimal]] = (),
    favorites: Iterable[tuple[int, int]] = (),
    watchlist: Iterable[tuple[int, int]] = (),
    ignore_conflicts: bool = False,
) -> None:
    """Insert many ``(user_id, movie_id, score)`` ratings and ``(user_id, movie_id)`` favorites
    and watchlist entries at once (for seeding data such as the demo users).

    Like :func:`ratings_bulk_load` it bypasses the per-row bookkeeping: the caller recounts
    with :func:`movie_rating_stats_recompute` and no feedback event fires.
    """
    options = {"batch_size": 5000, "ignore_conflicts": ignore_conflicts}
    Rating.objects.bulk_create(
        [Rating(user_id=u, movie_id=m, score=score) for u, m, score in ratings], **options
    )
    Favorite.objects.bulk_create([Favorite(user_id=u, movie_id=m) for u, m in favorites], **options)
    WatchlistEntry.objects.bulk_create(
        [WatchlistEntry(user_id=u, movie_id=m) for u, m in watchlist], **options
    )


def movie_rating_stats_recompute(movie_ids: Iterable[int]) -> int:
    """Set Movie.rating_count / rating_sum of these movies from their ratings, in ONE query.

    For bulk writes that bypass :func:`rating_set`. Movies left without ratings drop to zero.
    Returns the number of movies updated.
    """
    ids = sorted(set(int(i) for i in movie_ids))
    if not ids:
        return 0
    return movie_rating_stats_apply(
        stats="SELECT t.id AS movie_id, count(r.id) AS n, coalesce(sum(r.score), 0) AS total "
        "FROM unnest(%s::bigint[]) AS t(id) LEFT JOIN ratings_rating r ON r.movie_id = t.id "
        "GROUP BY t.id",
        params=[ids],
        replace=True,
    )


@dataclass(frozen=True)
class RatingBulkLoadResult:
    """What :func:`ratings_bulk_load` did; ``duplicates`` are extra rows for one (user, movie)."""

    inserted: int
    updated: int
    unchanged: int
    duplicates: int
    movies_recounted: int
    #: Seconds per step (upsert, indexes and foreign keys, recount), for import reports.
    seconds: dict[str, float] = field(default_factory=dict)


_UPSERT = """
WITH upserted AS (
    INSERT INTO ratings_rating (user_id, movie_id, score, review, created_at, updated_at)
    {select}
    ON CONFLICT (user_id, movie_id) DO UPDATE
       SET score = EXCLUDED.score, updated_at = EXCLUDED.updated_at
     WHERE ratings_rating.score IS DISTINCT FROM EXCLUDED.score
    RETURNING movie_id, (xmax = 0) AS fresh
)
INSERT INTO rating_bulk_touched (movie_id, inserted, changed)
SELECT movie_id, count(*) FILTER (WHERE fresh), count(*) FROM upserted GROUP BY movie_id
"""
_SELECT_ALL = "SELECT user_id, movie_id, score, '', rated_at, rated_at FROM {source}"
_SELECT_NEWEST = (
    "SELECT DISTINCT ON (user_id, movie_id) user_id, movie_id, score, '', rated_at, rated_at "
    "FROM {source} ORDER BY user_id, movie_id, rated_at DESC, score DESC"
)


#: A load of at least this many rows, and at least as many as the table holds, rebuilds the
#: secondary indexes and foreign keys once instead of maintaining them row by row.
BULK_REBUILD_MIN_ROWS = 200_000


def _structures_drop(cursor: CursorWrapper) -> list[str]:
    """Drop the ratings table's non-unique indexes and its foreign keys; return the DDL that
    recreates them under the same names (so Django's migration state stays true)."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = 'ratings_rating'::regclass AND NOT x.indisunique"
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'ratings_rating'::regclass AND contype = 'f'"
    )
    foreign_keys = cursor.fetchall()
    recreate = [definition for _, definition in indexes]
    for name, _ in indexes:
        cursor.execute(
            sql.SQL("DROP INDEX {}").format(sql.Identifier(name)).as_string(cursor.connection)
        )
    for name, definition in foreign_keys:
        drop = sql.SQL("ALTER TABLE ratings_rating DROP CONSTRAINT {}").format(sql.Identifier(name))
        cursor.execute(drop.as_string(cursor.connection))
        add = sql.SQL("ALTER TABLE ratings_rating ADD CONSTRAINT {} ").format(sql.Identifier(name))
        recreate.append(add.as_string(cursor.connection) + definition)
    return recreate


def _load_into_empty(cursor: CursorWrapper, source: str) -> int | None:
    """Into an EMPTY ratings table: a plain INSERT with the primary key and the (user, movie)
    unique constraint dropped and rebuilt by one sort each; the number of rows, or None when
    that cannot be done.

    ``INSERT ... ON CONFLICT`` pays a speculative insertion, a unique-index probe, four WAL
    records and a RETURNING row per rating: at 25M ratings that was most of an import. An
    empty table has nothing to conflict with, so only duplicates within ``source`` matter:
    the rebuilt constraint rejects them, and then everything here is rolled back (None: the
    caller takes the upsert path, where the newest row of a pair wins). Nothing references
    a rating by its id, so the primary key can be rebuilt too.
    """
    cursor.execute("SELECT EXISTS (SELECT 1 FROM ratings_rating)")
    if cursor.fetchone()[0]:
        return None
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'ratings_rating'::regclass AND contype IN ('p', 'u')"
    )
    uniques = cursor.fetchall()
    table = sql.Identifier("ratings_rating")
    insert = sql.SQL(
        "INSERT INTO {table} (user_id, movie_id, score, review, created_at, updated_at) "
        "SELECT user_id, movie_id, score, '', rated_at, rated_at FROM {source}"
    ).format(table=table, source=sql.Identifier(source))
    try:
        with transaction.atomic():
            for name, _ in uniques:
                drop = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    table, sql.Identifier(name)
                )
                cursor.execute(drop.as_string(cursor.connection))
            cursor.execute(insert.as_string(cursor.connection))
            inserted = cursor.rowcount
            for name, definition in uniques:
                add = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                    table, sql.Identifier(name)
                )
                cursor.execute(add.as_string(cursor.connection) + definition)
    except IntegrityError:
        return None  # one (user, movie) twice in source
    return inserted


def _movie_rating_stats_recompute_all() -> int:
    """Rating count and sum of every rated movie from one scan of the ratings (after a load
    into an empty table, where every other movie already has none)."""
    return movie_rating_stats_apply(
        stats="SELECT movie_id, count(*) AS n, sum(score) AS total "
        "FROM ratings_rating GROUP BY movie_id",
        params=(),
        replace=True,
    )


@transaction.atomic
def ratings_bulk_load(
    *, source: str, rows: int, rebuild: bool | None = None
) -> RatingBulkLoadResult:
    """Upsert many ratings at once from ``source``, then recount the touched movies' ratings.

    ``source`` names a table or view of the caller's connection (typically a temporary table
    filled by COPY, or a view joining one to id maps) with the columns ``user_id``,
    ``movie_id``, ``score`` (on the half-star scale, which the CHECK constraint enforces) and
    ``rated_at``; ``rows`` is how many rows it has. Each rating lands with ``created_at`` =
    ``updated_at`` = ``rated_at``; an existing rating takes the new score (and time) only when
    the score differs, so loading the same rows again writes nothing.

    Set-based so that millions of rows need no Python object each: one
    ``INSERT ... SELECT ... ON CONFLICT`` whose RETURNING rows are aggregated per movie in the
    database, then one recount of exactly the movies whose ratings changed. When ``source``
    holds one (user, movie) twice, the newest row wins (a second pass with ``DISTINCT ON``;
    the fast pass fails on the duplicate before anything is kept).

    A large load into a table no bigger than itself (an initial import; ``rebuild=None``
    decides by :data:`BULK_REBUILD_MIN_ROWS` and the table's size) drops the secondary
    indexes and foreign keys first and recreates them afterwards: one sort per index and one
    anti-join per foreign key instead of millions of random index inserts and per-row FK
    checks. The table is then locked (ACCESS EXCLUSIVE) until the caller's transaction ends;
    the unique (user, movie) index, which ON CONFLICT needs, is always kept.

    Feedback listeners are not notified per user (an import touches every user at once);
    recommendations pick the ratings up at the next training.
    """
    with connection.cursor() as cursor:
        if rebuild is None:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'ratings_rating'::regclass")
            existing = max(float(cursor.fetchone()[0]), 0.0)
            rebuild = rows >= BULK_REBUILD_MIN_ROWS and rows >= existing
        recreate: list[str] = []
        if rebuild:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK events may remain
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            recreate = _structures_drop(cursor)

        def run(template: str) -> None:
            query = sql.SQL(template).format(source=sql.Identifier(source))
            cursor.execute(query.as_string(cursor.connection))

        cursor.execute(
            "CREATE TEMPORARY TABLE rating_bulk_touched "
            "(movie_id bigint, inserted bigint, changed bigint) ON COMMIT DROP"
        )
        distinct = rows
        clock = time.perf_counter()
        seconds: dict[str, float] = {}
        loaded = _load_into_empty(cursor, source) if rebuild else None
        if loaded is not None:
            inserted = changed = loaded
            movie_ids = None  # every movie with a rating: recounted in one scan below
        else:
            try:
                with transaction.atomic():
                    run(_UPSERT.format(select=_SELECT_ALL))
            except ProgrammingError as exc:
                if not isinstance(exc.__cause__, CardinalityViolation):
                    raise
                # One (user, movie) twice in source: count the pairs, then the newest row wins.
                run("SELECT count(*) FROM (SELECT DISTINCT user_id, movie_id FROM {source}) AS d")
                distinct = cursor.fetchone()[0]
                run(_UPSERT.format(select=_SELECT_NEWEST))
            cursor.execute(
                "SELECT coalesce(sum(inserted), 0), coalesce(sum(changed), 0), "
                "coalesce(array_agg(movie_id), '{}') FROM rating_bulk_touched"
            )
            inserted, changed, movie_ids = cursor.fetchone()
        cursor.execute("DROP TABLE rating_bulk_touched")  # inside a caller's transaction too
        seconds["upsert"] = time.perf_counter() - clock
        clock = time.perf_counter()
        for statement in recreate:  # indexes by one sort each, FKs checked by one query each
            cursor.execute(statement)
        if rebuild:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's FKs are deferred
        seconds["indexes"] = time.perf_counter() - clock
    clock = time.perf_counter()
    recounted = (
        _movie_rating_stats_recompute_all() if movie_ids is None
        else movie_rating_stats_recompute(movie_ids)
    )  # fmt: skip
    seconds["recount"] = time.perf_counter() - clock
    return RatingBulkLoadResult(
        inserted=int(inserted),
        updated=int(changed) - int(inserted),
        unchanged=distinct - int(changed),
        duplicates=rows - distinct,
        movies_recounted=recounted,
        seconds={k: round(v, 2) for k, v in seconds.items()},
    )
