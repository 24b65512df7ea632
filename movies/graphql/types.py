"""GraphQL types of the catalogue: Movie (a Relay node), Genre, Keyword, Credit."""

from __future__ import annotations

from typing import Any

import graphene
from django.conf import settings
from graphene import relay
from graphene_django import DjangoObjectType

from movierec.graphql.pagination import CountableConnection, page_size
from movies import models
from movies.graphql.dataloaders import (
    CreditsByMovieLoader,
    GenresByMovieLoader,
    KeywordsByMovieLoader,
)


def image_url(path: str, size: str) -> str | None:
    """A TMDb image URL (``TMDB_IMAGE_BASE_URL`` + size + path); None without a path."""
    if not path:
        return None
    return f"{settings.TMDB_IMAGE_BASE_URL.rstrip('/')}/{size}/{path.lstrip('/')}"


class Genre(DjangoObjectType):
    name = graphene.String(required=True, description="Canonical (TMDb) genre name.")
    tmdb_id = graphene.Int(description="TMDb genre id; null for genres only imports know.")

    class Meta:
        model = models.Genre
        interfaces = (relay.Node,)
        fields = ("id", "name", "tmdb_id")
        description = "A TMDb genre; names are canonical."


class Keyword(DjangoObjectType):
    name = graphene.String(required=True, description="The keyword, as TMDb spells it.")

    class Meta:
        model = models.Keyword
        fields = ("name",)
        description = "A TMDb keyword tagging a movie's subject (e.g. 'heist')."


class CreditKind(graphene.Enum):
    """Whether a credit is an acting role or a crew job."""

    CAST = models.Credit.Kind.CAST.value
    CREW = models.Credit.Kind.CREW.value

    @property
    def description(self) -> str:
        return "An acting role." if self == CreditKind.CAST else "A crew job (director, writer...)."


class Credit(DjangoObjectType):
    name = graphene.String(required=True, description="The person's name.")
    kind = CreditKind(required=True, description="Cast or crew.")
    character = graphene.String(description="The role played; null for crew.")
    job = graphene.String(description="The job (e.g. Director); null for cast.")
    department = graphene.String(description="The crew department (e.g. Directing); null for cast.")
    order = graphene.Int(
        required=True, description="Billing order within the cast (0 first); 0 for crew."
    )
    profile_url = graphene.String(description="The person's TMDb portrait; null when unknown.")

    class Meta:
        model = models.Credit
        fields = ("kind", "character", "job", "department", "order")
        description = "A person's part in a movie: an acting role or a crew job."

    @staticmethod
    def resolve_name(root: models.Credit, info: graphene.ResolveInfo) -> str:
        return root.person.name

    @staticmethod
    def resolve_character(root: models.Credit, info: graphene.ResolveInfo) -> str | None:
        return root.character or None

    @staticmethod
    def resolve_job(root: models.Credit, info: graphene.ResolveInfo) -> str | None:
        return root.job or None

    @staticmethod
    def resolve_department(root: models.Credit, info: graphene.ResolveInfo) -> str | None:
        return root.department or None

    @staticmethod
    def resolve_profile_url(root: models.Credit, info: graphene.ResolveInfo) -> str | None:
        return image_url(root.person.profile_path, settings.TMDB_POSTER_SIZE)


class CommunityRating(graphene.ObjectType):
    """What movierec's own users think, from counters kept by the ratings service."""

    average = graphene.Float(description="Mean score (0.5 to 5.0), 2 decimals; null if unrated.")
    count = graphene.Int(required=True, description="How many users rated the movie.")


class Movie(DjangoObjectType):
    tmdb_id = graphene.Int(
        description=(
            "TMDb id. Null only for movies imported without a TMDb link (MovieLens rows "
            "missing from links.csv), which is why it is nullable although every synced "
            "movie has one."
        )
    )
    imdb_id = graphene.String(description="IMDb id (e.g. tt0068646); null when unknown.")
    title = graphene.String(required=True, description="Title in English (TMDb's title).")
    original_title = graphene.String(
        required=True, description="Title in the original language; may equal `title`."
    )
    overview = graphene.String(required=True, description="Plot summary; empty when unknown.")
    tagline = graphene.String(description="TMDb tagline; null when there is none.")
    release_date = graphene.Date(description="First release date; null when unknown.")
    year = graphene.Int(description="Release year; imports may know only the year.")
    runtime = graphene.Int(description="Running time in minutes; null when unknown.")
    original_language = graphene.String(
        description="ISO 639-1 code of the original language (e.g. 'en'); null when unknown."
    )
    status = graphene.String(description="TMDb release status (e.g. 'Released'); null if unknown.")
    poster_url = graphene.String(description="Poster image URL (TMDb CDN); null without a poster.")
    backdrop_url = graphene.String(description="Backdrop image URL; null without a backdrop.")
    popularity = graphene.Float(required=True, description="TMDb popularity score.")
    tmdb_vote_average = graphene.Float(required=True, description="TMDb's vote average (0-10).")
    tmdb_vote_count = graphene.Int(required=True, description="Number of TMDb votes.")
    community_rating = graphene.Field(
        CommunityRating, required=True, description="Ratings by movierec's own users."
    )
    genres = graphene.List(graphene.NonNull(Genre), required=True, description="Genres, by name.")
    keywords = graphene.List(
        graphene.NonNull(Keyword), required=True, description="TMDb keywords, by name."
    )
    credits = graphene.List(
        graphene.NonNull(Credit),
        required=True,
        kind=CreditKind(description="Only cast or only crew; both when omitted."),
        first=graphene.Int(description="At most this many (0 to 100); all when omitted."),
        description="Cast in billing order, then crew.",
    )

    class Meta:
        model = models.Movie
        interfaces = (relay.Node,)
        connection_class = CountableConnection
        fields = (
            "id",
            "tmdb_id",
            "imdb_id",
            "title",
            "original_title",
            "overview",
            "tagline",
            "release_date",
            "year",
            "runtime",
            "original_language",
            "status",
            "popularity",
        )
        description = "A movie of the catalogue (synced from TMDb or imported)."

    @staticmethod
    def resolve_imdb_id(root: models.Movie, info: graphene.ResolveInfo) -> str | None:
        return root.imdb_id or None

    @staticmethod
    def resolve_tagline(root: models.Movie, info: graphene.ResolveInfo) -> str | None:
        return root.tagline or None

    @staticmethod
    def resolve_original_language(root: models.Movie, info: graphene.ResolveInfo) -> str | None:
        return root.original_language or None

    @staticmethod
    def resolve_status(root: models.Movie, info: graphene.ResolveInfo) -> str | None:
        return root.status or None

    @staticmethod
    def resolve_poster_url(root: models.Movie, info: graphene.ResolveInfo) -> str | None:
        return image_url(root.poster_path, settings.TMDB_POSTER_SIZE)

    @staticmethod
    def resolve_backdrop_url(root: models.Movie, info: graphene.ResolveInfo) -> str | None:
        return image_url(root.backdrop_path, settings.TMDB_BACKDROP_SIZE)

    @staticmethod
    def resolve_tmdb_vote_average(root: models.Movie, info: graphene.ResolveInfo) -> float:
        return root.vote_average

    @staticmethod
    def resolve_tmdb_vote_count(root: models.Movie, info: graphene.ResolveInfo) -> int:
        return root.vote_count

    @staticmethod
    def resolve_community_rating(root: models.Movie, info: graphene.ResolveInfo) -> CommunityRating:
        return CommunityRating(average=root.community_average, count=root.rating_count)

    @staticmethod
    def resolve_genres(root: models.Movie, info: graphene.ResolveInfo) -> Any:
        return GenresByMovieLoader(info.context).load(root.pk)

    @staticmethod
    def resolve_keywords(root: models.Movie, info: graphene.ResolveInfo) -> Any:
        return KeywordsByMovieLoader(info.context).load(root.pk)

    @staticmethod
    def resolve_credits(
        root: models.Movie,
        info: graphene.ResolveInfo,
        kind: Any = None,
        first: int | None = None,
    ) -> Any:
        if first is not None:
            page_size(first)  # the one `first` check: BAD_USER_INPUT beyond 0..100
        kind_value = getattr(kind, "value", kind)
        return CreditsByMovieLoader(info.context).load((root.pk, kind_value, first))


MovieConnection = Movie._meta.connection
