import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from movierec.graphql.permissions import viewer
from movies.graphql.types import Genre
from users import models
from users.graphql.dataloaders import FavoriteGenresByUserLoader

_SELF_KEY = "_users_signed_in_by_this_request"


def mark_signed_in(context: object, user: models.User) -> None:
    """A user this request just signed in (register, tokenAuth...): their own payload may show
    private fields such as ``email`` though the request itself came in anonymous."""
    context.__dict__.setdefault(_SELF_KEY, set()).add(user.pk)


def is_self(info: graphene.ResolveInfo, user: models.User) -> bool:
    current = viewer(info)
    if current is not None and current.pk == user.pk:
        return True
    return user.pk in info.context.__dict__.get(_SELF_KEY, ())


class User(DjangoObjectType):
    favorite_genres = graphene.List(
        graphene.NonNull(Genre), required=True, description="Cold-start genre preferences."
    )
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
    def resolve_email(root: models.User, info: graphene.ResolveInfo) -> str | None:
        return root.email if is_self(info, root) else None


class AuthPayload(graphene.ObjectType):
    """A signed-in session: send `access` as `Authorization: Bearer`, keep `refresh`."""

    access = graphene.String(required=True, description="Short-lived access token (JWT).")
    refresh = graphene.String(
        required=True, description="Long-lived refresh token; single use, rotated on refresh."
    )
    user = graphene.Field(User, required=True, description="The signed-in user.")
