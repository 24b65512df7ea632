"""Benchmark of the whole DB training pipeline at 1M interactions.

Planted synthetic interactions (``recs.engine.synthetic``) are bulk-loaded into a throwaway
PostgreSQL database with COPY (ratings, favorites, watchlist entries, playlist items), then
``recs_model_train`` + the promotion gate run exactly as the Celery task does. Prints seconds
per stage, metrics against the popularity baseline with ratios, and ``evaluate_model``.

Run: ``python bench/recs_train.py [--interactions N]`` with DATABASE_URL /
REDIS_URL set (or through ``make bench``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._django import throwaway_database  # noqa: E402


def _copy(cursor, table: str, columns: str, lines) -> None:  # type: ignore[no-untyped-def]
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for line in lines:
            copy.write(line)


def load(n_users: int, n_items: int, n: int) -> dict[str, float]:
    """Insert users, movies and ``n`` interactions; returns seconds per step."""
    import numpy as np
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from movies.models import Movie
    from playlists.models import Playlist
    from recs.engine.matrix import KIND_FAVORITE, KIND_PLAYLIST, KIND_RATING, KIND_WATCHLIST
    from recs.engine.synthetic import generate
    from users.models import User

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    data = generate(n_users, n_items, n, seed=0)
    rows = data.interactions
    seconds["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    with transaction.atomic():
        password = make_password(None)
        users = User.objects.bulk_create(
            [User(username=f"bench{i}", password=password) for i in range(n_users)],
            batch_size=5000,
        )
        movies = Movie.objects.bulk_create(
            [Movie(title=f"Bench movie {i}", year=1950 + i % 70) for i in range(n_items)],
            batch_size=5000,
        )
        user_pk = np.array([u.pk for u in users])
        movie_pk = np.array([m.pk for m in movies])
        u, m = user_pk[rows.user_ids].tolist(), movie_pk[rows.item_ids].tolist()
        scores = [f"{s:.1f}" for s in rows.scores.tolist()]
        stamps = [datetime.fromtimestamp(t, UTC).isoformat() for t in np.unique(rows.timestamps)]
        moment = dict(zip(np.unique(rows.timestamps).tolist(), stamps, strict=True))
        ts = [moment[t] for t in rows.timestamps.tolist()]
        kinds = rows.kinds
        with connection.cursor() as cursor:
            sel = np.flatnonzero(kinds == KIND_RATING)
            _copy(
                cursor,
                "ratings_rating",
                "user_id, movie_id, score, review, created_at, updated_at",
                (f"{u[i]}\t{m[i]}\t{scores[i]}\t\t{ts[i]}\t{ts[i]}\n" for i in sel.tolist()),
            )
            for kind, table in ((KIND_FAVORITE, "ratings_favorite"),
                                (KIND_WATCHLIST, "ratings_watchlistentry")):  # fmt: skip
                sel = np.flatnonzero(kinds == kind)
                _copy(
                    cursor,
                    table,
                    "user_id, movie_id, added_at",
                    (f"{u[i]}\t{m[i]}\t{ts[i]}\n" for i in sel.tolist()),
                )
            sel = np.flatnonzero(kinds == KIND_PLAYLIST)
            owners = sorted({u[i] for i in sel.tolist()})
            playlists = Playlist.objects.bulk_create(
                [Playlist(owner_id=o, title="Bench list") for o in owners], batch_size=5000
            )
            playlist_of = {o: p.pk for o, p in zip(owners, playlists, strict=True)}
            position: dict[int, int] = {}

            def items():  # type: ignore[no-untyped-def]
                for i in sel.tolist():
                    owner = u[i]
                    pos = position.get(owner, 0)
                    position[owner] = pos + 1
                    yield f"{playlist_of[owner]}\t{m[i]}\t{pos}\t\t{ts[i]}\n"

            columns = "playlist_id, movie_id, position, note, added_at"
            _copy(cursor, "playlists_playlistitem", columns, items())
    seconds["load (COPY)"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=6000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    args = parser.parse_args()

    with throwaway_database("movierec_bench_recs_train"), tempfile.TemporaryDirectory() as tmp:
        from io import StringIO

        from django.conf import settings
        from django.core.management import call_command

        from recs import services
        from recs.management.format import metrics_table, timings_line

        settings.RECS_MODEL_DIR = Path(tmp)
        settings.STORAGES = {
            **settings.STORAGES,
            "models": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": tmp},
            },
        }
        for step, value in load(args.users, args.items, args.interactions).items():
            print(f"{step:<14} {value:7.2f}s")

        version = services.recs_model_train()
        counts = version.data_counts
        print(
            f"\nmodel v{version.pk} {version.status}: {counts['interactions']} interactions "
            f"({counts['ratings']} ratings, {counts['favorites']} favorites, "
            f"{counts['watchlist']} watchlist, {counts['playlist_items']} playlist items), "
            f"{counts['users']} users x {counts['movies']} movies"
        )
        print(f"stages: {timings_line(version.timings)}")
        print(
            metrics_table([("hybrid", version.metrics), ("popularity", version.baseline_metrics)])
        )
        print(f"chosen: {version.params}\nvalidation: {version.validation}")
        print(f"gate: {version.note}")
        size = sum(p.stat().st_size for p in (Path(tmp) / version.artifact_path).iterdir())
        print(f"artifact: {size / 1e6:.1f} MB")

        out = StringIO()
        started = time.perf_counter()
        call_command("evaluate_model", "--seed", "1", stdout=out, verbosity=0)
        print(f"\n$ manage.py evaluate_model --seed 1   ({time.perf_counter() - started:.1f}s)")
        print(out.getvalue().rstrip())


if __name__ == "__main__":
    main()
