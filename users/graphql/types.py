import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from movies.graphql.types import Genre
from users import models
from users.graphql.dataloaders import FavoriteGenresByUserLoader


class User(DjangoObjectType):
    favorite_genres = graphene.List(
        graphene.NonNull(Genre), required=True, description="Cold-start genre preferences."
    )

    class Meta:
        model = models.User
        interfaces = (relay.Node,)
        fields = ("id", "username", "date_joined")
        description = "A member. Others see only the public profile."

    @staticmethod
    def resolve_favorite_genres(root: models.User, info: graphene.ResolveInfo) -> object:
        return FavoriteGenresByUserLoader(info.context).load(root.pk)
