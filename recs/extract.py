"""Interaction rows from PostgreSQL straight into numpy arrays, for training.

Privacy: what is extracted here shapes shared structures (item factors, item-item weights,
``similar``), which strangers see. So only ratings and items of PUBLIC or UNLISTED playlists
are read; favorites, watchlists (never public) and PRIVATE playlists shape only their
owner's own recommendations, at serving time (``recs.user_feedback``).

No model instance or per-row tuple is ever built: one ``COPY (SELECT ...) TO STDOUT`` in
PostgreSQL's binary format streams every source (ratings, favorites, watchlist entries,
playlist items by their playlist's owner) as fixed-width rows, which numpy reads in place
with a structured big-endian dtype. A million interactions take about a second,
most of it PostgreSQL's own scan (see bench/recs_train.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import connection, transaction

from recs.engine.matrix import (
    KIND_FAVORITE,
    KIND_PLAYLIST,
    KIND_RATING,
    KIND_WATCHLIST,
    Interactions,
)

# Every column is NOT NULL and fixed width, so every row has the same byte layout:
# int16 field count, then (int32 length, value) per field.
_ROW = np.dtype(
    [
        ("n", ">i2"),
        ("l_user", ">i4"), ("user", ">i8"),
        ("l_item", ">i4"), ("item", ">i8"),
        ("l_score", ">i4"), ("score", ">f4"),
        ("l_kind", ">i4"), ("kind", ">i2"),
        ("l_ts", ">i4"), ("ts", ">i8"),
    ]
)  # fmt: skip
_HEADER = 19  # "PGCOPY\n\xff\r\n\0" + int32 flags + int32 header extension length (0)
_TRAILER = 2  # int16 -1

# Playlist entries count once per (owner, movie), at the earliest time the movie was added;
# only shared playlists (see the module docstring).
_SQL = f"""
COPY (
    SELECT user_id::int8, movie_id::int8, score::float4, {KIND_RATING}::int2,
           floor(extract(epoch FROM updated_at))::int8
      FROM ratings_rating
    UNION ALL
    SELECT p.owner_id::int8, i.movie_id::int8, 0::float4, {KIND_PLAYLIST}::int2,
           floor(extract(epoch FROM min(i.added_at)))::int8
      FROM playlists_playlistitem i JOIN playlists_playlist p ON p.id = i.playlist_id
     WHERE p.visibility IN ('PUBLIC', 'UNLISTED')
     GROUP BY p.owner_id, i.movie_id
) TO STDOUT (FORMAT BINARY)
"""


@dataclass
class Extracted:
    """The interactions plus when they were read: feedback after ``cutoff`` is not in them."""

    interactions: Interactions
    cutoff: datetime
    now: int  # ``cutoff`` as Unix seconds, the "now" for time decay

    def counts(self) -> dict[str, int]:
        kinds = np.bincount(self.interactions.kinds, minlength=4)
        return {
            "interactions": len(self.interactions),
            "ratings": int(kinds[KIND_RATING]),
            "favorites": int(kinds[KIND_FAVORITE]),
            "watchlist": int(kinds[KIND_WATCHLIST]),
            "playlist_items": int(kinds[KIND_PLAYLIST]),
            "users": int(np.unique(self.interactions.user_ids).size),
            "movies": int(np.unique(self.interactions.item_ids).size),
        }


def parse_binary_copy(payload: bytes | memoryview) -> Interactions:
    """Decode the binary COPY output of ``_SQL`` (exposed for tests of the format)."""
    body = memoryview(payload)[_HEADER : len(payload) - _TRAILER]
    if len(body) % _ROW.itemsize:
        raise ValueError("unexpected COPY payload: rows are not fixed width")
    rows = np.frombuffer(body, dtype=_ROW)
    if rows.size and not np.all(rows["n"] == 5):
        raise ValueError("unexpected COPY payload: wrong field count")
    return Interactions(
        rows["user"].astype(np.int64),
        rows["item"].astype(np.int64),
        rows["score"].astype(np.float32),
        rows["kind"].astype(np.int8),
        rows["ts"].astype(np.int64),
    )


def interactions_extract() -> Extracted:
    """Every interaction in the database, read in one consistent snapshot.

    The cutoff is the database clock when the snapshot is taken, in the same REPEATABLE READ
    transaction as the COPY, so "newer than the cutoff" means exactly "not in this data".
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # inside a caller's transaction its snapshot rules apply
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT clock_timestamp()")  # after the snapshot is taken
        cutoff = cursor.fetchone()[0]
        buffer = bytearray()
        with cursor.cursor.copy(_SQL) as copy:
            for block in copy:
                buffer += block
    interactions = parse_binary_copy(buffer)
    return Extracted(interactions=interactions, cutoff=cutoff, now=int(cutoff.timestamp()))


def feedback_count_since(cutoff: datetime) -> int:
    """Training interactions written after ``cutoff`` (new or changed ratings, new entries
    of shared playlists): private signals never trigger a retrain, they are not trained on."""
    from playlists.models import Playlist, PlaylistItem
    from ratings.models import Rating

    shared = [Playlist.Visibility.PUBLIC, Playlist.Visibility.UNLISTED]
    return (
        Rating.objects.filter(updated_at__gt=cutoff).count()
        + PlaylistItem.objects.filter(added_at__gt=cutoff, playlist__visibility__in=shared).count()
    )
