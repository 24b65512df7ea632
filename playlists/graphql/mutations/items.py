"""addToPlaylist / removeFromPlaylist / movePlaylistItem: each answers the playlist."""

from __future__ import annotations

from typing import Any

import graphene

from movierec.graphql.ids import decode_global_id
from movierec.graphql.permissions import login_required, viewer
from movies.graphql.inputs import movie_from_global_id
from playlists import services
from playlists.graphql.types import Playlist


def _playlist_pk(value: str) -> int:
    return decode_global_id(value, type_name="Playlist", field="playlistId")


class AddToPlaylist(graphene.Mutation):
    """Insert a movie at a position (default: the end; beyond the end: appended)."""

    class Arguments:
        playlist_id = graphene.ID(required=True, description="The playlist's global ID.")
        movie_id = graphene.ID(required=True, description="The movie's global ID.")
        position = graphene.Int(description="0-based; must not be negative.")
        note = graphene.String(description="A short note, at most 500 characters.")

    Output = Playlist

    @staticmethod
    @login_required
    def mutate(
        root: None,
        info: graphene.ResolveInfo,
        playlist_id: str,
        movie_id: str,
        position: int | None = None,
        note: str | None = None,
    ) -> Any:
        playlist_pk = _playlist_pk(playlist_id)
        return services.playlist_movie_add(
            playlist_id=playlist_pk,
            actor=viewer(info),
            movie=movie_from_global_id(movie_id),
            position=position,
            note=note,
        )


class RemoveFromPlaylist(graphene.Mutation):
    """Remove a movie; later items move up so positions stay 0..n-1."""

    class Arguments:
        playlist_id = graphene.ID(required=True, description="The playlist's global ID.")
        movie_id = graphene.ID(required=True, description="The movie's global ID.")

    Output = Playlist

    @staticmethod
    @login_required
    def mutate(root: None, info: graphene.ResolveInfo, playlist_id: str, movie_id: str) -> Any:
        playlist_pk = _playlist_pk(playlist_id)
        return services.playlist_movie_remove(
            playlist_id=playlist_pk, actor=viewer(info), movie=movie_from_global_id(movie_id)
        )


class MovePlaylistItem(graphene.Mutation):
    """Move a movie to a position (beyond the end: last); the items between shift by one."""

    class Arguments:
        playlist_id = graphene.ID(required=True, description="The playlist's global ID.")
        movie_id = graphene.ID(required=True, description="The movie's global ID.")
        position = graphene.Int(required=True, description="0-based target position.")

    Output = Playlist

    @staticmethod
    @login_required
    def mutate(
        root: None, info: graphene.ResolveInfo, playlist_id: str, movie_id: str, position: int
    ) -> Any:
        playlist_pk = _playlist_pk(playlist_id)
        return services.playlist_movie_move(
            playlist_id=playlist_pk,
            actor=viewer(info),
            movie=movie_from_global_id(movie_id),
            position=position,
        )
