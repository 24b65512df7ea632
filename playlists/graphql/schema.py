from __future__ import annotations

from typing import Any

import graphene

from movierec.graphql.ids import decode_global_id
from movierec.graphql.pagination import OrderKey, connection_field, paginated_connection
from movierec.graphql.permissions import login_required, viewer
from playlists import selectors
from playlists.graphql.mutations.items import AddToPlaylist, MovePlaylistItem, RemoveFromPlaylist
from playlists.graphql.mutations.playlists import CreatePlaylist, DeletePlaylist, UpdatePlaylist
from playlists.graphql.types import Playlist, PlaylistConnection

RECENTLY_UPDATED_FIRST = [OrderKey("updated_at", descending=True)]


def playlist_page(queryset: Any, first: int | None, after: str | None) -> Any:
    """A ``PlaylistConnection`` page, most recently updated first."""
    return paginated_connection(
        PlaylistConnection, queryset, order=RECENTLY_UPDATED_FIRST, first=first, after=after
    )


def profile_playlists_connection(
    *, viewer: Any, user: Any, first: int | None, after: str | None
) -> Any:
    """``User.playlists``: all of them for the member, public ones for everyone else."""
    return playlist_page(
        selectors.playlist_list_for_profile(user=user, viewer=viewer), first, after
    )


class PlaylistQueries(graphene.ObjectType):
    playlist = graphene.Field(
        Playlist,
        id=graphene.ID(required=True, description="The playlist's global ID."),
        description="A playlist by ID; null when unknown or private to someone else.",
    )
    public_playlists = connection_field(
        PlaylistConnection,
        search=graphene.String(description="Case-insensitive part of the title."),
        description="Public playlists, most recently updated first.",
    )
    my_playlists = connection_field(
        PlaylistConnection,
        description="The viewer's playlists of every visibility, most recently updated first.",
    )

    @staticmethod
    def resolve_playlist(root: None, info: graphene.ResolveInfo, id: str) -> Any:
        playlist_pk = decode_global_id(id, type_name="Playlist", field="id")
        return selectors.playlist_get(playlist_id=playlist_pk, viewer=viewer(info))

    @staticmethod
    def resolve_public_playlists(
        root: None,
        info: graphene.ResolveInfo,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Any:
        return playlist_page(selectors.playlist_list_public(search=search), first, after)

    @staticmethod
    @login_required
    def resolve_my_playlists(
        root: None, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None
    ) -> Any:
        return playlist_page(selectors.playlist_list_for_owner(owner=viewer(info)), first, after)


class PlaylistMutations(graphene.ObjectType):
    create_playlist = CreatePlaylist.Field(description="Create a playlist.")
    update_playlist = UpdatePlaylist.Field(description="Change a playlist (owner only).")
    delete_playlist = DeletePlaylist.Field(description="Delete a playlist (owner only).")
    add_to_playlist = AddToPlaylist.Field(description="Add a movie to a playlist.")
    remove_from_playlist = RemoveFromPlaylist.Field(description="Remove a movie from a playlist.")
    move_playlist_item = MovePlaylistItem.Field(description="Move a movie within a playlist.")
