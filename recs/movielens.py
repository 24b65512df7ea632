"""Import MovieLens CSVs (the ml-latest-small layout) as users, movies and ratings.

ratings.csv ``userId,movieId,rating,timestamp``; movies.csv ``movieId,title,genres``;
links.csv ``movieId,imdbId,tmdbId``. MovieLens user N becomes user ``ml_N`` (unusable
password). Movies are matched by TMDb id where links.csv gives one, else by normalised title
and year, and created when unmatched. Ratings are upserted by (user, movie) through COPY into
a temporary table, so a second import of the same files changes nothing. Afterwards the
community rating of every touched movie is recomputed in one set-based UPDATE.

``movielens_fixture_write`` generates an ml-latest-small-sized file set with MovieLens-style
titles and planted taste structure, for tests and ``bench/recs_train.py``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

ImportProgress = Callable[[str, int, int], None]

#: MovieLens genre -> TMDb genre name. Genres TMDb lacks (Film-Noir, IMAX) keep their name.
GENRE_MAP = {"Sci-Fi": "Science Fiction", "Children": "Family", "Musical": "Music"}
NO_GENRES = "(no genres listed)"
ARTICLES = (
    "The", "A", "An", "Les", "La", "Le", "L'", "Il", "Lo", "Gli", "I", "El", "Los", "Las",
    "Das", "Der", "Die", "Den", "Det", "De", "Het", "Un", "Une", "Ein", "Eine", "O", "Os",
)  # fmt: skip
_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[-\u2013]\d{0,4})?\)\s*$")
_ALTERNATE = re.compile(r"^(?P<title>.*\S)\s+\((?P<alt>[^()]+)\)$")
_ARTICLE = re.compile(r"^(?P<rest>.+), (?P<article>" + "|".join(map(re.escape, ARTICLES)) + r")$")
USER_PREFIX = "ml_"
BATCH_SIZE = 2000


def _article_first(title: str) -> str:
    """``"Godfather, The"`` -> ``"The Godfather"``; ``"Avventura, L'"`` -> ``"L'Avventura"``."""
    match = _ARTICLE.match(title.strip())
    if not match:
        return title.strip()
    article = match["article"]
    return f"{article}{'' if article.endswith(chr(39)) else ' '}{match['rest']}"


def title_normalise(raw: str) -> tuple[str, str, int | None]:
    """MovieLens title -> (title, original/alternate title or "", year or None).

    ``"Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"`` ->
    ``("Amelie", "Le Fabuleux destin d'Amélie Poulain", 2001)``.
    """
    text = raw.strip()
    year: int | None = None
    match = _YEAR.match(text)
    if match:
        text, year = match["title"], int(match["year"])
    alternate = ""
    match = _ALTERNATE.match(text)
    if match:
        text = match["title"]
        alt = match["alt"].strip()
        alt = re.sub(r"^a\.k\.a\.\s*", "", alt, flags=re.IGNORECASE)
        alternate = _article_first(alt)
    return _article_first(text), alternate, year


def genres_map(raw: str) -> list[str]:
    """``"Adventure|Children|Sci-Fi"`` -> ``["Adventure", "Family", "Science Fiction"]``."""
    if not raw or raw.strip() == NO_GENRES:
        return []
    names = [GENRE_MAP.get(g.strip(), g.strip()) for g in raw.split("|") if g.strip()]
    return list(dict.fromkeys(names))


@dataclass
class ImportResult:
    users_created: int = 0
    movies_created: int = 0
    movies_matched: int = 0
    ratings_inserted: int = 0
    ratings_updated: int = 0
    ratings_unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    movies_touched: int = 0

    def __str__(self) -> str:
        skipped = ", ".join(f"{v} {k}" for k, v in self.skipped.items() if v) or "none"
        return (
            f"users +{self.users_created}; movies +{self.movies_created} "
            f"(matched {self.movies_matched}); ratings +{self.ratings_inserted} "
            f"~{self.ratings_updated} ={self.ratings_unchanged}; skipped: {skipped}"
        )


def _read_csv(path: Path) -> Iterable[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def _report(progress: ImportProgress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


@dataclass
class _MovieRow:
    ml_id: int
    title: str
    original_title: str
    year: int | None
    genres: list[str]
    tmdb_id: int | None = None
    imdb_id: str = ""


def _parse_movies(movies: Path | None, links: Path | None, ml_ids: set[int]) -> list[_MovieRow]:
    rows: dict[int, _MovieRow] = {}
    if movies is not None:
        for rec in _read_csv(movies):
            ml_id = int(rec["movieId"])
            title, original, year = title_normalise(rec["title"])
            rows[ml_id] = _MovieRow(
                ml_id, title[:500], original[:500], year, genres_map(rec["genres"])
            )
    for ml_id in ml_ids - rows.keys():  # rated but not described: a placeholder title
        rows[ml_id] = _MovieRow(ml_id, f"MovieLens movie {ml_id}", "", None, [])
    if links is not None:
        for rec in _read_csv(links):
            row = rows.get(int(rec["movieId"]))
            if row is None:
                continue
            if rec.get("tmdbId", "").strip():
                row.tmdb_id = int(float(rec["tmdbId"]))
            if rec.get("imdbId", "").strip():
                row.imdb_id = f"tt{int(rec['imdbId']):07d}"
    return list(rows.values())


def _movies_upsert(rows: list[_MovieRow], result: ImportResult) -> dict[int, int]:
    """MovieLens movie id -> Movie pk, creating the movies no match was found for."""
    from movies.models import Genre, Movie

    by_tmdb = dict(
        Movie.objects.filter(tmdb_id__in=[r.tmdb_id for r in rows if r.tmdb_id]).values_list(
            "tmdb_id", "id"
        )
    )
    untitled = [r for r in rows if not r.tmdb_id]
    by_title: dict[tuple[str, int | None], int] = {}
    if untitled:
        wanted = {r.title for r in untitled}
        for pk, title, year in (
            Movie.objects.filter(title__in=wanted).order_by("id").values_list("id", "title", "year")
        ):
            by_title.setdefault((title.lower(), year), pk)

    mapping: dict[int, int] = {}
    to_create: dict[object, tuple[_MovieRow, list[int]]] = {}
    for r in rows:
        key: object = r.tmdb_id if r.tmdb_id else (r.title.lower(), r.year)
        pk = by_tmdb.get(r.tmdb_id) if r.tmdb_id else by_title.get(key)  # type: ignore[arg-type]
        if pk is not None:
            mapping[r.ml_id] = pk
            result.movies_matched += 1
        elif key in to_create:
            to_create[key][1].append(r.ml_id)  # same film twice in the file: one movie
        else:
            to_create[key] = (r, [r.ml_id])

    if not to_create:
        return mapping
    genre_names = sorted({g for r, _ in to_create.values() for g in r.genres})
    Genre.objects.bulk_create([Genre(name=n) for n in genre_names], ignore_conflicts=True)
    genre_ids = dict(Genre.objects.filter(name__in=genre_names).values_list("name", "id"))
    entries = list(to_create.values())
    created = Movie.objects.bulk_create(
        [
            Movie(
                tmdb_id=r.tmdb_id,
                imdb_id=r.imdb_id,
                title=r.title,
                original_title=r.original_title or r.title,
                year=r.year,
            )
            for r, _ in entries
        ],
        batch_size=BATCH_SIZE,
    )
    through = Movie.genres.through
    links = []
    for movie, (r, ml_ids) in zip(created, entries, strict=True):
        for ml_id in ml_ids:
            mapping[ml_id] = movie.pk
        links.extend(through(movie_id=movie.pk, genre_id=genre_ids[g]) for g in r.genres)
    through.objects.bulk_create(links, batch_size=BATCH_SIZE * 5, ignore_conflicts=True)
    result.movies_created += len(created)
    return mapping


def _users_ensure(ml_user_ids: list[int], result: ImportResult) -> dict[int, int]:
    """MovieLens user id -> User pk for ``ml_<id>``, created with unusable passwords."""
    from users.models import User

    names = {f"{USER_PREFIX}{uid}": uid for uid in ml_user_ids}
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    missing = [n for n in names if n not in existing]
    unusable = make_password(None)  # "!" + random: no password can ever match it
    User.objects.bulk_create(
        [User(username=n, password=unusable) for n in missing],
        batch_size=BATCH_SIZE,
        ignore_conflicts=True,
    )
    result.users_created += len(missing)
    return {
        names[username]: pk
        for username, pk in User.objects.filter(username__in=names).values_list("username", "id")
    }


def movie_rating_stats_recompute(movie_ids: Iterable[int]) -> int:
    """Set Movie.rating_count / rating_sum of these movies from their ratings, in ONE query.

    Movies left without ratings drop to zero. Returns the number of movies updated.
    """
    ids = sorted(set(int(i) for i in movie_ids))
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE movies_movie AS m
               SET rating_count = s.n, rating_sum = s.total
              FROM (SELECT t.id AS movie_id, count(r.id) AS n, coalesce(sum(r.score), 0) AS total
                      FROM unnest(%s::bigint[]) AS t(id)
                      LEFT JOIN ratings_rating r ON r.movie_id = t.id
                     GROUP BY t.id) AS s
             WHERE m.id = s.movie_id
            """,
            [ids],
        )
        return cursor.rowcount


_RATING_SCORES = {float(s) for s in (Decimal(n) / 2 for n in range(1, 11))}


def _ratings_upsert(
    ratings: Path,
    users: dict[int, int],
    movies: dict[int, int],
    result: ImportResult,
    progress: ImportProgress | None,
    total: int,
) -> set[int]:
    """COPY ratings into a temporary table, then one INSERT ... ON CONFLICT upsert."""
    latest: dict[tuple[int, int], tuple[str, int]] = {}
    bad = 0
    for n, rec in enumerate(_read_csv(ratings), 1):
        score = float(rec["rating"])
        if score not in _RATING_SCORES:
            bad += 1
            continue
        key = (users[int(rec["userId"])], movies[int(rec["movieId"])])
        stamp = int(rec["timestamp"])
        if key not in latest or stamp >= latest[key][1]:  # duplicates: the newest wins
            latest[key] = (f"{score:.1f}", stamp)
        if n % 20_000 == 0:
            _report(progress, "read ratings", n, total)
    result.skipped["invalid scores"] = bad
    _report(progress, "read ratings", total, total)

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE ml_rating_import "
            "(user_id bigint, movie_id bigint, score numeric(2,1), ts timestamptz) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY ml_rating_import (user_id, movie_id, score, ts) FROM STDIN"
        ) as copy:
            for done, ((user_id, movie_id), (score, stamp)) in enumerate(latest.items(), 1):
                moment = datetime.fromtimestamp(stamp, UTC).isoformat()
                copy.write(f"{user_id}\t{movie_id}\t{score}\t{moment}\n")
                if done % 20_000 == 0:
                    _report(progress, "write ratings", done, len(latest))
        # xmax = 0 marks freshly inserted rows; unchanged rows are not rewritten at all.
        cursor.execute(
            """
            INSERT INTO ratings_rating (user_id, movie_id, score, review, created_at, updated_at)
            SELECT user_id, movie_id, score, '', ts, ts FROM ml_rating_import
            ON CONFLICT (user_id, movie_id) DO UPDATE
               SET score = EXCLUDED.score, updated_at = EXCLUDED.updated_at
             WHERE ratings_rating.score IS DISTINCT FROM EXCLUDED.score
            RETURNING (xmax = 0)
            """
        )
        flags = [row[0] for row in cursor.fetchall()]
        cursor.execute("DROP TABLE ml_rating_import")  # inside a caller's transaction too
    _report(progress, "write ratings", len(latest), len(latest))
    result.ratings_inserted += sum(flags)
    result.ratings_updated += len(flags) - sum(flags)
    result.ratings_unchanged += len(latest) - len(flags)
    return {movie_id for _, movie_id in latest}


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


@transaction.atomic
def movielens_import(
    *,
    ratings: Path,
    movies: Path | None = None,
    links: Path | None = None,
    progress: ImportProgress | None = None,
) -> ImportResult:
    """Import one MovieLens file set in one transaction (all or nothing); idempotent."""
    result = ImportResult()
    total = _count_lines(ratings)
    ml_users: set[int] = set()
    ml_movies: set[int] = set()
    for n, rec in enumerate(_read_csv(ratings), 1):
        ml_users.add(int(rec["userId"]))
        ml_movies.add(int(rec["movieId"]))
        if n % 20_000 == 0:
            _report(progress, "scan ratings", n, total)
    _report(progress, "scan ratings", total, total)

    users = _users_ensure(sorted(ml_users), result)
    _report(progress, "users", 1, 1)
    movie_map = _movies_upsert(_parse_movies(movies, links, ml_movies), result)
    _report(progress, "movies", 1, 1)
    touched = _ratings_upsert(ratings, users, movie_map, result, progress, total)
    result.movies_touched = movie_rating_stats_recompute(touched)
    _report(progress, "rating stats", 1, 1)
    return result


# --------------------------------------------------------------------------- fixture

_WORDS_A = (
    "Dark", "Silent", "Last", "Lost", "Broken", "Golden", "Crimson", "Hidden", "Midnight",
    "Wild", "Frozen", "Little", "Big", "Final", "Secret", "Electric", "Eternal", "Lonely",
    "Burning", "Savage", "Quiet", "Distant", "Falling", "Rising", "Endless", "Perfect",
)  # fmt: skip
_WORDS_B = (
    "River", "Night", "Summer", "City", "Road", "Heart", "Storm", "Garden", "Empire", "Island",
    "Kingdom", "Mountain", "Detective", "Stranger", "Machine", "Planet", "Shadow", "Promise",
    "Winter", "Journey", "Harbor", "Circus", "Orchestra", "Frontier", "Witness", "Ghost",
)  # fmt: skip
_FOREIGN = (
    ("Vie", "La"), ("Destin", "Le"), ("Notte", "La"), ("Amici", "Gli"), ("Postino", "Il"),
    ("Enfants", "Les"), ("Boot", "Das"), ("Himmel", "Der"), ("Espinazo", "El"),
)  # fmt: skip
ML_GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)  # fmt: skip
#: Real ml-latest-small rows, always in the fixture: the title/genre cases tests check.
KNOWN_MOVIES = (
    (1, "Toy Story (1995)", "Adventure|Animation|Children|Comedy|Fantasy", "0114709", "862"),
    (858, "Godfather, The (1972)", "Crime|Drama", "0068646", "238"),
    (4973, "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Comedy|Romance",
     "0211915", "194"),
    (29, "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
     "Adventure|Drama|Fantasy|Mystery|Sci-Fi", "0112682", "902"),
    (47, "Seven (a.k.a. Se7en) (1995)", "Mystery|Thriller", "0114369", "807"),
    (1211, "Wings of Desire (Himmel über Berlin, Der) (1987)", "Drama|Fantasy|Romance",
     "0093191", "144"),
    (2905, "Sanjuro (Tsubaki Sanjûrô) (1962)", "Action|Adventure|Drama", "0056443", ""),
    (1288, "This Is Spinal Tap (1984)", "Comedy", "0088258", ""),
    (3200, "Last Detail, The (1973)", "Comedy|Drama", "0070290", ""),
    (8228, "Maltese Falcon, The (a.k.a. Dangerous Female) (1931)", "Film-Noir|Mystery",
     "0022111", ""),
    (1035, "Sound of Music, The (1965)", "Musical|Romance", "0059742", "15121"),
    (5995, "Pianist, The (2002)", "Drama|War", "0253474", "423"),
    (3567, "Bossa Nova (2000)", "Comedy|Romance", "0180837", "41562"),
    (7792, "Parallax View, The (1974)", "Thriller", "0071970", "29578"),
    (8044, "I Am a Fugitive from a Chain Gang (1932)", "Crime|Drama|Film-Noir", "0023042", ""),
    (114935, "Predestination (2014)", "Action|Mystery|Sci-Fi|Thriller", "2397535", "206487"),
    (5013, "Gosford Park (2001)", "Comedy|Drama|Mystery", "0280707", "5279"),
    (160718, "Piper (2016)", "Animation", "5613056", "399106"),
    (1156, "Anatomy of Hell (Anatomie de l'enfer) (2004)", "(no genres listed)", "0356618", ""),
    (1572, "Contempt (Mépris, Le) (1963)", "Drama", "0057345", "266"),
    (2360, "Celebration, The (Festen) (1998)", "Drama", "0154420", "309"),
    (3000, "Princess Mononoke (Mononoke-hime) (1997)", "Action|Adventure|Animation|Drama|Fantasy",
     "0119698", "128"),
    (6016, "City of God (Cidade de Deus) (2002)", "Action|Adventure|Crime|Drama|Thriller",
     "0317248", "598"),
    (1199, "Brazil (1985)", "Fantasy|Sci-Fi", "0088846", "68"),
)  # fmt: skip


def _fixture_title(rng: np.random.Generator, n: int) -> str:
    title = f"{_WORDS_A[rng.integers(len(_WORDS_A))]} {_WORDS_B[rng.integers(len(_WORDS_B))]}"
    if n % 5 == 0 or n % 10 == 3:
        # Sequel numbers; always on rows without a tmdbId, which are matched by title + year.
        title += f" {n}"
    year = int(rng.integers(1920, 2019))
    style = n % 9
    if style in (0, 1):
        title = f"{title}, The"
    elif style == 2:
        title = f"{title}, A"
    elif style == 3:
        word, article = _FOREIGN[rng.integers(len(_FOREIGN))]
        title = f"{title} ({word} {n}, {article})"
    elif style == 4:
        title = f"{title} (a.k.a. {_WORDS_B[rng.integers(len(_WORDS_B))]} {n})"
    return f"{title} ({year})"


def movielens_fixture_write(
    directory: Path,
    *,
    n_users: int = 610,
    n_movies: int = 9_700,
    n_ratings: int = 100_836,
    seed: int = 0,
) -> dict[str, Path]:
    """Write ratings.csv, movies.csv and links.csv in the ml-latest-small layout.

    Ratings carry planted taste structure (``recs.engine.synthetic.generate`` over the
    movies' primary genres), ids are sparse like MovieLens', every ``KNOWN_MOVIES`` row is
    included, and links leave a tenth of the tmdbIds empty. Returns the three paths.
    """
    from recs.engine.synthetic import generate

    if n_movies < len(KNOWN_MOVIES):
        raise ValueError(f"n_movies must be at least {len(KNOWN_MOVIES)}")
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    known_ids = {m[0] for m in KNOWN_MOVIES}
    generated_ids = [i for i in range(2, 4 * n_movies) if i not in known_ids]
    ml_ids = [m[0] for m in KNOWN_MOVIES] + sorted(
        rng.choice(generated_ids, size=n_movies - len(KNOWN_MOVIES), replace=False).tolist()
    )
    movies: list[tuple[int, str, str, str, str]] = list(KNOWN_MOVIES)
    for n, ml_id in enumerate(ml_ids[len(KNOWN_MOVIES) :]):
        count = int(rng.integers(1, 4))
        genres = "|".join(rng.choice(ML_GENRES, size=count, replace=False).tolist())
        if n % 97 == 0:
            genres = NO_GENRES
        tmdb = "" if n % 10 == 3 else str(500_000 + ml_id)
        movies.append((ml_id, _fixture_title(rng, n), genres, f"{3_000_000 + ml_id:07d}", tmdb))
    primary = np.array(
        [ML_GENRES.index(g.split("|")[0]) if g != NO_GENRES else 0 for _, _, g, _, _ in movies]
    )
    data = generate(
        n_users, n_movies, n_ratings, seed=seed, item_genres=primary, kind_shares=(1, 0, 0, 0)
    )
    rows = data.interactions

    paths = {name: directory / f"{name}.csv" for name in ("ratings", "movies", "links")}
    with paths["movies"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["movieId", "title", "genres"])
        writer.writerows(sorted((m[0], m[1], m[2]) for m in movies))
    with paths["links"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["movieId", "imdbId", "tmdbId"])
        writer.writerows(sorted((m[0], m[3], m[4]) for m in movies))
    ids = np.array([m[0] for m in movies])
    order = np.lexsort((rows.item_ids, rows.user_ids))
    with paths["ratings"].open("w", encoding="utf-8") as fh:
        fh.write("userId,movieId,rating,timestamp\n")
        fh.writelines(
            f"{u + 1},{ids[i]},{s:.1f},{t}\n"
            for u, i, s, t in zip(
                rows.user_ids[order].tolist(),
                rows.item_ids[order].tolist(),
                rows.scores[order].tolist(),
                (rows.timestamps[order] - 300_000_000).tolist(),
                strict=True,
            )
        )
    return paths
