"""Reads for ratings, reviews, the watchlist and favorites; the GraphQL layer calls these."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, QuerySet

from ratings.models import Favorite, Rating, WatchlistEntry
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
