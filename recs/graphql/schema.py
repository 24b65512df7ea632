from typing import Any

import graphene
from graphql_relay import from_global_id

from movierec.graphql.errors import BadUserInput, Forbidden, Unauthenticated
from movierec.graphql.pagination import page_size
from movierec.graphql.permissions import viewer
from recs import selectors
from recs.graphql.dataloaders import request_memo
from recs.graphql.types import Recommendation, TrendWindow


def _user_pk(user_id: str) -> int:
    """A User global ID (or a plain pk, for offline evaluation scripts)."""
    if user_id.isdigit():
        return int(user_id)
    try:
        type_name, pk = from_global_id(user_id)
        if type_name == "User" and pk.isdigit():
            return int(pk)
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    raise BadUserInput("Invalid user id.", field="userId")


class RecommendationQueries(graphene.ObjectType):
    recommendations = graphene.List(
        graphene.NonNull(Recommendation),
        required=True,
        first=graphene.Int(default_value=20, description="How many; at most 100."),
        genre=graphene.String(description="Only movies of this genre (by name)."),
        user_id=graphene.ID(description="Another user's list; staff only."),
        description=(
            "Movies picked for the viewer (trending and popular ones when anonymous); never "
            "empty while the catalogue is not."
        ),
    )
    trending = graphene.List(
        graphene.NonNull("movies.graphql.types.Movie"),
        required=True,
        window=graphene.Argument(TrendWindow, default_value=selectors.TrendWindow.WEEK.value),
        first=graphene.Int(default_value=20, description="How many; at most 100."),
        description="What is hot: TMDb's trending list blended with our users' recent ratings.",
    )

    @staticmethod
    def resolve_recommendations(
        root: None,
        info: graphene.ResolveInfo,
        first: int = 20,
        genre: str | None = None,
        user_id: str | None = None,
    ) -> list[selectors.Rec]:
        n = page_size(first)
        target: Any = viewer(info)
        if user_id is not None:
            if target is None:
                raise Unauthenticated("Authentication required.")
            pk = _user_pk(user_id)
            if pk != target.pk:
                if not target.is_staff:
                    raise Forbidden("Only staff may read another user's recommendations.")
                target = selectors.recommendation_user_get(pk)
        return selectors.recommendations_for_user(
            target, n=n, genre=genre, memo=request_memo(info.context)
        )

    @staticmethod
    def resolve_trending(
        root: None, info: graphene.ResolveInfo, window: Any = "week", first: int = 20
    ) -> list:
        window_value = getattr(window, "value", window)
        return selectors.trending_movies(window=window_value, n=page_size(first))
