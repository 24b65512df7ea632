"""Watchlist and favorites: idempotent add/remove, answered with ``OkPayload``."""

from __future__ import annotations

import graphene

from movierec.graphql.permissions import login_required, viewer
from movierec.graphql.types import OkPayload
from movies.graphql.inputs import movie_from_global_id
from ratings import services


class _MovieArguments:
    movie_id = graphene.ID(required=True, description="The movie's global ID.")


class AddToWatchlist(graphene.Mutation):
    """Put a movie on the viewer's watchlist (adding it again is fine)."""

    Arguments = _MovieArguments
    Output = OkPayload

    @staticmethod
    @login_required
    def mutate(root: None, info: graphene.ResolveInfo, movie_id: str) -> OkPayload:
        services.watchlist_add(user=viewer(info), movie=movie_from_global_id(movie_id))
        return OkPayload(ok=True)


class RemoveFromWatchlist(graphene.Mutation):
    """Take a movie off the viewer's watchlist (removing an absent one is fine)."""

    Arguments = _MovieArguments
    Output = OkPayload

    @staticmethod
    @login_required
    def mutate(root: None, info: graphene.ResolveInfo, movie_id: str) -> OkPayload:
        services.watchlist_remove(user=viewer(info), movie=movie_from_global_id(movie_id))
        return OkPayload(ok=True)


class AddToFavorites(graphene.Mutation):
    """Mark a movie as one of the viewer's favorites (idempotent)."""

    Arguments = _MovieArguments
    Output = OkPayload

    @staticmethod
    @login_required
    def mutate(root: None, info: graphene.ResolveInfo, movie_id: str) -> OkPayload:
        services.favorite_add(user=viewer(info), movie=movie_from_global_id(movie_id))
        return OkPayload(ok=True)


class RemoveFromFavorites(graphene.Mutation):
    """Unmark a favorite (idempotent)."""

    Arguments = _MovieArguments
    Output = OkPayload

    @staticmethod
    @login_required
    def mutate(root: None, info: graphene.ResolveInfo, movie_id: str) -> OkPayload:
        services.favorite_remove(user=viewer(info), movie=movie_from_global_id(movie_id))
        return OkPayload(ok=True)
