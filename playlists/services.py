"""Writes for playlists and their ordered items.

Item positions are 0-based and dense (0..n-1). Every change locks the playlist row
(``SELECT ... FOR UPDATE``) first, so concurrent edits of one playlist serialize and never
leave gaps or duplicates. Range shifts are single ``UPDATE``s with F() expressions; the
``(playlist, position)`` unique constraint is deferrable, so it is checked once the statement
(or, by default, the transaction) is done rather than row by row.

Access: only the owner may change a playlist. For anyone else a private playlist does not
exist (``Playlist.DoesNotExist`` -> NOT_FOUND, the same answer as an unknown ID); a public or
unlisted one is visible but refused (``PermissionDenied`` -> FORBIDDEN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, Value, When

from movierec.events import feedback_changed
from playlists.models import Playlist, PlaylistItem

if TYPE_CHECKING:
    from movies.models import Movie
    from users.models import User

DESCRIPTION_MAX_LENGTH = 2000


def _visibility(value: Any) -> str:
    raw = getattr(value, "value", value)
    if raw not in Playlist.Visibility.values:
        raise ValidationError({"visibility": "Visibility must be PUBLIC, UNLISTED or PRIVATE."})
    return raw


def _description(value: str) -> str:
    if len(value) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            {"description": f"Description may be at most {DESCRIPTION_MAX_LENGTH} characters."}
        )
    return value


def _lock_for_edit(*, playlist_id: int, actor: User) -> Playlist:
    playlist = Playlist.objects.select_for_update().filter(pk=playlist_id).first()
    is_owner = playlist is not None and playlist.owner_id == actor.pk
    if playlist is None or (playlist.visibility == Playlist.Visibility.PRIVATE and not is_owner):
        raise Playlist.DoesNotExist("Playlist not found.")
    if not is_owner:
        raise PermissionDenied("Only the owner may change this playlist.")
    return playlist


def _touch(playlist: Playlist) -> None:
    playlist.save(update_fields=["updated_at"])


@transaction.atomic
def playlist_create(
    *,
    owner: User,
    title: str,
    description: str | None = None,
    visibility: Any = Playlist.Visibility.PRIVATE,
) -> Playlist:
    """A new, empty playlist of ``owner`` (private unless asked otherwise)."""
    playlist = Playlist(
        owner=owner,
        title=(title or "").strip(),
        description=_description((description or "").strip()),
        visibility=_visibility(visibility),
    )
    playlist.full_clean()
    playlist.save()
    return playlist


@transaction.atomic
def playlist_update(
    *,
    playlist_id: int,
    actor: User,
    title: str | None = None,
    description: str | None = None,
    visibility: Any = None,
) -> Playlist:
    """Change the given attributes (None leaves one as it is)."""
    playlist = _lock_for_edit(playlist_id=playlist_id, actor=actor)
    if title is not None:
        playlist.title = title.strip()
    if description is not None:
        playlist.description = _description(description.strip())
    if visibility is not None:
        playlist.visibility = _visibility(visibility)
    playlist.full_clean()
    playlist.save()
    return playlist


@transaction.atomic
def playlist_delete(*, playlist_id: int, actor: User) -> None:
    """Delete the playlist and its items."""
    playlist = _lock_for_edit(playlist_id=playlist_id, actor=actor)
    playlist.delete()
    feedback_changed(user_id=playlist.owner_id, movie_id=None)


@transaction.atomic
def playlist_movie_add(
    *,
    playlist_id: int,
    actor: User,
    movie: Movie,
    position: int | None = None,
    note: str | None = None,
) -> Playlist:
    """Insert ``movie`` at ``position`` (default and beyond the end: appended).

    Items at and after ``position`` move down one. A movie is in a playlist at most once.
    """
    playlist = _lock_for_edit(playlist_id=playlist_id, actor=actor)
    if position is not None and position < 0:
        raise ValidationError({"position": "Position must not be negative."})
    if PlaylistItem.objects.filter(playlist=playlist, movie=movie).exists():
        raise ValidationError({"movie_id": "This movie is already in the playlist."})
    size = PlaylistItem.objects.filter(playlist=playlist).count()
    at = size if position is None else min(position, size)
    item = PlaylistItem(playlist=playlist, movie=movie, position=at, note=(note or "").strip())
    item.full_clean(validate_unique=False, validate_constraints=False)
    if at < size:
        PlaylistItem.objects.filter(playlist=playlist, position__gte=at).update(
            position=F("position") + 1
        )
    item.save(force_insert=True)
    _touch(playlist)
    feedback_changed(user_id=playlist.owner_id, movie_id=movie.pk)
    return playlist


@transaction.atomic
def playlist_movie_remove(*, playlist_id: int, actor: User, movie: Movie) -> Playlist:
    """Remove ``movie``; the items after it move up one, so positions stay dense.

    Raises ``PlaylistItem.DoesNotExist`` (NOT_FOUND) when the movie is not in the playlist.
    """
    playlist = _lock_for_edit(playlist_id=playlist_id, actor=actor)
    item = PlaylistItem.objects.get(playlist=playlist, movie=movie)
    item.delete()
    PlaylistItem.objects.filter(playlist=playlist, position__gt=item.position).update(
        position=F("position") - 1
    )
    _touch(playlist)
    feedback_changed(user_id=playlist.owner_id, movie_id=movie.pk)
    return playlist


@transaction.atomic
def playlist_movie_move(*, playlist_id: int, actor: User, movie: Movie, position: int) -> Playlist:
    """Move ``movie`` to ``position`` (beyond the end: last); the items in between shift by one.

    One UPDATE sets the moved item and shifts the range, so positions are consistent at the
    end of the statement whether the unique constraint is deferred or immediate.
    """
    playlist = _lock_for_edit(playlist_id=playlist_id, actor=actor)
    if position < 0:
        raise ValidationError({"position": "Position must not be negative."})
    item = PlaylistItem.objects.get(playlist=playlist, movie=movie)
    last = PlaylistItem.objects.filter(playlist=playlist).count() - 1
    old, new = item.position, min(position, last)
    if new == old:
        return playlist
    if new < old:
        span, shift = {"position__gte": new, "position__lte": old}, F("position") + 1
    else:
        span, shift = {"position__gte": old, "position__lte": new}, F("position") - 1
    PlaylistItem.objects.filter(playlist=playlist, **span).update(
        position=Case(When(pk=item.pk, then=Value(new)), default=shift)
    )
    _touch(playlist)
    return playlist


def playlists_bulk_create(
    *, movies_by_owner: Mapping[int, Sequence[int]], title: str, visibility: str
) -> int:
    """One playlist per owner id holding its movies in order, in two bulk INSERTs (for
    seeding data such as the demo users; no feedback event fires). Returns the playlists made.
    """
    owners = list(movies_by_owner)
    playlists = Playlist.objects.bulk_create(
        [
            Playlist(owner_id=owner, title=title, visibility=_visibility(visibility))
            for owner in owners
        ]
    )
    PlaylistItem.objects.bulk_create(
        [
            PlaylistItem(playlist_id=playlist.pk, movie_id=movie, position=position)
            for playlist, owner in zip(playlists, owners, strict=True)
            for position, movie in enumerate(movies_by_owner[owner])
        ],
        batch_size=5000,
    )
    return len(playlists)
