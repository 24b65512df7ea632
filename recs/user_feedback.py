"""One user's current feedback as engine rows: the cheap, per-user read of the serving path.

Training reads every user at once (``recs.extract``); serving needs one user's rows on a
request, so this is a single UNION ALL query over ratings, favorites, watchlist, the
user's own playlist items and their "not interested" marks (a negative signal that only
this user's list sees), plus one for their favorite genres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import FloatField, IntegerField, QuerySet, Value
from django.db.models.functions import Cast

from playlists.models import PlaylistItem
from ratings.models import Favorite, NotInterested, Rating, WatchlistEntry
from recs.engine.matrix import (
    KIND_FAVORITE,
    KIND_NOT_INTERESTED,
    KIND_PLAYLIST,
    KIND_RATING,
    KIND_WATCHLIST,
    Interactions,
)
from users.models import User


@dataclass(frozen=True)
class UserFeedback:
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


def _rows(queryset: QuerySet, movie: str, kind: int, score: Any, when: str) -> QuerySet:
    return queryset.values_list(
        movie,
        score,
        Value(kind, output_field=IntegerField()),
        when,
    )


def user_interactions(user_id: int) -> Interactions:
    """All of one user's feedback rows with timestamps, in one query."""
    no_score = Value(0.0, output_field=FloatField())
    ratings = _rows(
        Rating.objects.filter(user_id=user_id),
        "movie_id",
        KIND_RATING,
        Cast("score", FloatField()),
        "updated_at",
    )
    favorites = _rows(
        Favorite.objects.filter(user_id=user_id), "movie_id", KIND_FAVORITE, no_score, "added_at"
    )
    watchlist = _rows(
        WatchlistEntry.objects.filter(user_id=user_id),
        "movie_id",
        KIND_WATCHLIST,
        no_score,
        "added_at",
    )
    playlist = _rows(
        PlaylistItem.objects.filter(playlist__owner_id=user_id),
        "movie_id",
        KIND_PLAYLIST,
        no_score,
        "added_at",
    )
    not_interested = _rows(
        NotInterested.objects.filter(user_id=user_id),
        "movie_id",
        KIND_NOT_INTERESTED,
        no_score,
        "added_at",
    )
    rows = list(ratings.union(favorites, watchlist, playlist, not_interested, all=True))
    n = len(rows)
    return Interactions(
        np.full(n, user_id, dtype=np.int64),
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.float32),
        np.array([r[2] for r in rows], dtype=np.int8),
        np.array([int(r[3].timestamp()) for r in rows], dtype=np.int64),
    )


def user_feedback_read(user_id: int) -> UserFeedback:
    """Feedback rows plus favorite genres (two queries)."""
    genres = User.favorite_genres.through.objects.filter(user_id=user_id).order_by("genre_id")
    return UserFeedback(
        user_id=user_id,
        interactions=user_interactions(user_id),
        favorite_genre_ids=tuple(genres.values_list("genre_id", flat=True)),
    )
