"""Reads for playlists, filtered by viewer so that hidden playlists look absent.

Visibility: PUBLIC is listed and readable by anyone; UNLISTED is readable by anyone who has its
ID but never listed; PRIVATE exists only for its owner (staff included: moderation goes through
the admin, not the API).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, FloatField, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Lower

from playlists.models import Playlist, PlaylistItem

if TYPE_CHECKING:
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


# ------------------------------------------------------ interaction rows for recommenders
# Only PUBLIC and UNLISTED playlists may shape what strangers see (shared model structures);
# a PRIVATE playlist counts only in its owner's own rows (``playlist_item_rows_for_owner``).
SHARED = (Visibility.PUBLIC, Visibility.UNLISTED)

#: Layout of :func:`shared_playlist_rows_copy`: per row an int16 field count 3, then for
#: each of owner (int8), movie (int8), first added as Unix seconds (int8) an int32 length
#: and the big-endian value. Every column is NOT NULL, so rows are fixed width.
SHARED_PLAYLIST_COPY_COLUMNS = (("user", "i8"), ("movie", "i8"), ("ts", "i8"))

# One row per (owner, movie), at the earliest time the owner listed the movie.
_SHARED_COPY = f"""
COPY (
    SELECT p.owner_id::int8, i.movie_id::int8, floor(date_part('epoch', min(i.added_at)))::int8
      FROM playlists_playlistitem i JOIN playlists_playlist p ON p.id = i.playlist_id
     WHERE p.visibility IN ({", ".join(f"'{v}'" for v in SHARED)})
     GROUP BY p.owner_id, i.movie_id
     ORDER BY p.owner_id, i.movie_id  -- the same data, the same rows in the same order
) TO STDOUT (FORMAT BINARY)
"""  # noqa: S608 - the only interpolation is this module's own visibility constants


def shared_playlist_rows_copy() -> Iterator[bytes]:
    """Movies listed in shared playlists, per owner, as PostgreSQL binary COPY blocks
    (layout: :data:`SHARED_PLAYLIST_COPY_COLUMNS`).

    Runs in the caller's transaction, so a caller reading several owners in one REPEATABLE
    READ transaction sees one snapshot. Consume it fully before the transaction ends.
    """
    with connection.cursor() as cursor, cursor.cursor.copy(_SHARED_COPY) as copy:
        yield from copy


def shared_playlist_items_added_since(cutoff: datetime) -> int:
    """Items added to shared playlists after ``cutoff``."""
    return PlaylistItem.objects.filter(added_at__gt=cutoff, playlist__visibility__in=SHARED).count()


def playlist_item_rows_for_owner(*, user_id: int, kind: int) -> QuerySet:
    """Every item of the user's own playlists (PRIVATE included) as ``(movie_id, 0.0, kind,
    added_at)`` rows, for the caller to UNION ALL with other owners' rows into one query."""
    return PlaylistItem.objects.filter(playlist__owner_id=user_id).values_list(
        "movie_id",
        Value(0.0, output_field=FloatField()),
        Value(kind, output_field=IntegerField()),
        "added_at",
    )
