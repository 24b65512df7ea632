"""Interaction rows from PostgreSQL straight into numpy arrays, for training.

Privacy: what is extracted here shapes shared structures (item factors, item-item weights,
``similar``), which strangers see. So only ratings and items of PUBLIC or UNLISTED playlists
are read; favorites, watchlists (never public), PRIVATE playlists and "not interested"
marks shape only their owner's own recommendations, at serving time (``recs.taste``).

No model instance or per-row tuple is ever built: each owner streams its rows in PostgreSQL's
binary COPY format (``ratings.selectors.rating_rows_copy``,
``playlists.selectors.shared_playlist_rows_copy``), both inside one REPEATABLE READ
transaction, and numpy reads the fixed-width rows in place with a structured big-endian
dtype built from the owner's declared columns. A million interactions take about a second,
most of it PostgreSQL's own scan (see bench/recs_train.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import connection, transaction

from playlists.selectors import (
    SHARED_PLAYLIST_COPY_COLUMNS,
    shared_playlist_items_added_since,
    shared_playlist_rows_copy,
)
from ratings.selectors import RATING_COPY_COLUMNS, rating_rows_copy, ratings_changed_since
from recs.engine.matrix import (
    KIND_FAVORITE,
    KIND_PLAYLIST,
    KIND_RATING,
    KIND_WATCHLIST,
    Interactions,
    distinct_counts,
)

_HEADER = 19  # "PGCOPY\n\xff\r\n\0" + int32 flags + int32 header extension length (0)
_TRAILER = 2  # int16 -1


def _row_dtype(columns: Sequence[tuple[str, str]]) -> np.dtype:
    """int16 field count, then (int32 length, big-endian value) per column."""
    fields = [("n", ">i2")]
    for name, kind in columns:
        fields += [(f"l_{name}", ">i4"), (name, f">{kind}")]
    return np.dtype(fields)


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
            "users": int(distinct_counts(self.interactions.user_ids)[0].size),
            "movies": int(distinct_counts(self.interactions.item_ids)[0].size),
        }


def parse_binary_copy(
    payload: bytes | memoryview, columns: Sequence[tuple[str, str]]
) -> np.ndarray:
    """Decode one binary COPY output whose rows hold ``columns`` (an owner's declared layout)
    into a structured array, without a Python object per row."""
    dtype = _row_dtype(columns)
    body = memoryview(payload)[_HEADER : len(payload) - _TRAILER]
    if len(body) % dtype.itemsize:
        raise ValueError("unexpected COPY payload: rows are not fixed width")
    rows = np.frombuffer(body, dtype=dtype)
    if rows.size and not np.all(rows["n"] == len(columns)):
        raise ValueError("unexpected COPY payload: wrong field count")
    return rows


def _read(blocks: Iterable[bytes]) -> bytearray:
    buffer = bytearray()
    for block in blocks:
        buffer += block
    return buffer


def _interactions(rows: np.ndarray, kind: int) -> Interactions:
    n = rows.size
    has_score = "score" in rows.dtype.names
    scores = rows["score"].astype(np.float32) if has_score else np.zeros(n, np.float32)
    return Interactions(
        rows["user"].astype(np.int64),
        rows["movie"].astype(np.int64),
        scores,
        np.full(n, kind, dtype=np.int8),
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
        ratings = _read(rating_rows_copy())
        playlists = _read(shared_playlist_rows_copy())
    interactions = Interactions.concat(
        [
            _interactions(parse_binary_copy(ratings, RATING_COPY_COLUMNS), KIND_RATING),
            _interactions(
                parse_binary_copy(playlists, SHARED_PLAYLIST_COPY_COLUMNS), KIND_PLAYLIST
            ),
        ]
    )
    return Extracted(interactions=interactions, cutoff=cutoff, now=int(cutoff.timestamp()))


def feedback_count_since(cutoff: datetime) -> int:
    """Training interactions written after ``cutoff`` (new or changed ratings, new entries
    of shared playlists): private signals never trigger a retrain, they are not trained on."""
    return ratings_changed_since(cutoff) + shared_playlist_items_added_since(cutoff)
