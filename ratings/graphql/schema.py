from __future__ import annotations

from typing import Any

import graphene

from movierec.graphql.pagination import OrderKey, connection_field, paginated_connection
from movierec.graphql.permissions import login_required, viewer
from ratings import selectors
from ratings.graphql.mutations.ratings import DeleteRating, RateMovie
from ratings.graphql.mutations.saved import (
    AddToFavorites,
    AddToWatchlist,
    MarkNotInterested,
    RemoveFromFavorites,
    RemoveFromWatchlist,
    UndoNotInterested,
)
from ratings.graphql.types import RatingConnection, SavedMovieConnection

RECENT_FIRST = [OrderKey("updated_at", descending=True)]
SAVED_RECENT_FIRST = [OrderKey("added_at", descending=True)]


def watchlist_connection(*, viewer: Any, user: Any, first: int | None, after: str | None) -> Any:
    """``user``'s watchlist page as ``viewer`` may see it: the member's own, else None.

    A watchlist is private: other members (staff included) get null, not an error.
    """
    if viewer is None or viewer.pk != user.pk:
        return None
    return paginated_connection(
        SavedMovieConnection,
        selectors.watchlist_for_user(user=user),
        order=SAVED_RECENT_FIRST,
        first=first,
        after=after,
    )


class RatingQueries(graphene.ObjectType):
    my_ratings = connection_field(
        RatingConnection,
        description="The viewer's ratings, most recently changed first.",
    )
    my_watchlist = connection_field(
        SavedMovieConnection,
        description="The viewer's watchlist, most recently added first.",
    )
    my_favorites = connection_field(
        SavedMovieConnection,
        description="The viewer's favorite movies, most recently added first.",
    )

    @staticmethod
    @login_required
    def resolve_my_ratings(
        root: None, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None
    ) -> Any:
        return paginated_connection(
            RatingConnection,
            selectors.rating_list_for_user(user=viewer(info)),
            order=RECENT_FIRST,
            first=first,
            after=after,
        )

    @staticmethod
    @login_required
    def resolve_my_watchlist(
        root: None, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None
    ) -> Any:
        user = viewer(info)
        return watchlist_connection(viewer=user, user=user, first=first, after=after)

    @staticmethod
    @login_required
    def resolve_my_favorites(
        root: None, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None
    ) -> Any:
        return paginated_connection(
            SavedMovieConnection,
            selectors.favorites_for_user(user=viewer(info)),
            order=SAVED_RECENT_FIRST,
            first=first,
            after=after,
        )


class RatingMutations(graphene.ObjectType):
    rate_movie = RateMovie.Field(description="Rate a movie; re-rating updates it.")
    delete_rating = DeleteRating.Field(description="Remove the viewer's rating of a movie.")
    add_to_watchlist = AddToWatchlist.Field(description="Put a movie on the watchlist.")
    remove_from_watchlist = RemoveFromWatchlist.Field(description="Take a movie off the watchlist.")
    add_to_favorites = AddToFavorites.Field(description="Mark a movie as a favorite.")
    remove_from_favorites = RemoveFromFavorites.Field(description="Unmark a favorite.")
    mark_not_interested = MarkNotInterested.Field(
        description=(
            "Hide a movie from the viewer's recommendations; movies like it rank lower in "
            "their own list (no one else's)."
        )
    )
    undo_not_interested = UndoNotInterested.Field(
        description="Undo markNotInterested: the movie may be recommended again."
    )
