"""GraphQL types of playlists. ``Movie`` and ``User`` are referenced by import path."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from movierec.graphql.ids import decode_global_id
from movierec.graphql.nested import nested_connection
from movierec.graphql.pagination import CountableConnection, connection_field
from movies.graphql.dataloaders import MovieByIdLoader
from playlists import models
from playlists.graphql.dataloaders import (
    ContainsMovieLoader,
    ItemCountByPlaylistLoader,
    ItemPageByPlaylistLoader,
)
from users.graphql.dataloaders import UserByIdLoader


class Visibility(graphene.Enum):
    """Who can see a playlist."""

    PUBLIC = models.Playlist.Visibility.PUBLIC.value
    UNLISTED = models.Playlist.Visibility.UNLISTED.value
    PRIVATE = models.Playlist.Visibility.PRIVATE.value

    @property
    def description(self) -> str:
        return {
            "PUBLIC": "Listed and readable by anyone.",
            "UNLISTED": "Readable by anyone with its ID, never listed.",
            "PRIVATE": "Only the owner can see it.",
        }[self.name]


class PlaylistItem(DjangoObjectType):
    movie = graphene.Field(graphene.NonNull("movies.graphql.types.Movie"), description="The movie.")

    class Meta:
        model = models.PlaylistItem
        fields = ("position", "note", "added_at")
        description = "A movie in a playlist, at a 0-based position."

    @staticmethod
    def resolve_movie(root: models.PlaylistItem, info: graphene.ResolveInfo) -> Any:
        return MovieByIdLoader(info.context).load(root.movie_id)


class PlaylistItemConnection(CountableConnection):
    class Meta:
        node = PlaylistItem
        description = "A page of playlist items in playlist order."


class Playlist(DjangoObjectType):
    visibility = graphene.Field(Visibility, required=True, description="Who can see it.")
    owner = graphene.Field(graphene.NonNull("users.graphql.types.User"), description="Who made it.")
    items = connection_field(
        PlaylistItemConnection,
        description="The movies, in playlist order.",
    )
    item_count = graphene.Int(required=True, description="Number of movies in the playlist.")
    contains_movie = graphene.Boolean(
        required=True,
        movie_id=graphene.ID(required=True, description="A movie's global ID."),
        description="Whether the movie is in this playlist.",
    )

    class Meta:
        model = models.Playlist
        interfaces = (relay.Node,)
        fields = ("id", "title", "description", "created_at", "updated_at")
        description = "An ordered list of movies made by a member."

    @staticmethod
    def resolve_visibility(root: models.Playlist, info: graphene.ResolveInfo) -> str:
        return root.visibility

    @staticmethod
    def resolve_owner(root: models.Playlist, info: graphene.ResolveInfo) -> Any:
        return UserByIdLoader(info.context).load(root.owner_id)

    @staticmethod
    def resolve_item_count(root: models.Playlist, info: graphene.ResolveInfo) -> Any:
        return ItemCountByPlaylistLoader(info.context).load(root.pk)

    @staticmethod
    def resolve_items(
        root: models.Playlist,
        info: graphene.ResolveInfo,
        first: int | None = None,
        after: str | None = None,
    ) -> Any:
        return nested_connection(
            info,
            PlaylistItemConnection,
            parent_id=root.pk,
            first=first,
            after=after,
            pages=ItemPageByPlaylistLoader,
            counts=ItemCountByPlaylistLoader,
        )

    @staticmethod
    def resolve_contains_movie(
        root: models.Playlist, info: graphene.ResolveInfo, movie_id: str
    ) -> Any:
        movie_pk = decode_global_id(movie_id, type_name="Movie", field="movieId")
        return ContainsMovieLoader(info.context).load((root.pk, movie_pk))


class PlaylistConnection(CountableConnection):
    class Meta:
        node = Playlist
        description = "A page of playlists."
