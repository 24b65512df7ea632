"""The benchmark's own data: a MovieLens-shaped catalogue, users and ratings in PostgreSQL.

Ratings come from :func:`recs.engine.synthetic.generate` (Zipf-like popularity, planted taste
clusters, so the trained model beats popularity and passes the promotion gate). Rows go in
with ``COPY``; the movies' rating counters are computed in numpy and written with them, as
the ratings service would have kept them. Then the product's own training service trains,
evaluates and activates the model that ships.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

GENRES = [
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "History",
    "Horror",
    "Music",
    "Mystery",
    "Romance",
    "Science Fiction",
    "TV Movie",
    "Thriller",
    "War",
    "Western",
]
COMMON = [
    "the",
    "love",
    "night",
    "last",
    "dark",
    "city",
    "man",
    "house",
    "war",
    "world",
    "story",
    "life",
    "king",
    "road",
    "day",
    "dream",
]
#: Real titles planted at the head of the catalogue, so searches have something to find.
REAL_TITLES = ["The Godfather", "The Godfather Part II", "Star Wars", "Heat", "Alien"]
SEARCH_TEXT = "godfather"


@dataclass(frozen=True)
class Shape:
    users: int
    movies: int
    ratings: int

    @property
    def label(self) -> str:
        return f"{self.users:,} users, {self.movies:,} movies, {self.ratings:,} ratings"


#: ``--scale`` presets. ``25m`` is MovieLens-25M's shape; ``1m`` MovieLens-1M's; ``62k`` has
#: 25M's whole catalogue with fewer ratings, for the catalogue-bound paths (search, uncached
#: recommendations' scoring and top-k, ``rateMovie``) without a 25M import and training.
SCALES = {
    "tiny": Shape(users=150, movies=400, ratings=6_000),
    "small": Shape(users=3_000, movies=10_000, ratings=150_000),
    "1m": Shape(users=6_040, movies=3_706, ratings=1_000_209),
    "25m": Shape(users=162_541, movies=62_423, ratings=25_000_095),
    "62k": Shape(users=8_000, movies=62_423, ratings=400_000),
}


#: Shapes with more ratings than this train without tuning first (see ``build``).
BIG_TRAINING = 2_000_000
#: ... and so do catalogues with more movies than this.
BIG_CATALOGUE = 20_000


@dataclass
class Built:
    """What the load scenarios need to know about the data they run on."""

    shape: Shape
    movie_ids: list[int]  # a few popular movies (database ids)
    viewer_ids: list[int]  # signed-in viewers with a typical number of ratings
    seconds: dict[str, float]


def _copy(cursor, table: str, columns: Iterable[str], rows: Iterable[tuple]) -> None:
    """``COPY table (columns) FROM STDIN`` in text format, streamed in 8 MB chunks."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
            buffer.write("\n")
            if buffer.tell() > 8_000_000:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


#: Ratings are spread over this many days before now, as in a real release: stamping them
#: all "now" put every rating in trending's window, an aggregate over the whole table.
RATING_SPAN_DAYS = 3 * 365


def _rating_times(n: int, seed: int) -> list[str]:
    """``n`` rating times, uniform over the last ``RATING_SPAN_DAYS`` days (seeded)."""
    offsets = np.random.default_rng(seed).uniform(0, RATING_SPAN_DAYS * 86_400, n)
    stamps = (np.int64(time.time()) - offsets.astype(np.int64)).astype("datetime64[s]")
    return np.datetime_as_string(stamps, timezone="UTC").tolist()


def _words(rng: random.Random, vocabulary: list[str], k: int) -> str:
    return " ".join(
        rng.choice(COMMON) if rng.random() < 0.3 else rng.choice(vocabulary) for _ in range(k)
    )


def build(shape: Shape, *, seed: int = 0, log: Callable[[str], None] = print) -> Built:
    """Fill the (empty, migrated) current database with ``shape`` and activate a model."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from ratings.services import ratings_bulk_load
    from recs import services
    from recs.engine.matrix import KIND_RATING
    from recs.engine.synthetic import generate
    from users.usernames import username_key as key

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    # generate() draws every kind of interaction; only ratings are stored, so ask for more.
    data = generate(shape.users, shape.movies, int(shape.ratings / 0.85) + 1, seed=seed)
    rows = data.interactions
    mine = rows.kinds == KIND_RATING
    users, items = rows.user_ids[mine], rows.item_ids[mine]
    scores = np.clip(np.round(rows.scores[mine] * 2) / 2, 0.5, 5.0)
    seconds["generate"] = time.perf_counter() - t0
    log(f"generated {len(users):,} ratings in {seconds['generate']:.1f}s")

    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]
    vocabulary = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(8000)})
    now = timezone.now().isoformat()
    counts = np.bincount(items, minlength=shape.movies)
    sums = np.bincount(items, weights=scores, minlength=shape.movies)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        _copy(
            cursor,
            "movies_genre",
            ["id", "tmdb_id", "name"],
            ((i + 1, 1000 + i, name) for i, name in enumerate(GENRES)),
        )

        def movies() -> Iterable[tuple]:
            for i in range(shape.movies):
                title = REAL_TITLES[i] if i < len(REAL_TITLES) else _words(rng, vocabulary, 3)
                yield (
                    i + 1,
                    i + 1,
                    f"tt{i + 1:07d}",
                    title.title(),
                    title.title(),
                    _words(rng, vocabulary, rng.randint(12, 30)),
                    "",
                    rng.randint(1930, 2025),
                    rng.randint(80, 180),
                    "en",
                    "Released",
                    f"/p{i}.jpg",
                    "",
                    float(data.item_popularity[i] * 1e5),
                    round(rng.random() * 10, 1),
                    rng.randint(0, 20000),
                    _words(rng, vocabulary, 3),
                    int(counts[i]),
                    f"{sums[i]:.1f}",
                    "",
                    now,
                    now,
                )

        _copy(
            cursor,
            "movies_movie",
            [
                "id",
                "tmdb_id",
                "imdb_id",
                "title",
                "original_title",
                "overview",
                "tagline",
                "year",
                "runtime",
                "original_language",
                "status",
                "poster_path",
                "backdrop_path",
                "popularity",
                "vote_average",
                "vote_count",
                "keywords_text",
                "rating_count",
                "rating_sum",
                "content_hash",
                "created_at",
                "updated_at",
            ],
            movies(),
        )
        _copy(
            cursor,
            "movies_movie_genres",
            ["movie_id", "genre_id"],
            (
                (i + 1, g + 1)
                for i in range(shape.movies)
                for g in {int(data.item_genres[i]), (int(data.item_genres[i]) * 7 + i) % 19}
            ),
        )
        n_people = max(50, shape.movies * 2)
        _copy(
            cursor,
            "movies_person",
            ["id", "tmdb_id", "name", "profile_path"],
            (
                (p + 1, p + 1, _words(rng, vocabulary, 2).title(), f"/f{p}.jpg")
                for p in range(n_people)
            ),
        )

        def credits() -> Iterable[tuple]:
            for i in range(shape.movies):
                people = rng.sample(range(1, n_people + 1), 6)
                for order, person in enumerate(people[:5]):
                    yield (i + 1, person, "cast", f"Role {order}", "", "", order)
                yield (i + 1, people[5], "crew", "", "Director", "Directing", 0)

        _copy(
            cursor,
            "movies_credit",
            ["movie_id", "person_id", "kind", "character", "job", "department", '"order"'],
            credits(),
        )
        password = make_password("bench-password-123")
        _copy(
            cursor,
            "users_user",
            [
                "id",
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "token_version",
                "username_key",
            ],
            (
                (u + 1, password, "f", f"bench{u}", "", "", "", "f", "t", now, 0, key(f"bench{u}"))
                for u in range(shape.users)
            ),
        )
        # Through the product's bulk load (as import_movielens does): into an empty table it
        # rebuilds the indexes by sorting instead of maintaining them row by row, which at
        # 25M ratings is minutes instead of the better part of an hour.
        cursor.execute(
            "CREATE TEMP TABLE bench_ratings (user_id bigint, movie_id bigint, "
            "score numeric(2, 1), rated_at timestamptz)"
        )
        _copy(
            cursor,
            "bench_ratings",
            ["user_id", "movie_id", "score", "rated_at"],
            zip(
                (users + 1).tolist(),
                (items + 1).tolist(),
                (f"{s:.1f}" for s in scores.tolist()),
                _rating_times(len(users), seed),
                strict=True,
            ),
        )
        with transaction.atomic():
            ratings_bulk_load(source="bench_ratings", rows=len(users))
        cursor.execute("DROP TABLE bench_ratings")
        for table in ("movies_genre", "movies_movie", "movies_person", "users_user"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    seconds["load"] = time.perf_counter() - t0
    log(f"loaded the catalogue and ratings with COPY in {seconds['load']:.1f}s")

    t0 = time.perf_counter()
    # Tuning fits a dozen models; at MovieLens-25M scale that takes hours on this machine, and
    # over a 62k catalogue each EASE inverse is minutes, so big shapes train with the default
    # parameters (``manage.py tune_model`` tunes them).
    big = shape.ratings > BIG_TRAINING or shape.movies > BIG_CATALOGUE
    params = services.recs_params_default() if big else None
    version = services.recs_model_train(params=params)
    seconds["train"] = time.perf_counter() - t0
    if version.status != "active":
        raise RuntimeError(f"the trained model was not activated: {version.note}")
    log(f"trained and activated model v{version.pk} in {seconds['train']:.1f}s")
    return describe(shape, seconds)


def describe(shape: Shape, seconds: dict[str, float] | None = None) -> Built:
    """The ids the scenarios use, read back from a built database."""
    from django.db.models import Count

    from movies.models import Movie
    from ratings.models import Rating

    movie_ids = list(Movie.objects.order_by("-popularity").values_list("id", flat=True)[:50])
    per_user = list(
        Rating.objects.values("user_id").annotate(n=Count("id")).order_by("n", "user_id")
    )
    middle = per_user[len(per_user) // 2 :][:20]
    return Built(
        shape=shape,
        movie_ids=movie_ids,
        viewer_ids=[row["user_id"] for row in middle],
        seconds=seconds or {},
    )
