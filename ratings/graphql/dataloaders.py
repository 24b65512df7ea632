"""Per-request loaders for ratings and for the movie/user edges of ratings and playlists."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, QuerySet

from movierec.graphql.dataloaders import BaseLoader
from movierec.graphql.nested import PageByParentLoader
from movierec.graphql.pagination import OrderKey
from ratings import selectors
from ratings.models import Rating

#: Reviews under a movie: newest change first.
REVIEW_ORDER = (OrderKey("updated_at", descending=True),)


class MyRatingByMovieLoader(BaseLoader[int, Rating | None]):
    """``Movie.myRating``: the viewer's ratings of every movie on the page in one query."""

    context_key = "lists.my_rating_by_movie"

    def batch_load(self, keys: list[int]) -> list[Rating | None]:
        if self.viewer is None:
            return [None] * len(keys)
        ratings = selectors.ratings_of_user_for_movies(user=self.viewer, movie_ids=keys)
        return [ratings.get(key) for key in keys]


class _ViewerMarkByMovieLoader(BaseLoader[int, bool | None]):
    """Whether the viewer marked each movie of a page (``selector`` returns the marked ids):
    one query; null when anonymous."""

    selector: Callable[..., set[int]]

    def batch_load(self, keys: list[int]) -> list[bool | None]:
        if self.viewer is None:
            return [None] * len(keys)
        marked = type(self).selector(user=self.viewer, movie_ids=keys)
        return [key in marked for key in keys]


class InWatchlistByMovieLoader(_ViewerMarkByMovieLoader):
    """``Movie.inWatchlist`` for a page of movies."""

    context_key = "lists.in_watchlist_by_movie"
    selector = staticmethod(selectors.watchlisted_movie_ids)


class IsFavoriteByMovieLoader(_ViewerMarkByMovieLoader):
    """``Movie.isFavorite`` for a page of movies."""

    context_key = "lists.is_favorite_by_movie"
    selector = staticmethod(selectors.favorited_movie_ids)


class ReviewCountByMovieLoader(BaseLoader[int, int]):
    """``Movie.reviews.totalCount`` for a page of movies: one grouped COUNT."""

    context_key = "lists.review_count_by_movie"

    def batch_load(self, keys: list[int]) -> list[int]:
        counts = selectors.review_counts_for_movies(movie_ids=keys)
        return [counts.get(key, 0) for key in keys]


class ReviewPageByMovieLoader(PageByParentLoader):
    """``Movie.reviews(first, after)``: the first page of every movie's reviews in one query."""

    context_key = "lists.review_page_by_movie"
    parent_field = "movie_id"
    order = REVIEW_ORDER

    def children(self) -> QuerySet:
        return selectors.review_list()


class RatingCountByUserLoader(BaseLoader[int, int]):
    """How many movies each user rated: one GROUP BY for every user on the page."""

    context_key = "rating_count_by_user"

    def batch_load(self, keys: list[int]) -> list[int]:
        counts = dict(
            Rating.objects.filter(user_id__in=keys)
            .order_by()
            .values("user_id")
            .annotate(n=Count("id"))
            .values_list("user_id", "n")
        )
        return [counts.get(key, 0) for key in keys]
