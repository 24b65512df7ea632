"""GraphQL types of ratings, reviews, the watchlist and favorites.

``Movie`` is referenced by import path so this module does not depend on how the movies app
defines it. ``resolve_movie_my_rating`` / ``resolve_movie_reviews`` back the ``Movie.myRating``
and ``Movie.reviews`` fields declared on the Movie type.
"""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from movierec.graphql.nested import nested_connection
from movierec.graphql.pagination import CountableConnection
from movies.graphql.dataloaders import MovieByIdLoader
from ratings import models
from ratings.graphql.dataloaders import (
    InWatchlistByMovieLoader,
    IsFavoriteByMovieLoader,
    MyRatingByMovieLoader,
    ReviewCountByMovieLoader,
    ReviewPageByMovieLoader,
)
from users.graphql.dataloaders import UserByIdLoader


class Rating(DjangoObjectType):
    movie = graphene.Field(
        graphene.NonNull("movies.graphql.types.Movie"), description="The rated movie."
    )
    user = graphene.Field(graphene.NonNull("users.graphql.types.User"), description="Who rated it.")
    score = graphene.Float(required=True, description="0.5 to 5.0 stars in steps of 0.5.")

    class Meta:
        model = models.Rating
        interfaces = (relay.Node,)
        fields = ("id", "score", "review", "created_at", "updated_at")
        description = "A member's star rating of a movie, with an optional written review."

    @staticmethod
    def resolve_movie(root: models.Rating, info: graphene.ResolveInfo) -> Any:
        return MovieByIdLoader(info.context).load(root.movie_id)

    @staticmethod
    def resolve_user(root: models.Rating, info: graphene.ResolveInfo) -> Any:
        return UserByIdLoader(info.context).load(root.user_id)

    @staticmethod
    def resolve_score(root: models.Rating, info: graphene.ResolveInfo) -> float:
        return float(root.score)


class RatingConnection(CountableConnection):
    class Meta:
        node = Rating
        description = "A page of ratings."


class SavedMovie(graphene.ObjectType):
    """A movie on a member's watchlist or favorites."""

    movie = graphene.Field(
        graphene.NonNull("movies.graphql.types.Movie"), description="The saved movie."
    )
    added_at = graphene.DateTime(required=True, description="When it was saved.")

    @staticmethod
    def resolve_movie(root: Any, info: graphene.ResolveInfo) -> Any:
        return MovieByIdLoader(info.context).load(root.movie_id)


class SavedMovieConnection(CountableConnection):
    class Meta:
        node = SavedMovie
        description = "A page of saved movies, most recently saved first."


def resolve_movie_my_rating(root: Any, info: graphene.ResolveInfo) -> Any:
    """``Movie.myRating``: null when anonymous or unrated; batched over the page of movies."""
    return MyRatingByMovieLoader(info.context).load(root.pk)


def resolve_movie_in_watchlist(root: Any, info: graphene.ResolveInfo) -> Any:
    """``Movie.inWatchlist``: batched over the page of movies; null when anonymous."""
    return InWatchlistByMovieLoader(info.context).load(root.pk)


def resolve_movie_is_favorite(root: Any, info: graphene.ResolveInfo) -> Any:
    """``Movie.isFavorite``: batched over the page of movies; null when anonymous."""
    return IsFavoriteByMovieLoader(info.context).load(root.pk)


def resolve_movie_reviews(
    root: Any, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None
) -> Any:
    """``Movie.reviews``: public written reviews, newest first, batched over the movies."""
    return nested_connection(
        info,
        RatingConnection,
        parent_id=root.pk,
        first=first,
        after=after,
        pages=ReviewPageByMovieLoader,
        counts=ReviewCountByMovieLoader,
    )
