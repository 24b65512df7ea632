import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from movierec.graphql.permissions import viewer
from movies.graphql.types import Genre
from users import models
from users.graphql.dataloaders import FavoriteGenresByUserLoader, RatingCountByUserLoader


class User(DjangoObjectType):
    favorite_genres = graphene.List(
        graphene.NonNull(Genre), required=True, description="Cold-start genre preferences."
    )
    rating_count = graphene.Int(required=True, description="How many movies the user rated.")
    email = graphene.String(
        description="The email address; only on the signed-in user's own profile (`me`)."
    )

    class Meta:
        model = models.User
        interfaces = (relay.Node,)
        fields = ("id", "username", "date_joined")
        description = "A member. Others see only the public profile."

    @classmethod
    def get_queryset(cls, queryset, info):  # noqa: ANN001, ANN206 (graphene's signature)
        return queryset.filter(is_active=True)

    @staticmethod
    def resolve_favorite_genres(root: models.User, info: graphene.ResolveInfo) -> object:
        return FavoriteGenresByUserLoader(info.context).load(root.pk)

    @staticmethod
    def resolve_rating_count(root: models.User, info: graphene.ResolveInfo) -> object:
        return RatingCountByUserLoader(info.context).load(root.pk)

    @staticmethod
    def resolve_email(root: models.User, info: graphene.ResolveInfo) -> str | None:
        user = viewer(info)
        return root.email if user is not None and user.pk == root.pk else None


class AuthPayload(graphene.ObjectType):
    """A signed-in session: send `access` as `Authorization: Bearer`, keep `refresh`."""

    access = graphene.String(required=True, description="Short-lived access token (JWT).")
    refresh = graphene.String(
        required=True, description="Long-lived refresh token; single use, rotated on refresh."
    )
    user = graphene.Field(User, required=True, description="The signed-in user.")
