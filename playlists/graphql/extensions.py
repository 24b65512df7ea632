"""The field playlists adds to ``User``: ``User.playlists``. Called from
``PlaylistsConfig.ready()`` (see ``movierec.graphql.extend``)."""

from __future__ import annotations

from typing import Any

import graphene

from movierec.graphql.extend import extend_type
from movierec.graphql.pagination import connection_field
from movierec.graphql.permissions import viewer
from playlists.graphql.schema import profile_playlists_connection
from playlists.graphql.types import PlaylistConnection
from users.graphql.types import User


def resolve_user_playlists(
    root: Any, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None
) -> Any:
    return profile_playlists_connection(viewer=viewer(info), user=root, first=first, after=after)


def extend_types() -> None:
    extend_type(
        User,
        playlists=connection_field(
            PlaylistConnection,
            description="This member's playlists, most recently updated first: all of them for "
            "the member, the public ones for everyone else.",
            resolver=resolve_user_playlists,
        ),
    )
