"""Benchmark of ``import_movielens`` by stage, against a plain COPY floor in the same run.

Writes a synthetic ML-25M-shaped release (``bench/movielens_synth.py``) of ``--ratings`` rows
(users scale linearly with the ratings, movies with their square root, up to ML-25M's 162,541 x
62,423), then in a throwaway database:

1. **floor**: a plain ``COPY`` of the imported rows into a table with the ratings table's
   shape, then its indexes (primary key, unique (user, movie) and the secondary ones) and
   foreign keys built, the fastest way plain PostgreSQL fills an empty table; for reference
   also the COPY of the file into a table without indexes and (``--indexed-floor``) the COPY
   into a table whose indexes are maintained row by row;
2. **import**: ``movielens_import`` of the directory, stage by stage, as a ratio to the floor;
3. **re-import** of the same files (idempotent: nothing changes), as a ratio to the floor.

Run: ``python bench/movielens_import.py [--ratings 1000000] [--layout ml-25m]`` with
DATABASE_URL / REDIS_URL set (or through ``make bench``, which starts the embedded servers).
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._django import throwaway_database  # noqa: E402
from bench.movielens_synth import SHAPES  # noqa: E402


def shape_for(n_ratings: int) -> tuple[int, int]:
    """(users, movies) for ``n_ratings`` on the ML-25M curve."""
    users_25m, movies_25m, ratings_25m = SHAPES["ml-25m"]
    users = max(50, round(users_25m * n_ratings / ratings_25m))
    movies = min(62_423, max(200, round(62_423 * math.sqrt(n_ratings / ratings_25m))))
    users = min(users, n_ratings // 20)
    return users, movies


def _copy_bare(ratings_csv: Path) -> float:
    """Seconds for a plain COPY of the ratings file into a table without indexes."""
    from django.db import connection, transaction

    from recs.movielens import CHUNK_BYTES

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_copy_bare "
            "(user_id bigint, movie_id bigint, score numeric(2, 1), stamp bigint)"
        )
        started = time.perf_counter()
        with (
            ratings_csv.open("rb") as fh,
            cursor.cursor.copy("COPY bench_copy_bare FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := fh.read(CHUNK_BYTES):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def _copy_floor(dump: Path, *, indexed: bool) -> tuple[float, int]:
    """Seconds for a plain COPY of the imported rows into a copy of the ratings table (same
    columns, CHECK, indexes and foreign keys, checked before the clock stops); rolled back.

    ``indexed=False``: COPY into the bare table, then build its indexes and foreign keys (the
    fastest way plain PostgreSQL loads an empty table: the floor). ``indexed=True``: COPY into
    the table with its indexes and deferred foreign keys in place (slow at scale: every row
    updates five b-trees)."""
    from django.db import connection, transaction

    from recs.movielens import CHUNK_BYTES

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'ratings_rating'::regclass"
        )
        indexes = [
            definition.replace(f"INDEX {name} ", f"INDEX bench_floor_{n} ", 1).replace(
                "public.ratings_rating", "bench_copy_floor", 1
            )
            for n, (name, definition) in enumerate(cursor.fetchall())
        ]
        like = (
            "INCLUDING ALL"
            if indexed
            else "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY"
        )
        foreign_keys = [
            "ALTER TABLE bench_copy_floor ADD FOREIGN KEY (user_id) REFERENCES users_user (id) "
            "DEFERRABLE INITIALLY DEFERRED",
            "ALTER TABLE bench_copy_floor ADD FOREIGN KEY (movie_id) "
            "REFERENCES movies_movie (id) DEFERRABLE INITIALLY DEFERRED",
        ]
        cursor.execute(f"CREATE TABLE bench_copy_floor (LIKE ratings_rating {like})")
        if indexed:
            for statement in foreign_keys:
                cursor.execute(statement)
        started = time.perf_counter()
        with (
            dump.open("rb") as fh,
            cursor.cursor.copy(
                "COPY bench_copy_floor (user_id, movie_id, score, review, created_at, updated_at) "
                "FROM STDIN"
            ) as copy,
        ):
            while chunk := fh.read(CHUNK_BYTES):
                copy.write(chunk)
        if not indexed:
            for statement in indexes + foreign_keys:
                cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred FK checks run here
        seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_copy_floor")
        rows = cursor.fetchone()[0]
        transaction.set_rollback(True)
    return seconds, rows


def _dump_ratings(path: Path) -> None:
    from django.db import connection

    with (
        connection.cursor() as cursor,
        path.open("wb") as fh,
        cursor.cursor.copy(
            "COPY ratings_rating (user_id, movie_id, score, review, created_at, updated_at) "
            "TO STDOUT"
        ) as copy,
    ):
        for data in copy:
            fh.write(data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--layout", default="ml-25m")
    parser.add_argument("--no-reimport", action="store_true", help="skip the second import")
    parser.add_argument(
        "--indexed-floor", action="store_true",
        help="also COPY into the table with its indexes in place (slow at scale)",
    )  # fmt: skip
    parser.add_argument(
        "--data", type=Path, help="import this release (e.g. one written by movielens_synth.py) "
        "instead of generating one; --ratings is then read from it"
    )  # fmt: skip
    args = parser.parse_args(argv)
    users, movies = shape_for(args.ratings)

    with tempfile.TemporaryDirectory() as tmp, throwaway_database("movierec_bench_movielens"):
        from ratings.models import Rating
        from recs.movielens import movielens_files_detect, movielens_import

        if args.data is None:
            # A separate process, so that the peak RSS below is the import's alone.
            command = [sys.executable, str(Path(__file__).with_name("movielens_synth.py")), tmp]
            command += ["--layout", args.layout, "--users", str(users), "--movies", str(movies)]
            subprocess.run([*command, "--ratings", str(args.ratings)], check=True)
        files = movielens_files_detect(args.data or Path(tmp))
        bare = _copy_bare(files.ratings) if files.ratings_format == "csv" else float("nan")

        started = time.perf_counter()
        result = movielens_import(files)
        total = time.perf_counter() - started
        if args.data is not None:
            args.ratings = result.ratings_read
            users, movies = result.users_created, result.movies_created
        assert Rating.objects.count() == args.ratings
        dump = Path(tmp) / "floor.tsv"
        _dump_ratings(dump)
        floor, rows = _copy_floor(dump, indexed=False)
        assert rows == args.ratings, rows

        print(f"{'plain COPY, no index':<28} {bare:8.2f}s   {bare / floor:5.2f}x floor")
        print(f"{'COPY + indexes + FKs':<28} {floor:8.2f}s   1.00x floor")
        if args.indexed_floor:
            indexed, _ = _copy_floor(dump, indexed=True)
            ratio = indexed / floor
            print(f"{'COPY into indexed table':<28} {indexed:8.2f}s   {ratio:5.2f}x floor")
        stages = dict(result.seconds)
        stages["commit (deferred FKs)"] = total - sum(stages.values())
        for stage, seconds in stages.items():
            print(f"  import: {stage:<19} {seconds:8.2f}s   {seconds / floor:5.2f}x floor")
        print(f"{'import_movielens':<28} {total:8.2f}s   {total / floor:5.2f}x floor")
        print(f"  {result}")
        if not args.no_reimport:
            started = time.perf_counter()
            again = movielens_import(files)
            second = time.perf_counter() - started
            assert again.ratings_inserted == again.ratings_updated == 0
            print(f"{'re-import (no changes)':<28} {second:8.2f}s   {second / floor:5.2f}x floor")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"summary: {args.ratings:,} ratings ({users:,} users, {movies:,} movies): import "
            f"{total:.1f}s = {total / floor:.2f}x a plain COPY ({floor:.1f}s), "
            f"{args.ratings / total:,.0f} ratings/s; Python peak RSS {peak_mb:,.0f} MB"
        )


if __name__ == "__main__":
    main()
