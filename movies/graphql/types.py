import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from movies import models
from ratings.graphql.types import resolve_movie_my_rating, resolve_movie_reviews


class Genre(DjangoObjectType):
    class Meta:
        model = models.Genre
        interfaces = (relay.Node,)
        fields = ("id", "name", "tmdb_id")
        description = "A TMDb genre; names are canonical."


class Movie(DjangoObjectType):
    """Minimal Movie type so lists can reference movies; the movies API replaces the top part.

    Keep the ratings block at the end of the class when merging.
    """

    class Meta:
        model = models.Movie
        interfaces = (relay.Node,)
        fields = ("id", "tmdb_id", "title", "year")
        description = "A film from the catalogue."

    # --- ratings: the viewer's rating and public reviews (ratings.graphql.types) -------------
    my_rating = graphene.Field(
        "ratings.graphql.types.Rating",
        description="The viewer's rating of this movie; null when anonymous or unrated.",
        resolver=resolve_movie_my_rating,
    )
    reviews = graphene.Field(
        graphene.NonNull("ratings.graphql.types.RatingConnection"),
        first=graphene.Int(),
        after=graphene.String(),
        description="Ratings with a written review, newest first.",
        resolver=resolve_movie_reviews,
    )
