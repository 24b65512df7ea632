"""Watchlist, favorites and "not interested": idempotent add/remove, answered with
``OkPayload``. The six mutations differ only in the service they call and their
description, so one factory builds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphene

from movierec.graphql.permissions import login_required, viewer
from movierec.graphql.types import OkPayload
from movies.graphql.inputs import movie_from_global_id
from ratings import services


class _MovieArguments:
    movie_id = graphene.ID(required=True, description="The movie's global ID.")


def viewer_movie_mutation(
    name: str, description: str, service: Callable[..., Any]
) -> type[graphene.Mutation]:
    """A signed-in mutation taking ``movieId`` that calls ``service(user=viewer,
    movie=movie)`` and answers ``ok``; ``name`` and ``description`` are its schema's."""

    @login_required
    def mutate(root: None, info: graphene.ResolveInfo, movie_id: str) -> OkPayload:
        service(user=viewer(info), movie=movie_from_global_id(movie_id))
        return OkPayload(ok=True)

    namespace = {
        "__doc__": description,
        "__module__": __name__,
        "Arguments": _MovieArguments,
        "Output": OkPayload,
        "mutate": staticmethod(mutate),
    }
    return type(name, (graphene.Mutation,), namespace)


AddToWatchlist = viewer_movie_mutation(
    "AddToWatchlist",
    "Put a movie on the viewer's watchlist (adding it again is fine).",
    services.watchlist_add,
)
RemoveFromWatchlist = viewer_movie_mutation(
    "RemoveFromWatchlist",
    "Take a movie off the viewer's watchlist (removing an absent one is fine).",
    services.watchlist_remove,
)
AddToFavorites = viewer_movie_mutation(
    "AddToFavorites",
    "Mark a movie as one of the viewer's favorites (idempotent).",
    services.favorite_add,
)
RemoveFromFavorites = viewer_movie_mutation(
    "RemoveFromFavorites", "Unmark a favorite (idempotent).", services.favorite_remove
)
MarkNotInterested = viewer_movie_mutation(
    "MarkNotInterested",
    'Hide a movie from the viewer\'s recommendations ("not interested"); idempotent.',
    services.not_interested_add,
)
UndoNotInterested = viewer_movie_mutation(
    "UndoNotInterested",
    'Undo "not interested": the movie may be recommended again; idempotent.',
    services.not_interested_remove,
)
