"""Interaction rows from PostgreSQL straight into numpy arrays, for training.

Privacy: what is extracted here shapes shared structures (item factors, item-item weights,
``similar``), which strangers see. So only ratings and items of PUBLIC or UNLISTED playlists
are read; favorites, watchlists (never public), PRIVATE playlists and "not interested"
marks shape only their owner's own recommendations, at serving time (``recs.taste``).

No model instance or per-row tuple is ever built, both reads share one REPEATABLE READ
transaction, and numpy reads the owners' binary layouts in place with big-endian dtypes
built from their declared columns:

* ratings (tens of millions of rows) come as chunks of columns, each a PostgreSQL binary
  array (``ratings.selectors.rating_column_chunks``): four arrays per million ratings
  instead of a COPY message per row, which Python read at 1.6 us each (40 s at 25M);
* shared playlists' items come as one binary COPY stream
  (``playlists.selectors.shared_playlist_rows_copy``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import connection, transaction

from playlists.selectors import (
    SHARED_PLAYLIST_COPY_COLUMNS,
    shared_playlist_items_added_since,
    shared_playlist_rows_copy,
)
from ratings.selectors import (
    RATING_ARRAY_COLUMNS,
    rating_column_chunks,
    ratings_changed_since,
)
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


_ARRAY_HEADER = 20  # int32 ndim (1), has-nulls flag, element type, dimension length, lbound


def parse_binary_array(payload: bytes | memoryview, kind: str) -> np.ndarray:
    """Decode PostgreSQL's binary form of a one-dimensional array without NULLs whose
    elements are big-endian ``kind`` (e.g. ``"i8"``) into a native numpy array."""
    body = memoryview(payload)[_ARRAY_HEADER:]
    dtype = np.dtype([("length", ">i4"), ("value", f">{kind}")])
    if len(body) % dtype.itemsize:
        raise ValueError("unexpected array payload: elements are not fixed width")
    elements = np.frombuffer(body, dtype=dtype)
    if elements.size and not np.all(elements["length"] == dtype["value"].itemsize):
        raise ValueError("unexpected array payload: NULL or variable-width elements")
    return elements["value"].astype(np.dtype(kind).newbyteorder("="))


def _rating_columns(chunks: Iterable[dict[str, bytes]]) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {name: [] for name, _ in RATING_ARRAY_COLUMNS}
    for chunk in chunks:
        for name, kind in RATING_ARRAY_COLUMNS:
            parts[name].append(parse_binary_array(chunk[name], kind))
    return {
        name: np.concatenate(parts[name]) if parts[name] else np.zeros(0, np.dtype(kind))
        for name, kind in RATING_ARRAY_COLUMNS
    }


def _fields(rows: np.ndarray) -> dict[str, np.ndarray]:
    """The values of a decoded COPY (not its field count and lengths)."""
    return {name: rows[name] for name in rows.dtype.names if name != "n" and name[:2] != "l_"}


def _read(blocks: Iterable[bytes]) -> bytearray:
    buffer = bytearray()
    for block in blocks:
        buffer += block
    return buffer


def _interactions(columns: Mapping[str, np.ndarray], kind: int) -> Interactions:
    n = len(columns["user"])
    scores = columns["score"].astype(np.float32) if "score" in columns else np.zeros(n, np.float32)
    return Interactions(
        columns["user"].astype(np.int64, copy=False),
        columns["movie"].astype(np.int64, copy=False),
        scores,
        np.full(n, kind, dtype=np.int8),
        columns["ts"].astype(np.int64, copy=False),
    )


def interactions_extract() -> Extracted:
    """Every interaction in the database, read in one consistent snapshot.

    The cutoff is the database clock when the snapshot is taken, in the same REPEATABLE READ
    transaction as the reads, so "newer than the cutoff" means exactly "not in this data".
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # inside a caller's transaction its snapshot rules apply
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT clock_timestamp()")  # after the snapshot is taken
        cutoff = cursor.fetchone()[0]
        # Parallel reads import this transaction's snapshot; a caller's transaction may
        # hold writes other connections cannot see, so it is read on this one.
        streams = min(2, os.cpu_count() or 1) if outermost else 1
        ratings = _rating_columns(rating_column_chunks(streams=streams))
        playlists = _read(shared_playlist_rows_copy())
    interactions = Interactions.concat(
        [
            _interactions(ratings, KIND_RATING),
            _interactions(
                _fields(parse_binary_copy(playlists, SHARED_PLAYLIST_COPY_COLUMNS)), KIND_PLAYLIST
            ),
        ]
    )
    return Extracted(interactions=interactions, cutoff=cutoff, now=int(cutoff.timestamp()))


def feedback_count_since(cutoff: datetime) -> int:
    """Training interactions written after ``cutoff`` (new or changed ratings, new entries
    of shared playlists): private signals never trigger a retrain, they are not trained on."""
    return ratings_changed_since(cutoff) + shared_playlist_items_added_since(cutoff)
