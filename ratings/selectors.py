"""Reads for ratings, reviews, the watchlist and favorites; the GraphQL layer calls these."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Count, FloatField, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Cast, TruncDay, TruncHour

from ratings.models import Favorite, NotInterested, Rating, WatchlistEntry

if TYPE_CHECKING:
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

#: Layout of :func:`rating_rows_copy`: per row an int16 field count 4, then for each of
#: user (int8), movie (int8), score (float4), updated_at as Unix seconds (int8) an int32
#: length and the big-endian value. Every column is NOT NULL, so rows are fixed width.
RATING_COPY_COLUMNS = (("user", "i8"), ("movie", "i8"), ("score", "f4"), ("ts", "i8"))

_RATINGS_COPY = """
COPY (
    SELECT user_id::int8, movie_id::int8, score::float4,
           floor(date_part('epoch', updated_at))::int8
      FROM ratings_rating
) TO STDOUT (FORMAT BINARY)
"""


def rating_rows_copy() -> Iterator[bytes]:
    """Every rating as PostgreSQL binary COPY blocks (layout: :data:`RATING_COPY_COLUMNS`).

    Runs in the caller's transaction, so a caller reading several owners in one REPEATABLE
    READ transaction sees one snapshot. Consume it fully before the transaction ends.
    """
    with connection.cursor() as cursor, cursor.cursor.copy(_RATINGS_COPY) as copy:
        yield from copy


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
