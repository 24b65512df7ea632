from graphene import relay
from graphene_django import DjangoObjectType

from movies import models


class Genre(DjangoObjectType):
    class Meta:
        model = models.Genre
        interfaces = (relay.Node,)
        fields = ("id", "name", "tmdb_id")
        description = "A TMDb genre; names are canonical."
