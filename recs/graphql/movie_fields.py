"""The recommendation fields of ``Movie`` (``similar``, ``matchScore``), kept here so the
movies app only attaches them: field definitions plus loader-backed resolvers."""

from typing import Any

import graphene

from movierec.graphql.pagination import page_size
from recs.graphql.dataloaders import MatchScoreLoader, SimilarMoviesLoader

SIMILAR_DEFAULT = 10


def similar_field() -> graphene.List:
    return graphene.List(
        graphene.NonNull("movies.graphql.types.Movie"),
        required=True,
        first=graphene.Int(default_value=SIMILAR_DEFAULT, description="At most 100."),
        description=(
            "Movies like this one: from the recommendation model's item factors, or shared "
            "genres and keywords when the model does not know the movie."
        ),
    )


def match_score_field() -> graphene.Float:
    return graphene.Float(
        description=(
            "0..1 predicted affinity for the viewer (0.5: as likely a film they like as not); "
            "null when anonymous, without feedback, or when no model is active."
        )
    )


def resolve_similar(root: Any, info: graphene.ResolveInfo, first: int = SIMILAR_DEFAULT) -> Any:
    return SimilarMoviesLoader(info.context).load((root.pk, page_size(first)))


def resolve_match_score(root: Any, info: graphene.ResolveInfo) -> Any:
    return MatchScoreLoader(info.context).load(root.pk)
