import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from movierec.graphql.permissions import viewer
from movies.graphql.types import Genre
from playlists.graphql.schema import profile_playlists_connection
from ratings.graphql.schema import watchlist_connection
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

    # --- lists: watchlist and playlists (ratings / playlists apps) ----------------------------
    watchlist = graphene.Field(
        "ratings.graphql.types.SavedMovieConnection",
        first=graphene.Int(),
        after=graphene.String(),
        description="Movies this member wants to watch, newest first. Private: null for "
        "anyone but the member themself.",
    )
    playlists = graphene.Field(
        graphene.NonNull("playlists.graphql.types.PlaylistConnection"),
        first=graphene.Int(),
        after=graphene.String(),
        description="This member's playlists, most recently updated first: all of them for "
        "the member, the public ones for everyone else.",
    )

    @staticmethod
    def resolve_watchlist(
        root: models.User,
        info: graphene.ResolveInfo,
        first: int | None = None,
        after: str | None = None,
    ) -> object:
        return watchlist_connection(viewer=viewer(info), user=root, first=first, after=after)

    @staticmethod
    def resolve_playlists(
        root: models.User,
        info: graphene.ResolveInfo,
        first: int | None = None,
        after: str | None = None,
    ) -> object:
        return profile_playlists_connection(
            viewer=viewer(info), user=root, first=first, after=after
        )
