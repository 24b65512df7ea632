"""A planted catalogue (taste clusters by genre) and models trained on it and activated.

Four genres are four taste clusters: each planted user rates a dozen films of one genre
4.5-5 stars and two films of another genre 1.5 stars, so a model trained on them must
recommend a Crime fan Crime films.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from movies.models import Genre, Movie
from ratings.models import Rating
from recs import artifact_store, serving
from recs.engine.als import AlsParams
from recs.engine.ease import EaseParams
from recs.engine.hybrid import HybridParams, train_hybrid
from recs.engine.matrix import ConfidenceWeights, Interactions
from recs.engine.recipe import calibrate
from recs.models import ModelVersion
from tests.factories import GenreFactory, MovieFactory, UserFactory
from users.models import User

GENRES = ("Crime", "Comedy", "Drama", "Horror")
MOVIES_PER_GENRE = 40
USERS_PER_GENRE = 25
TEST_PARAMS = HybridParams(
    als=AlsParams(factors=16, regularization=2.0, alpha=5.0, iterations=12, num_threads=1),
    ease=EaseParams(l2=10.0, min_item_users=1),
)


@dataclass
class Planted:
    genres: dict[str, Genre]
    movies: dict[str, list[Movie]]  # by genre, most popular first
    users: dict[str, list[User]]  # planted fans by genre

    def ids(self, genre: str) -> set[int]:
        return {m.pk for m in self.movies[genre]}


@pytest.fixture(autouse=True)
def _own_model_storage(settings: Any, tmp_path: Any) -> None:
    """Artifacts in this test's own directory: a shared one would let another checkout's
    suite (or another test's cleanup) delete the model this test serves."""
    settings.RECS_MODEL_DIR = tmp_path / "models"
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(settings.RECS_MODEL_DIR)},
        },
    }


@pytest.fixture(autouse=True)
def _fresh_registry() -> Any:
    """No test sees the model another test loaded into this process."""
    serving.registry.reset()
    serving.guard.reset()
    yield
    serving.registry.reset()
    serving.guard.reset()


@pytest.fixture
def planted(db: Any) -> Planted:
    rng = np.random.default_rng(3)
    genres = {name: GenreFactory(name=name) for name in GENRES}
    # Bulk inserts: this fixture runs for most recs tests and must stay well under a second.
    movies: dict[str, list[Movie]] = {}
    for g, name in enumerate(GENRES):
        movies[name] = Movie.objects.bulk_create(
            MovieFactory.build(title=f"{name} {i}", popularity=float(1000 - 10 * i - g))
            for i in range(MOVIES_PER_GENRE)
        )
    Movie.genres.through.objects.bulk_create(
        Movie.genres.through(movie_id=movie.pk, genre_id=genres[name].pk)
        for name in GENRES
        for movie in movies[name]
    )
    fans = User.objects.bulk_create(
        UserFactory.build(username=f"fan-{name.lower()}-{u}", password="!")
        for name in GENRES
        for u in range(USERS_PER_GENRE)
    )
    users: dict[str, list[User]] = {
        name: fans[g * USERS_PER_GENRE : (g + 1) * USERS_PER_GENRE] for g, name in enumerate(GENRES)
    }
    ratings: list[Rating] = []
    weights = 1.0 / np.arange(1, MOVIES_PER_GENRE + 1)  # popular films are rated more often
    for g, name in enumerate(GENRES):
        other = GENRES[(g + 1) % len(GENRES)]
        for fan in users[name]:
            liked = rng.choice(MOVIES_PER_GENRE, 12, replace=False, p=weights / weights.sum())
            for i in liked:
                score = Decimal("5.0") if rng.random() < 0.6 else Decimal("4.5")
                ratings.append(Rating(user=fan, movie=movies[name][i], score=score))
            for i in rng.choice(MOVIES_PER_GENRE, 2, replace=False):
                ratings.append(Rating(user=fan, movie=movies[other][i], score=Decimal("1.5")))
    Rating.objects.bulk_create(ratings)
    return Planted(genres, movies, users)


def all_interactions() -> Interactions:
    """Every rating in the database as engine rows (the trainer's extract does more)."""
    rows = list(Rating.objects.values_list("user_id", "movie_id", "score", "updated_at"))
    return Interactions.ratings(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([float(r[2]) for r in rows], dtype=np.float32),
        np.array([int(r[3].timestamp()) for r in rows], dtype=np.int64),
    )


def activate_new_model(
    rows: Interactions | None = None, *, params: HybridParams = TEST_PARAMS, publish: bool = True
) -> ModelVersion:
    """Train on ``rows`` (default: every rating), save it in the models storage and make it the
    single active version, as the trainer does; ``publish`` also sets the Redis key."""
    rows = all_interactions() if rows is None else rows
    model, matrix, signal = train_hybrid(rows, params, weights=ConfidenceWeights(), now=None)
    # In-sample calibration is optimistic, but monotone: enough for serving tests.
    calibrate(
        model,
        signal,
        matrix.user_index.to_index(rows.user_ids),
        matrix.item_index.to_index(rows.item_ids),
        rows.scores,
    )
    relative = f"test-{uuid.uuid4().hex}"
    artifact_store.artifact_save(model, relative, meta={})
    ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).update(
        status=ModelVersion.Status.RETIRED
    )
    version = ModelVersion.objects.create(
        status=ModelVersion.Status.ACTIVE,
        artifact_path=relative,
        params=params.to_dict(),
        activated_at=timezone.now(),
    )
    if publish:
        cache.set(serving.ACTIVE_VERSION_KEY, version.pk, timeout=None)
    return version


@pytest.fixture
def model_dirs() -> Any:
    """Removes the artifacts a test wrote."""
    root = settings.RECS_MODEL_DIR
    before = set(root.glob("test-*")) if root.exists() else set()
    yield
    for path in set(root.glob("test-*")) - before:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def active_model(planted: Planted, model_dirs: Any) -> ModelVersion:
    return activate_new_model()


def rate(user: User, movies: list[Movie], score: str = "5.0") -> None:
    """Rate through the ratings service, whose on-commit hook tells serving (recs.apps)."""
    from django.test import TestCase

    from ratings.services import rating_set

    with TestCase.captureOnCommitCallbacks(execute=True):
        for movie in movies:
            rating_set(user=user, movie=movie, score=Decimal(score))
