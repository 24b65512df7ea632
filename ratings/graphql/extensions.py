"""The fields ratings adds to types other apps own: ``Movie.myRating``, ``Movie.inWatchlist``,
``Movie.isFavorite``, ``Movie.reviews``,
``User.ratingCount`` and ``User.watchlist``. Called from ``RatingsConfig.ready()`` (see
``movierec.graphql.extend``)."""

from __future__ import annotations

from typing import Any

import graphene

from movierec.graphql.extend import extend_type
from movierec.graphql.pagination import connection_field
from movierec.graphql.permissions import viewer
from movies.graphql.types import Movie
from ratings.graphql.dataloaders import RatingCountByUserLoader
from ratings.graphql.schema import watchlist_connection
from ratings.graphql.types import (
    Rating,
    RatingConnection,
    SavedMovieConnection,
    resolve_movie_in_watchlist,
    resolve_movie_is_favorite,
    resolve_movie_my_rating,
    resolve_movie_reviews,
)
from users.graphql.types import User


def resolve_user_watchlist(
    root: Any, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None
) -> Any:
    return watchlist_connection(viewer=viewer(info), user=root, first=first, after=after)


def resolve_user_rating_count(root: Any, info: graphene.ResolveInfo) -> Any:
    return RatingCountByUserLoader(info.context).load(root.pk)


def extend_types() -> None:
    extend_type(
        Movie,
        my_rating=graphene.Field(
            Rating,
            description="The viewer's rating of this movie; null when anonymous or unrated.",
            resolver=resolve_movie_my_rating,
        ),
        in_watchlist=graphene.Boolean(
            description="Whether the movie is on the viewer's watchlist; null when anonymous.",
            resolver=resolve_movie_in_watchlist,
        ),
        is_favorite=graphene.Boolean(
            description="Whether the movie is among the viewer's favorites; null when anonymous.",
            resolver=resolve_movie_is_favorite,
        ),
        reviews=connection_field(
            RatingConnection,
            description="Ratings with a written review, newest first.",
            resolver=resolve_movie_reviews,
        ),
    )
    extend_type(
        User,
        rating_count=graphene.Int(
            required=True,
            description="How many movies the user rated.",
            resolver=resolve_user_rating_count,
        ),
        watchlist=connection_field(
            SavedMovieConnection,
            required=False,
            description="Movies this member wants to watch, newest first. Private: null for "
            "anyone but the member themself.",
            resolver=resolve_user_watchlist,
        ),
    )
