"""Latency of the serving path: ``recommendations_for_user`` on a 10k-movie catalogue.

Run from the repository root with the test services, e.g.
``DATABASE_URL=... REDIS_URL=... python bench/recs_serving.py``.
It creates its own throw-away database (``test_movierec<suffix>_bench``), a 10k-movie
catalogue, trains a model on planted synthetic data (movies are the items), activates it and
prints p50/p95 per call for cold caches (first request after a rating change) and warm ones.
``BENCH_PROFILE=1`` also prints a cProfile of the cold calls.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "movierec.settings.test")
os.environ["MOVIEREC_TEST_SUFFIX"] = os.environ.get("MOVIEREC_TEST_SUFFIX", "") + "_bench"
os.environ.setdefault("RECS_MODEL_DIR", tempfile.mkdtemp(prefix="recs-bench-"))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402


def _percentiles(samples: list[float]) -> str:
    ms = np.asarray(samples) * 1000
    return f"p50 {np.percentile(ms, 50):7.2f} ms   p95 {np.percentile(ms, 95):7.2f} ms"


def _populate(n_movies: int, n_users: int, n_rows: int, bench_users: int) -> list:
    from decimal import Decimal

    from movies.models import Genre, Movie
    from ratings.models import Rating
    from recs.engine import artifacts
    from recs.engine.hybrid import HybridParams, train_hybrid
    from recs.engine.matrix import KIND_RATING, ConfidenceWeights, Interactions
    from recs.engine.synthetic import generate
    from recs.models import ModelVersion
    from users.models import User

    genres = Genre.objects.bulk_create(Genre(name=f"Genre {g}") for g in range(19))
    data = generate(n_users, n_movies, n_rows, seed=0)
    movies = Movie.objects.bulk_create(
        Movie(title=f"Movie {i}", popularity=float(data.item_popularity[i] * 1000))
        for i in range(n_movies)
    )
    movie_pk = np.array([m.pk for m in movies], dtype=np.int64)
    Movie.genres.through.objects.bulk_create(
        Movie.genres.through(movie_id=movie_pk[i], genre_id=genres[int(data.item_genres[i])].pk)
        for i in range(n_movies)
    )
    rows = data.interactions
    t0 = time.perf_counter()
    model, _, _ = train_hybrid(
        Interactions(
            rows.user_ids, movie_pk[rows.item_ids], rows.scores, rows.kinds, rows.timestamps
        ),
        HybridParams(),
        weights=ConfidenceWeights(),
        now=data.now,
    )
    print(
        f"trained {model.n_users} users x {model.n_items} movies in {time.perf_counter() - t0:.1f}s"
    )
    artifacts.save(model, settings.RECS_MODEL_DIR / "bench-v1")
    ModelVersion.objects.create(status="active", artifact_path="bench-v1")

    # The measured users: the synthetic users' own ratings, stored as real rows.
    users = User.objects.bulk_create(
        User(username=f"bench{u}", password="!") for u in range(bench_users)
    )
    ratings = []
    for u, user in enumerate(users):
        mine = (rows.user_ids == u) & (rows.kinds == KIND_RATING)
        for item, score in zip(rows.item_ids[mine], rows.scores[mine], strict=True):
            ratings.append(
                Rating(user=user, movie_id=int(movie_pk[item]), score=Decimal(str(score)))
            )
    Rating.objects.bulk_create(ratings)
    print(f"{n_movies} movies, {len(ratings)} ratings of {bench_users} measured users")
    return users


import cProfile  # noqa: E402

PROFILE = cProfile.Profile()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--movies", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=6_000)
    parser.add_argument("--interactions", type=int, default=600_000)
    parser.add_argument("--measured-users", type=int, default=200)
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()

    old = setup_databases(verbosity=0, interactive=False)
    try:
        from recs import selectors, serving

        cache.clear()
        users = _populate(args.movies, args.users, args.interactions, args.measured_users)
        t0 = time.perf_counter()
        serving.active_model()
        print(f"model load on first request: {(time.perf_counter() - t0) * 1000:.0f} ms")

        cold, warm, scores = [], [], []
        page = list(range(1, 51))
        for user in users:
            serving.user_cache_invalidate(user.pk)  # as after a rating: nothing cached
            t0 = time.perf_counter()
            if os.environ.get("BENCH_PROFILE"):
                PROFILE.enable()
            recs = selectors.recommendations_for_user(user, n=args.n)
            PROFILE.disable()
            cold.append(time.perf_counter() - t0)
            assert len(recs) == args.n
            t0 = time.perf_counter()
            selectors.recommendations_for_user(user, n=args.n)
            warm.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            selectors.match_scores_for_user(user, page)
            scores.append(time.perf_counter() - t0)
        personalized = sum(r.source == "PERSONALIZED" for r in recs)
        print(
            f"recommendations_for_user(n={args.n}), {len(users)} users "
            f"(last list: {personalized}/{args.n} personalized)"
        )
        print(f"  cold cache: {_percentiles(cold)}")
        print(f"  warm cache: {_percentiles(warm)}")
        print(f"match_scores_for_user, 50 movies: {_percentiles(scores)}")
        if os.environ.get("BENCH_PROFILE"):
            import pstats

            pstats.Stats(PROFILE).sort_stats("cumulative").print_stats(25)
    finally:
        teardown_databases(old, verbosity=0)
        cache.clear()


if __name__ == "__main__":
    main()
