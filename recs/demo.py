"""Demo users whose ratings carry real taste structure over the existing catalogue, and a
first model trained on them. Called by ``movierec.demo.demo_ensure``; idempotent."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction

from movies.selectors import movie_primary_genres
from recs.engine.matrix import KIND_FAVORITE, KIND_PLAYLIST, KIND_RATING, KIND_WATCHLIST
from recs.engine.synthetic import generate
from recs.models import ModelVersion

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
    from ratings.models import Rating

    rated = list(Rating.objects.filter(user_id=user_id).values_list("movie_id", flat=True))
    known = clusters[np.isin(movie_ids, rated)]
    cluster = int(np.bincount(known).argmax()) if known.size else 0
    in_cluster = movie_ids[(clusters == cluster) & ~np.isin(movie_ids, rated)]
    picks = in_cluster[:DEMO_USER_TASTE_RATINGS]  # catalogue order: lowest pks, i.e. synced first
    Rating.objects.bulk_create(
        [
            Rating(user_id=user_id, movie_id=int(m), score=Decimal("5.0" if n % 2 else "4.5"))
            for n, m in enumerate(picks.tolist())
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
    from playlists.models import Playlist, PlaylistItem
    from ratings.models import Favorite, Rating, WatchlistEntry
    from ratings.services import movie_rating_stats_recompute
    from users.models import User

    if User.objects.filter(username=f"{DEMO_USER_PREFIX}1").exists():
        return 0
    movie_ids, codes, _ = _catalogue_primary_genres()
    if movie_ids.size < 20:
        return 0
    n_ratings = min(n_users * RATINGS_PER_USER, n_users * movie_ids.size // 4)
    data = generate(
        n_users, movie_ids.size, n_ratings, seed=seed, item_genres=codes, n_clusters=N_CLUSTERS
    )
    rows = data.interactions

    password = make_password(None)
    User.objects.bulk_create(
        [User(username=f"{DEMO_USER_PREFIX}{n + 1}", password=password) for n in range(n_users)],
        batch_size=1000,
    )
    pks = dict(
        User.objects.filter(username__startswith=DEMO_USER_PREFIX).values_list("username", "id")
    )
    user_pk = np.array([pks[f"{DEMO_USER_PREFIX}{n + 1}"] for n in range(n_users)])
    users = user_pk[rows.user_ids].tolist()
    movies = movie_ids[rows.item_ids].tolist()
    kinds = rows.kinds.tolist()
    scores = rows.scores.tolist()

    ratings, favorites, watchlist, listed = [], [], [], {}
    for user, movie, kind, score in zip(users, movies, kinds, scores, strict=True):
        if kind == KIND_RATING:
            ratings.append(Rating(user_id=user, movie_id=movie, score=Decimal(f"{score:.1f}")))
        elif kind == KIND_FAVORITE:
            favorites.append(Favorite(user_id=user, movie_id=movie))
        elif kind == KIND_WATCHLIST:
            watchlist.append(WatchlistEntry(user_id=user, movie_id=movie))
        elif kind == KIND_PLAYLIST:
            listed.setdefault(user, []).append(movie)
    Rating.objects.bulk_create(ratings, batch_size=5000)
    Favorite.objects.bulk_create(favorites, batch_size=5000)
    WatchlistEntry.objects.bulk_create(watchlist, batch_size=5000)
    playlists = Playlist.objects.bulk_create(
        [Playlist(owner_id=user, title="Favorites", visibility="PUBLIC") for user in listed]
    )
    PlaylistItem.objects.bulk_create(
        [
            PlaylistItem(playlist_id=playlist.pk, movie_id=movie, position=position)
            for playlist, user in zip(playlists, listed, strict=True)
            for position, movie in enumerate(listed[user])
        ],
        batch_size=5000,
    )
    demo = User.objects.filter(username=DEMO_USERNAME).first()
    if demo is not None:
        _demo_user_taste(demo.pk, movie_ids, data.item_clusters)
    movie_rating_stats_recompute(movie_ids.tolist())
    return n_users


def demo_model_ensure() -> ModelVersion | None:
    """Train and activate a first model when none is active; None when one already serves."""
    from recs import services

    if services.recs_model_active() is not None:
        return None
    version = services.recs_model_train(promote=False)
    return services.recs_model_activate(version)
