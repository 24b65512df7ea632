"""Catalogue queries: one movie, the searchable/filterable movie list, and genres."""

from __future__ import annotations

from typing import Any

import graphene

from movierec.graphql.errors import BadUserInput
from movierec.graphql.ids import decode_global_id
from movierec.graphql.pagination import paginated_connection
from movies import models, selectors
from movies.graphql.filters import MovieOrder, movie_order_keys
from movies.graphql.types import Genre, Movie, MovieConnection, Person


class MovieQueries(graphene.ObjectType):
    movie = graphene.Field(
        Movie,
        id=graphene.ID(description="The movie's global ID."),
        tmdb_id=graphene.Int(description="The movie's TMDb id."),
        description="One movie by `id` or by `tmdbId` (exactly one); null when there is none.",
    )
    movies = graphene.Field(
        MovieConnection,
        required=True,
        first=graphene.Int(description="Page size: 20 by default, at most 100."),
        after=graphene.String(description="The `endCursor` of the previous page."),
        search=graphene.String(
            description=(
                "Full-text search over title, original title, keywords and overview; the last "
                "word matches as a prefix and titles tolerate typos."
            )
        ),
        genres=graphene.List(
            graphene.NonNull(graphene.String),
            description="Genre names; a movie must have all of them. Unknown names are an error.",
        ),
        year_from=graphene.Int(description="Released in or after this year."),
        year_to=graphene.Int(description="Released in or before this year."),
        min_rating=graphene.Float(
            description="Minimum community average (0 to 5); excludes unrated movies."
        ),
        language=graphene.String(description="Original language, ISO 639-1 (e.g. 'fr')."),
        person=graphene.ID(description="Only movies this Person (global ID) is credited in."),
        order_by=MovieOrder(
            description="Sort order: RELEVANCE by default with `search`, else POPULARITY."
        ),
        description="The catalogue, filtered, searched and sorted, as a Relay connection.",
    )
    genres = graphene.List(
        graphene.NonNull(Genre), required=True, description="All genres, by name."
    )
    person = graphene.Field(
        Person,
        id=graphene.ID(required=True, description="The person's global ID."),
        description="One person of the cast or crew; null when there is none.",
    )

    @staticmethod
    def resolve_movie(
        root: None, info: graphene.ResolveInfo, id: str | None = None, tmdb_id: int | None = None
    ) -> models.Movie | None:
        if (id is None) == (tmdb_id is None):
            raise BadUserInput("Give exactly one of `id` and `tmdbId`.", field="id")
        pk = decode_global_id(id, type_name="Movie") if id is not None else None
        return selectors.movie_get(pk=pk, tmdb_id=tmdb_id)

    @staticmethod
    def resolve_movies(
        root: None,
        info: graphene.ResolveInfo,
        first: int | None = None,
        after: str | None = None,
        order_by: Any = None,
        person: str | None = None,
        **filter_args: Any,
    ) -> Any:
        if person is not None:
            filter_args["person_id"] = decode_global_id(person, type_name="Person", field="person")
        filters = selectors.MovieFilters(**filter_args)
        filters.clean()  # its errors first, as before the order was read
        order = movie_order_keys(order_by, has_search=filters.has_search)
        damped = any(key.field == "community_score_value" for key in order)
        queryset = selectors.movie_list(filters=filters, damped_score=damped)
        tiers = None
        if filters.has_search and any(key.field == "search_tier" for key in order):
            tiers = selectors.movie_search_tiers(queryset, filters.search or "")
        return paginated_connection(
            MovieConnection, queryset, order=order, first=first, after=after, tiers=tiers
        )

    @staticmethod
    def resolve_genres(root: None, info: graphene.ResolveInfo) -> list[models.Genre]:
        return list(selectors.genre_list())

    @staticmethod
    def resolve_person(root: None, info: graphene.ResolveInfo, id: str) -> models.Person | None:
        return selectors.person_get(pk=decode_global_id(id, type_name="Person"))
