from typing import Any

import graphene
from django.conf import settings
from graphql_relay import from_global_id

from movierec.graphql.errors import BadUserInput, Forbidden, Unauthenticated
from movierec.graphql.pagination import page_size
from movierec.graphql.permissions import viewer
from movies import selectors as movie_selectors
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


def _offset(offset: int) -> int:
    if not 0 <= offset <= settings.GRAPHQL_MAX_LIST_OFFSET:
        raise BadUserInput(
            f"`offset` must be between 0 and {settings.GRAPHQL_MAX_LIST_OFFSET}.", field="offset"
        )
    return offset


OFFSET_DESCRIPTION = (
    f"Skip this many (0 by default, at most {settings.GRAPHQL_MAX_LIST_OFFSET}): the next "
    "page starts at offset + first. "
    "A page shorter than `first` is the last."
)


class RecommendationQueries(graphene.ObjectType):
    recommendations = graphene.List(
        graphene.NonNull(Recommendation),
        required=True,
        first=graphene.Int(default_value=20, description="How many; at most 100."),
        offset=graphene.Int(default_value=0, description=OFFSET_DESCRIPTION),
        genre=graphene.String(description="Only movies of this genre (by name)."),
        user_id=graphene.ID(description="Another user's list; staff only."),
        description=(
            "Movies picked for the viewer (trending and popular ones when anonymous), without "
            "the ones they marked not interested; never empty while the catalogue is not."
        ),
    )
    trending = graphene.List(
        graphene.NonNull("movies.graphql.types.Movie"),
        required=True,
        window=graphene.Argument(TrendWindow, default_value=selectors.TrendWindow.WEEK.value),
        first=graphene.Int(default_value=20, description="How many; at most 100."),
        offset=graphene.Int(default_value=0, description=OFFSET_DESCRIPTION),
        description="What is hot: TMDb's trending list blended with our users' recent ratings.",
    )

    @staticmethod
    def resolve_recommendations(
        root: None,
        info: graphene.ResolveInfo,
        first: int = 20,
        offset: int = 0,
        genre: str | None = None,
        user_id: str | None = None,
    ) -> list[selectors.Rec]:
        n, skip = page_size(first), _offset(offset)
        target: Any = viewer(info)
        if user_id is not None:
            if target is None:
                raise Unauthenticated("Authentication required.")
            pk = _user_pk(user_id)
            if pk != target.pk:
                if not target.is_staff:
                    raise Forbidden("Only staff may read another user's recommendations.")
                target = selectors.recommendation_user_get(pk)
        if genre is not None:  # forgiving names ("sci-fi"), canonical before the selector
            genre = movie_selectors.genre_get_by_name(genre).name
        # "Not interested" movies never enter the list (the selector excludes them).
        recs = selectors.recommendations_for_user(
            target, n=skip + n, genre=genre, memo=request_memo(info.context)
        )
        return recs[skip : skip + n]

    @staticmethod
    def resolve_trending(
        root: None,
        info: graphene.ResolveInfo,
        window: Any = "week",
        first: int = 20,
        offset: int = 0,
    ) -> list:
        window_value = getattr(window, "value", window)
        n, skip = page_size(first), _offset(offset)
        return selectors.trending_movies(window=window_value, n=skip + n)[skip:]
