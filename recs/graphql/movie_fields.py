"""The recommendation fields recs adds to ``Movie`` (``similar``, ``matchScore``): field
definitions plus loader-backed resolvers, attached by :func:`extend_types` from
``RecsConfig.ready()`` (see ``movierec.graphql.extend``), so movies never imports recs."""

from typing import Any

import graphene

from movierec.graphql.extend import extend_type
from movierec.graphql.pagination import page_size
from movies.graphql.types import Movie
from recs.graphql.dataloaders import MatchScoreLoader, SimilarMoviesLoader

SIMILAR_DEFAULT = 10


def similar_field() -> graphene.List:
    return graphene.List(
        graphene.NonNull(Movie),
        required=True,
        resolver=resolve_similar,
        first=graphene.Int(default_value=SIMILAR_DEFAULT, description="At most 100."),
        description=(
            "Movies like this one: from the recommendation model's item factors (learnt from "
            "ratings and shared playlists only), or shared genres and keywords when the model "
            "does not know the movie."
        ),
    )


def match_score_field() -> graphene.Float:
    return graphene.Float(
        resolver=resolve_match_score,
        description=(
            "Probability (0..1) that the viewer likes this movie (rates it 4 stars or more), "
            "calibrated on held-out ratings; their own rating / 5 when they rated it; null "
            "when anonymous, without feedback, or when no model is active."
        ),
    )


def resolve_similar(root: Any, info: graphene.ResolveInfo, first: int = SIMILAR_DEFAULT) -> Any:
    return SimilarMoviesLoader(info.context).load((root.pk, page_size(first)))


def resolve_match_score(root: Any, info: graphene.ResolveInfo) -> Any:
    return MatchScoreLoader(info.context).load(root.pk)


def extend_types() -> None:
    extend_type(
        Movie,
        similar=similar_field(),
        match_score=match_score_field(),
    )
