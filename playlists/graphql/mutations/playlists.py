"""createPlaylist / updatePlaylist / deletePlaylist."""

from __future__ import annotations

from typing import Any

import graphene

from movierec.graphql.ids import decode_global_id
from movierec.graphql.permissions import login_required, viewer
from movierec.graphql.types import OkPayload
from playlists import services
from playlists.graphql.types import Playlist, Visibility


class CreatePlaylist(graphene.Mutation):
    """Create an empty playlist owned by the viewer."""

    class Arguments:
        title = graphene.String(required=True, description="At most 200 characters.")
        description = graphene.String(description="At most 2000 characters.")
        visibility = Visibility(
            default_value=Visibility.PRIVATE.value, description="PRIVATE unless given."
        )

    Output = Playlist

    @staticmethod
    @login_required
    def mutate(
        root: None,
        info: graphene.ResolveInfo,
        title: str,
        description: str | None = None,
        visibility: Any = Visibility.PRIVATE.value,
    ) -> Any:
        return services.playlist_create(
            owner=viewer(info), title=title, description=description, visibility=visibility
        )


class UpdatePlaylist(graphene.Mutation):
    """Change a playlist's title, description or visibility (owner only)."""

    class Arguments:
        id = graphene.ID(required=True, description="The playlist's global ID.")
        title = graphene.String(description="New title; omit to keep it.")
        description = graphene.String(description="New description; omit to keep it.")
        visibility = Visibility(description="New visibility; omit to keep it.")

    Output = Playlist

    @staticmethod
    @login_required
    def mutate(
        root: None,
        info: graphene.ResolveInfo,
        id: str,
        title: str | None = None,
        description: str | None = None,
        visibility: Any = None,
    ) -> Any:
        return services.playlist_update(
            playlist_id=decode_global_id(id, type_name="Playlist", field="id"),
            actor=viewer(info),
            title=title,
            description=description,
            visibility=visibility,
        )


class DeletePlaylist(graphene.Mutation):
    """Delete a playlist and its items (owner only)."""

    class Arguments:
        id = graphene.ID(required=True, description="The playlist's global ID.")

    Output = OkPayload

    @staticmethod
    @login_required
    def mutate(root: None, info: graphene.ResolveInfo, id: str) -> OkPayload:
        services.playlist_delete(
            playlist_id=decode_global_id(id, type_name="Playlist", field="id"),
            actor=viewer(info),
        )
        return OkPayload(ok=True)
