from __future__ import annotations

from typing import Any

import graphene

from movierec.graphql.permissions import login_required, viewer
from movies.graphql.inputs import movie_from_global_id
from ratings import services
from ratings.graphql.mutations.saved import viewer_movie_mutation
from ratings.graphql.types import Rating


class RateMovie(graphene.Mutation):
    """Rate a movie (re-rating updates the score; the community rating follows)."""

    class Arguments:
        movie_id = graphene.ID(required=True, description="The movie's global ID.")
        score = graphene.Float(required=True, description="0.5 to 5.0 in steps of 0.5.")
        review = graphene.String(
            description="Optional written review (at most 5000 characters); omit to keep "
            "the current one, send an empty string to clear it."
        )

    Output = Rating

    @staticmethod
    @login_required
    def mutate(
        root: None,
        info: graphene.ResolveInfo,
        movie_id: str,
        score: float,
        review: str | None = None,
    ) -> Any:
        movie = movie_from_global_id(movie_id)
        return services.rating_set(user=viewer(info), movie=movie, score=score, review=review)


DeleteRating = viewer_movie_mutation(
    "DeleteRating",
    "Remove the viewer's rating of a movie; NOT_FOUND when it was not rated.",
    services.rating_delete,
)
