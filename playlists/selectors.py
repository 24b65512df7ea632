"""Reads for playlists, filtered by viewer so that hidden playlists look absent.

Visibility: PUBLIC is listed and readable by anyone; UNLISTED is readable by anyone who has its
ID but never listed; PRIVATE exists only for its owner (staff included: moderation goes through
the admin, not the API).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from playlists.models import Playlist, PlaylistItem
from users.models import User

Visibility = Playlist.Visibility


def _viewer_id(viewer: Any) -> int | None:
    return viewer.pk if viewer is not None and viewer.is_authenticated else None


def playlist_readable(*, viewer: Any) -> QuerySet[Playlist]:
    """Every playlist ``viewer`` may open by ID (public, unlisted, and their own)."""
    readable = Q(visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED])
    viewer_id = _viewer_id(viewer)
    if viewer_id is not None:
        readable |= Q(owner_id=viewer_id)
    return Playlist.objects.filter(readable)


def playlist_get(*, playlist_id: int, viewer: Any) -> Playlist | None:
    """The playlist if ``viewer`` may read it, else None (unknown and private look the same)."""
    return playlist_readable(viewer=viewer).filter(pk=playlist_id).first()


def playlist_list_public(*, search: str | None = None) -> QuerySet[Playlist]:
    """Listed playlists, optionally whose title contains ``search`` (case-insensitive).

    ``lower(title) LIKE '%term%'`` is what the ``playlist_title_trgm`` GIN index serves.
    """
    qs = Playlist.objects.filter(visibility=Visibility.PUBLIC)
    term = (search or "").strip().lower()
    if term:
        qs = qs.annotate(title_lower=Lower("title")).filter(title_lower__contains=term)
    return qs


def playlist_list_for_owner(*, owner: User) -> QuerySet[Playlist]:
    """All of the owner's playlists, whatever their visibility."""
    return Playlist.objects.filter(owner=owner)


def playlist_list_for_profile(*, user: User, viewer: Any) -> QuerySet[Playlist]:
    """A user's playlists as ``viewer`` sees them: all for the owner, public ones for others."""
    if _viewer_id(viewer) == user.pk:
        return playlist_list_for_owner(owner=user)
    return Playlist.objects.filter(owner=user, visibility=Visibility.PUBLIC)


def playlist_items() -> QuerySet[PlaylistItem]:
    """Items of playlists the caller has already been allowed to read."""
    return PlaylistItem.objects.all()


def item_counts_for_playlists(*, playlist_ids: Iterable[int]) -> dict[int, int]:
    """Number of items per playlist: one ``COUNT ... GROUP BY playlist_id``."""
    rows = (
        PlaylistItem.objects.filter(playlist_id__in=list(playlist_ids))
        .values("playlist_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["playlist_id"]: row["n"] for row in rows}


def playlist_movie_pairs(
    *, playlist_ids: Iterable[int], movie_ids: Iterable[int]
) -> set[tuple[int, int]]:
    """The (playlist_id, movie_id) pairs among these that are playlist items, in one query."""
    rows = PlaylistItem.objects.filter(
        playlist_id__in=list(playlist_ids), movie_id__in=list(movie_ids)
    ).values_list("playlist_id", "movie_id")
    return set(rows)
