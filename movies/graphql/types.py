from graphene import relay
from graphene_django import DjangoObjectType

from movies import models
from recs.graphql import movie_fields


class Genre(DjangoObjectType):
    class Meta:
        model = models.Genre
        interfaces = (relay.Node,)
        fields = ("id", "name", "tmdb_id")
        description = "A TMDb genre; names are canonical."


class Movie(DjangoObjectType):
    class Meta:
        model = models.Movie
        interfaces = (relay.Node,)
        fields = ("id", "tmdb_id", "title", "year")
        description = "A film from the TMDb-synced catalogue."

    # --- Recommendations (recs.graphql.movie_fields) ------------------------------------------
    similar = movie_fields.similar_field()
    match_score = movie_fields.match_score_field()
    resolve_similar = staticmethod(movie_fields.resolve_similar)
    resolve_match_score = staticmethod(movie_fields.resolve_match_score)
