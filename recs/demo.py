"""Demo users whose ratings carry real taste structure over the existing catalogue, and a
first model trained on them. Called by ``movierec.demo.demo_ensure``; idempotent."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from django.db import transaction

from movies.selectors import movie_primary_genres
from playlists.services import playlists_bulk_create
from ratings.selectors import rated_movie_ids
from ratings.services import feedback_bulk_create, movie_rating_stats_recompute
from recs.engine.matrix import KIND_FAVORITE, KIND_PLAYLIST, KIND_RATING, KIND_WATCHLIST
from recs.engine.synthetic import generate
from recs.models import ModelVersion
from users.selectors import user_id_by_username
from users.services import users_bulk_ensure

DEMO_USER_PREFIX = "demo_"
N_CLUSTERS = 8
RATINGS_PER_USER = 40
DEMO_USER_TASTE_RATINGS = 8


def _catalogue_primary_genres() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(movie pks, genre code per movie, popularity) over the whole catalogue.

    The primary genre is the first one linked (TMDb lists the main genre first); movies
    without genres share their own code.
    """
    rows = np.array(movie_primary_genres(), dtype=np.float64).reshape(-1, 3)
    _, codes = np.unique(rows[:, 1].astype(np.int64), return_inverse=True)
    return rows[:, 0].astype(np.int64), codes.astype(np.int64), rows[:, 2]


def _demo_user_taste(user_id: int, movie_ids: np.ndarray, clusters: np.ndarray) -> int:
    """Give ``demo`` a few 4.5-5 star ratings in the taste cluster of its existing ratings."""
    rated = rated_movie_ids(user_id=user_id)
    known = clusters[np.isin(movie_ids, rated)]
    cluster = int(np.bincount(known).argmax()) if known.size else 0
    in_cluster = movie_ids[(clusters == cluster) & ~np.isin(movie_ids, rated)]
    picks = in_cluster[:DEMO_USER_TASTE_RATINGS]  # catalogue order: lowest pks, i.e. synced first
    feedback_bulk_create(
        ratings=[
            (user_id, m, Decimal("5.0" if n % 2 else "4.5")) for n, m in enumerate(picks.tolist())
        ],
        ignore_conflicts=True,
    )
    return int(picks.size)


@transaction.atomic
def demo_users_seed(*, n_users: int = 300, seed: int = 0) -> int:
    """Create ``demo_1..demo_N`` with ratings, favorites, watchlists and a playlist each.

    Interactions come from ``synthetic.generate`` over the catalogue's primary genres, so
    users fall into taste clusters a model can learn. The existing ``demo`` user (from
    ``movierec.demo``) gets a few ratings in one cluster. Returns the users created; 0 when
    they already exist or the catalogue is too small.
    """
    from movierec.demo import DEMO_USERNAME

    if user_id_by_username(f"{DEMO_USER_PREFIX}1") is not None:
        return 0
    movie_ids, codes, _ = _catalogue_primary_genres()
    if movie_ids.size < 20:
        return 0
    n_ratings = min(n_users * RATINGS_PER_USER, n_users * movie_ids.size // 4)
    data = generate(
        n_users, movie_ids.size, n_ratings, seed=seed, item_genres=codes, n_clusters=N_CLUSTERS
    )
    rows = data.interactions

    pks, _ = users_bulk_ensure(usernames=[f"{DEMO_USER_PREFIX}{n + 1}" for n in range(n_users)])
    user_pk = np.array([pks[f"{DEMO_USER_PREFIX}{n + 1}"] for n in range(n_users)])
    users = user_pk[rows.user_ids].tolist()
    movies = movie_ids[rows.item_ids].tolist()
    kinds = rows.kinds.tolist()
    scores = rows.scores.tolist()

    ratings, favorites, watchlist, listed = [], [], [], {}
    for user, movie, kind, score in zip(users, movies, kinds, scores, strict=True):
        if kind == KIND_RATING:
            ratings.append((user, movie, Decimal(f"{score:.1f}")))
        elif kind == KIND_FAVORITE:
            favorites.append((user, movie))
        elif kind == KIND_WATCHLIST:
            watchlist.append((user, movie))
        elif kind == KIND_PLAYLIST:
            listed.setdefault(user, []).append(movie)
    feedback_bulk_create(ratings=ratings, favorites=favorites, watchlist=watchlist)
    playlists_bulk_create(movies_by_owner=listed, title="Favorites", visibility="PUBLIC")
    demo = user_id_by_username(DEMO_USERNAME)
    if demo is not None:
        _demo_user_taste(demo, movie_ids, data.item_clusters)
    movie_rating_stats_recompute(movie_ids.tolist())
    return n_users


def demo_model_ensure() -> ModelVersion | None:
    """Train and activate a first model when none is active; None when one already serves."""
    from recs import services

    if services.recs_model_active() is not None:
        return None
    version = services.recs_model_train(promote=False)
    return services.recs_model_activate(version)
