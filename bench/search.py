"""Movie search latency at catalogue scale, and the plans PostgreSQL picks for it.

Creates a throwaway database (``bench_movierec_search``), bulk-inserts N synthetic movies
(100,000 by default; titles, overviews and keywords drawn from a fixed vocabulary, plus a few
real titles to look for), runs the exact queries the ``movies(search:)`` resolver runs (first
page of 20 by relevance, and the total count), prints EXPLAIN (ANALYZE, BUFFERS) and the
median latency with the indexes and with index scans disabled, then drops the database.

    python bench/search.py [--movies 100000] [--runs 15] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "movierec.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from movierec.graphql.pagination import paginate  # noqa: E402
from movies.graphql.filters import movie_order_keys  # noqa: E402
from movies.models import Movie  # noqa: E402
from movies.selectors import MovieFilters, movie_list  # noqa: E402

REAL_TITLES = [
    "The Godfather",
    "The Godfather Part II",
    "The Godfather Part III",
    "Star Wars",
    "Star Trek",
    "Heat",
    "Goodfellas",
    "Casablanca",
    "Alien",
    "Aliens",
]
COMMON = [
    "the",
    "love",
    "night",
    "last",
    "dark",
    "city",
    "man",
    "woman",
    "house",
    "war",
    "world",
    "story",
    "life",
    "death",
    "king",
    "road",
    "blood",
    "day",
    "dream",
    "game",
    "girl",
    "boy",
    "time",
    "secret",
    "return",
    "river",
    "star",
    "lost",
    "black",
    "red",
    "stone",
    "fire",
    "heart",
    "ghost",
    "shadow",
    "summer",
    "winter",
    "island",
    "journey",
    "family",
    "killer",
    "money",
    "power",
    "american",
]
SEARCHES = ["godfather", "godf", "godfater", "the godfather part", "star wars", "love", "zqxv"]


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["th", "sh", "ck"]
    words = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(size)}
    return sorted(words)


def seed(total: int) -> None:
    rng = random.Random(42)
    vocabulary = _vocabulary(rng)

    def words(k: int) -> str:
        return " ".join(
            rng.choice(COMMON) if rng.random() < 0.3 else rng.choice(vocabulary) for _ in range(k)
        )

    batch: list[Movie] = []
    started = time.perf_counter()
    for i in range(total):
        title = REAL_TITLES[i] if i < len(REAL_TITLES) else words(rng.randint(1, 4)).title()
        batch.append(
            Movie(
                tmdb_id=i + 1,
                title=title,
                original_title=title,
                overview=words(rng.randint(15, 40)),
                keywords_text=words(3),
                year=rng.randint(1920, 2025),
                popularity=rng.random() * 100,
                vote_average=rng.random() * 10,
                original_language="en",
            )
        )
        if len(batch) == 5_000:
            Movie.objects.bulk_create(batch)
            batch = []
    Movie.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE movies_movie")
    print(f"seeded {total:,} movies in {time.perf_counter() - started:.1f}s")


def _search(text: str) -> tuple[Callable[[], object], Callable[[], object], str]:
    filters = MovieFilters(search=text)
    queryset = movie_list(filters=filters)
    order = movie_order_keys(None, has_search=True)

    def page() -> object:
        return paginate(queryset, order=order, first=20, after=None, count=False).nodes

    def count() -> object:
        return queryset.order_by().count()

    keys = [k.field for k in order] + ["pk"]
    ordered = queryset.order_by(*[f"-{k}" if k != "pk" else k for k in keys])[:21]
    return page, count, ordered.explain(analyze=True, buffers=True)


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _set_index_scans(enabled: bool) -> None:
    value = "on" if enabled else "off"
    with connection.cursor() as cursor:
        cursor.execute(f"SET enable_bitmapscan = {value}")
        cursor.execute(f"SET enable_indexscan = {value}")


def measure(runs: int) -> None:
    rows = []
    for text in SEARCHES:
        page, count, plan = _search(text)
        hits = count()
        first = [m.title for m in page()][:3]
        print(f"\n== EXPLAIN (ANALYZE, BUFFERS) page query, search={text!r}\n{plan}")
        _set_index_scans(True)
        page_ms, count_ms = _median_ms(page, runs), _median_ms(count, runs)
        _set_index_scans(False)
        seq_ms = _median_ms(page, max(3, runs // 5))
        _set_index_scans(True)
        rows.append((text, hits, page_ms, count_ms, seq_ms, first))
    total = Movie.objects.count()
    print(f"\nmedian latency over {runs} runs, {total:,} movies (page = first 20 by relevance)")
    print(f"{'search':<22}{'hits':>8}{'page ms':>10}{'count ms':>10}{'no-index ms':>13}  top hits")
    for text, hits, page_ms, count_ms, seq_ms, first in rows:
        print(
            f"{text!r:<22}{hits:>8}{page_ms:>10.1f}{count_ms:>10.1f}{seq_ms:>13.1f}  "
            f"{', '.join(first)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="reuse/keep the bench database")
    args = parser.parse_args()
    connection.settings_dict["TEST"]["NAME"] = "bench_movierec_search"
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=args.keep, serialize=False
    )
    try:
        if not Movie.objects.exists():
            seed(args.movies)
        measure(args.runs)
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
