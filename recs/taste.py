"""One user's taste as the serving path sees it: their interaction rows and favorite genres.

Training reads every user at once (``recs.extract``); serving needs one user's rows on a
request, so this is a single UNION ALL query over the owners' row querysets (ratings,
favorites, watchlist and "not interested" marks from ``ratings.selectors``, the user's own
playlist items from ``playlists.selectors``), plus one for their favorite genres
(``users.selectors``). "Not interested" is a negative signal only this user's list sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playlists.selectors import playlist_item_rows_for_owner
from ratings.selectors import feedback_rows_for_user
from recs.engine.matrix import (
    KIND_FAVORITE,
    KIND_NOT_INTERESTED,
    KIND_PLAYLIST,
    KIND_RATING,
    KIND_WATCHLIST,
    Interactions,
)
from users.selectors import favorite_genre_ids


@dataclass(frozen=True)
class TasteProfile:
    """Everything the serving path knows about one user's taste (small, picklable)."""

    user_id: int
    interactions: Interactions
    favorite_genre_ids: tuple[int, ...]

    @property
    def movie_count(self) -> int:
        """Distinct movies the user gave feedback on, "not interested" aside (the
        RECS_MIN_FEEDBACK measure): dislikes alone say nothing of what to recommend."""
        positive = self.interactions.kinds != KIND_NOT_INTERESTED
        return int(np.unique(self.interactions.item_ids[positive]).size)

    def excluded_movie_ids(self, *, exclude_watchlist: bool) -> set[int]:
        """Movies never recommended back: rated or favorited (seen), marked not interested,
        and the watchlist."""
        kinds = self.interactions.kinds
        mask = (kinds == KIND_RATING) | (kinds == KIND_FAVORITE) | (kinds == KIND_NOT_INTERESTED)
        if exclude_watchlist:
            mask |= kinds == KIND_WATCHLIST
        return {int(i) for i in self.interactions.item_ids[mask]}

    def strongest(self, movie_id: int) -> tuple[int, float] | None:
        """(kind, score) of the interaction that best describes the user's tie to a movie.

        A rating wins (it says how much), then favorite, playlist, watchlist.
        """
        rows = np.flatnonzero(self.interactions.item_ids == movie_id)
        if rows.size == 0:
            return None
        preference = {
            KIND_RATING: 0,
            KIND_FAVORITE: 1,
            KIND_PLAYLIST: 2,
            KIND_WATCHLIST: 3,
            KIND_NOT_INTERESTED: 4,
        }
        best = min(rows, key=lambda r: preference[int(self.interactions.kinds[r])])
        return int(self.interactions.kinds[best]), float(self.interactions.scores[best])


def user_interactions(user_id: int) -> Interactions:
    """All of one user's interaction rows with timestamps, in one query."""
    first, *rest = feedback_rows_for_user(
        user_id=user_id,
        rating_kind=KIND_RATING,
        favorite_kind=KIND_FAVORITE,
        watchlist_kind=KIND_WATCHLIST,
        not_interested_kind=KIND_NOT_INTERESTED,
    )
    playlist = playlist_item_rows_for_owner(user_id=user_id, kind=KIND_PLAYLIST)
    rows = list(first.union(*rest, playlist, all=True))
    n = len(rows)
    return Interactions(
        np.full(n, user_id, dtype=np.int64),
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.float32),
        np.array([r[2] for r in rows], dtype=np.int8),
        np.array([int(r[3].timestamp()) for r in rows], dtype=np.int64),
    )


def taste_profile_read(user_id: int) -> TasteProfile:
    """Interaction rows plus favorite genres, from the database (two queries)."""
    return TasteProfile(
        user_id=user_id,
        interactions=user_interactions(user_id),
        favorite_genre_ids=favorite_genre_ids(user_id=user_id),
    )
