"""A planted-taste dataset loaded into the database, and a temporary model directory."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from playlists.models import Playlist, PlaylistItem
from ratings.models import Favorite, Rating, WatchlistEntry
from recs.engine.matrix import KIND_FAVORITE, KIND_PLAYLIST, KIND_RATING, KIND_WATCHLIST
from recs.engine.synthetic import SyntheticData, generate
from tests.factories import MovieFactory, UserFactory
from users.models import User

N_USERS, N_MOVIES, N_INTERACTIONS = 300, 400, 15_000


@dataclass
class Planted:
    data: SyntheticData
    user_pks: np.ndarray  # synthetic user index -> User pk
    movie_pks: np.ndarray  # synthetic item index -> Movie pk


def planted_load(
    n_users: int = N_USERS, n_movies: int = N_MOVIES, n: int = N_INTERACTIONS
) -> Planted:
    """Generate planted interactions and bulk-insert them as real rows of every kind."""
    data = generate(n_users, n_movies, n, seed=3)
    users = User.objects.bulk_create(
        [UserFactory.build(username=f"planted{i}") for i in range(n_users)]
    )
    movies = MovieFactory._meta.model.objects.bulk_create(
        [MovieFactory.build() for _ in range(n_movies)]
    )
    user_pks = np.array([u.pk for u in users])
    movie_pks = np.array([m.pk for m in movies])
    rows = data.interactions
    u = user_pks[rows.user_ids].tolist()
    m = movie_pks[rows.item_ids].tolist()
    ratings, favorites, watchlist, listed = [], [], [], {}
    for user, movie, kind, score in zip(
        u, m, rows.kinds.tolist(), rows.scores.tolist(), strict=True
    ):
        if kind == KIND_RATING:
            ratings.append(Rating(user_id=user, movie_id=movie, score=Decimal(f"{score:.1f}")))
        elif kind == KIND_FAVORITE:
            favorites.append(Favorite(user_id=user, movie_id=movie))
        elif kind == KIND_WATCHLIST:
            watchlist.append(WatchlistEntry(user_id=user, movie_id=movie))
        else:
            assert kind == KIND_PLAYLIST
            listed.setdefault(user, []).append(movie)
    Rating.objects.bulk_create(ratings)
    Favorite.objects.bulk_create(favorites)
    WatchlistEntry.objects.bulk_create(watchlist)
    playlists = Playlist.objects.bulk_create(
        [Playlist(owner_id=user, title="Mine") for user in listed]
    )
    PlaylistItem.objects.bulk_create(
        [
            PlaylistItem(playlist=p, movie_id=movie, position=pos)
            for p, user in zip(playlists, listed, strict=True)
            for pos, movie in enumerate(listed[user])
        ]
    )
    return Planted(data, user_pks, movie_pks)


@pytest.fixture
def model_dir(settings: Any, tmp_path: Any) -> Any:
    settings.RECS_MODEL_DIR = tmp_path / "models"
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(settings.RECS_MODEL_DIR)},
        },
    }
    return settings.RECS_MODEL_DIR


@pytest.fixture(autouse=True)
def _small_tuning(settings: Any) -> None:
    """The automatic tuning of the first training tries two ALS grid points, not twelve."""
    settings.RECS_TUNE_MAX_TRIALS = 2


@pytest.fixture
def planted(db: Any, model_dir: Any) -> Planted:
    return planted_load()


@pytest.fixture
def planted_committed(transactional_db: Any, model_dir: Any) -> Planted:
    """The same data committed, for tests where other threads (workers) read it."""
    return planted_load()
