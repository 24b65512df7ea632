"""Import a MovieLens release (any layout) as users, movies and ratings, at COPY speed.

Layouts, detected from a directory or from the files themselves:

- **ml-100k**: ``u.data`` (tab-separated ``user item rating timestamp``, no header) and
  ``u.item`` (``|``-separated, latin-1: id, title, release date, video date, IMDb URL and 19
  genre flags).
- **ml-1m / ml-10m**: ``ratings.dat`` (``UserID::MovieID::Rating::Timestamp``) and
  ``movies.dat`` (``MovieID::Title::Genres``), latin-1 (UTF-8 is accepted too); ml-10m adds
  ``tags.dat``.
- **ml-20m / ml-25m / ml-latest(-small)**: ``ratings.csv`` (``userId,movieId,rating,timestamp``),
  ``movies.csv`` (``movieId,title,genres``) and ``links.csv`` (``movieId,imdbId,tmdbId``).

Tags, genome scores and demographics are not imported (the product has no place for them).

MovieLens user N becomes user ``ml_N`` (unusable password). Movies are matched by TMDb id where
links.csv gives one, else by normalised title and year, and created when unmatched; two
MovieLens ids with the same title and year (ml-100k lists 18 films twice) stay two movies,
matched in id order on a re-import. The ratings file is never parsed in Python: its bytes are
streamed into a temporary table with ``COPY`` (``::`` rewritten to tabs on the way), the id
maps are joined to it in the database, and ``ratings.services.ratings_bulk_load`` upserts the
result in one statement and recounts the community ratings of the movies it changed. Memory
stays bounded by the number of users and movies, not ratings. Everything runs in one
transaction, and a second import of the same files changes nothing.

``movielens_fixture_write`` generates an ml-latest-small-sized file set with MovieLens-style
titles and planted taste structure, for tests and ``bench/recs_train.py``.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
from django.db import connection, transaction

ImportProgress = Callable[[str, int, int], None]

#: MovieLens genre -> TMDb genre name. Genres TMDb lacks (Film-Noir, IMAX) keep their name.
GENRE_MAP = {
    "Sci-Fi": "Science Fiction",
    "Children": "Family",
    "Children's": "Family",
    "Musical": "Music",
}
NO_GENRES = "(no genres listed)"
#: u.item's 19 genre flags, in order (ml-100k's u.genre); "unknown" gives no genre.
GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
ARTICLES = (
    "The", "A", "An", "Les", "La", "Le", "L'", "Il", "Lo", "Gli", "I", "El", "Los", "Las",
    "Das", "Der", "Die", "Den", "Det", "De", "Het", "Un", "Une", "Ein", "Eine", "O", "Os",
)  # fmt: skip
_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[-\u2013]\d{0,4})?\)\s*$")
_ALTERNATE = re.compile(r"^(?P<title>.*\S)\s+\((?P<alt>[^()]+)\)$")
_ARTICLE = re.compile(r"^(?P<rest>.+), (?P<article>" + "|".join(map(re.escape, ARTICLES)) + r")$")
_RELEASE_YEAR = re.compile(r"(\d{4})\s*$")
USER_PREFIX = "ml_"
BATCH_SIZE = 2000
CHUNK_BYTES = 8 << 20
_HALF_STARS = "(0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5)"


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


# --------------------------------------------------------------------------- layouts


class MovieLensFormatError(ValueError):
    """The files are not a MovieLens layout this importer knows (message says why)."""


@dataclass(frozen=True)
class MovieLensFiles:
    """One release's files. ``ratings_format``: ``"tab"`` (u.data), ``"dat"`` or ``"csv"``."""

    layout: str
    ratings: Path
    ratings_format: str
    movies: Path | None = None
    movies_format: str | None = None
    links: Path | None = None
    ignored: tuple[str, ...] = ()


def _first_line(path: Path) -> str:
    with path.open("rb") as fh:
        return fh.readline().decode("latin-1").strip()


def _ratings_format(path: Path) -> str:
    line = _first_line(path)
    if "::" in line:
        return "dat"
    if line.replace(" ", "").lower().startswith("userid,movieid,rating"):
        return "csv"
    if len(line.split("\t")) == 4:
        return "tab"
    raise MovieLensFormatError(
        f"{path.name}: not a MovieLens ratings file (expected u.data, ratings.dat or a "
        f"ratings.csv with a userId,movieId,rating,timestamp header); first line {line[:80]!r}"
    )


def _movies_format(path: Path) -> str:
    line = _first_line(path)
    if "::" in line:
        return "dat"
    if line.replace(" ", "").lower().startswith("movieid,title"):
        return "csv"
    if len(line.split("|")) == 5 + len(GENRES_100K):
        return "item"
    raise MovieLensFormatError(
        f"{path.name}: not a MovieLens movies file (expected u.item, movies.dat or a "
        f"movies.csv with a movieId,title,genres header); first line {line[:80]!r}"
    )


def _layout_name(ratings_format: str, siblings: set[str]) -> str:
    if ratings_format == "tab":
        return "ml-100k"
    if ratings_format == "dat":
        return "ml-10m" if "tags.dat" in siblings else "ml-1m"
    return "ml-20m/25m/latest (CSV)"


def movielens_files(
    *, ratings: Path, movies: Path | None = None, links: Path | None = None
) -> MovieLensFiles:
    """Describe explicitly named files, sniffing each one's format from its first line."""
    for name, path in (("ratings", ratings), ("movies", movies), ("links", links)):
        if path is not None and not path.is_file():
            raise MovieLensFormatError(f"{name}: no such file {path}")
    fmt = _ratings_format(ratings)
    siblings = {p.name for p in ratings.parent.iterdir()}
    return MovieLensFiles(
        layout=_layout_name(fmt, siblings),
        ratings=ratings,
        ratings_format=fmt,
        movies=movies,
        movies_format=_movies_format(movies) if movies is not None else None,
        links=links,
    )


_KNOWN = (
    ("u.data", "u.item", None),
    ("ratings.dat", "movies.dat", None),
    ("ratings.csv", "movies.csv", "links.csv"),
)
_IGNORED = ("tags.dat", "tags.csv", "users.dat", "u.user", "genome-scores.csv")


def movielens_files_detect(directory: Path) -> MovieLensFiles:
    """Find a release in ``directory`` (ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-latest)."""
    if not directory.is_dir():
        raise MovieLensFormatError(f"no such directory {directory}")
    names = {p.name for p in directory.iterdir()}
    for ratings, movies, links in _KNOWN:
        if ratings in names:
            found = movielens_files(
                ratings=directory / ratings,
                movies=directory / movies if movies in names else None,
                links=directory / links if links and links in names else None,
            )
            ignored = tuple(n for n in _IGNORED if n in names)
            return MovieLensFiles(**{**found.__dict__, "ignored": ignored})
    raise MovieLensFormatError(
        f"{directory}: no MovieLens ratings file (u.data, ratings.dat or ratings.csv)"
    )


# --------------------------------------------------------------------------- movies


@dataclass
class ImportResult:
    layout: str = ""
    ratings_read: int = 0
    users_created: int = 0
    movies_read: int = 0
    movies_created: int = 0
    movies_matched: int = 0
    ratings_inserted: int = 0
    ratings_updated: int = 0
    ratings_unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()
    movies_touched: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        skipped = ", ".join(f"{v:,} {k}" for k, v in self.skipped.items() if v) or "none"
        return (
            f"{self.layout}: {self.ratings_read:,} ratings read; users +{self.users_created:,}; "
            f"movies +{self.movies_created:,} (matched {self.movies_matched:,}); ratings "
            f"+{self.ratings_inserted:,} ~{self.ratings_updated:,} ={self.ratings_unchanged:,}; "
            f"skipped: {skipped}"
            + (f"; not imported: {', '.join(self.ignored)}" if self.ignored else "")
        )


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


def _decode(path: Path) -> str:
    """Whole small file as text: UTF-8 when it is valid UTF-8, else latin-1 (old releases)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _movie_row(ml_id: int, raw_title: str, genres: list[str], year: int | None = None) -> _MovieRow:
    title, original, title_year = title_normalise(raw_title)
    return _MovieRow(ml_id, title[:500], original[:500], title_year or year, genres)


def _movies_read(files: MovieLensFiles) -> dict[int, _MovieRow]:
    rows: dict[int, _MovieRow] = {}
    if files.movies is None:
        return rows
    text = _decode(files.movies)
    if files.movies_format == "csv":
        for rec in csv.DictReader(io.StringIO(text)):
            ml_id = int(rec["movieId"])
            rows[ml_id] = _movie_row(ml_id, rec["title"], genres_map(rec["genres"]))
    elif files.movies_format == "dat":
        for line in text.splitlines():
            if line.strip():
                ml_id, title, genres = line.split("::", 2)
                rows[int(ml_id)] = _movie_row(int(ml_id), title, genres_map(genres))
    else:  # u.item
        for line in text.splitlines():
            if not line.strip():
                continue
            parts = line.split("|")
            flags = parts[5 : 5 + len(GENRES_100K)]
            names = "|".join(g for g, f in zip(GENRES_100K[1:], flags[1:], strict=True) if f == "1")
            released = _RELEASE_YEAR.search(parts[2])
            year = int(released.group(1)) if released else None
            rows[int(parts[0])] = _movie_row(int(parts[0]), parts[1], genres_map(names), year)
    if files.links is not None:
        for rec in csv.DictReader(io.StringIO(_decode(files.links))):
            row = rows.get(int(rec["movieId"]))
            if row is None:
                continue
            if (rec.get("tmdbId") or "").strip():
                row.tmdb_id = int(float(rec["tmdbId"]))
            if (rec.get("imdbId") or "").strip():
                row.imdb_id = f"tt{int(rec['imdbId']):07d}"
    return rows


def _in_batches(values: list, size: int = 10_000) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _movies_upsert(rows: list[_MovieRow], result: ImportResult) -> dict[int, int]:
    """MovieLens movie id -> Movie pk, creating the movies no match was found for.

    By TMDb id when known (two MovieLens ids with one TMDb id share the movie); else by
    (title, year), where the k-th MovieLens id of a title (in id order) takes the k-th existing
    movie of that title (in pk order), so duplicates in a release stay apart and a re-import
    finds the same movies.
    """
    from movies.selectors import movie_ids_by_tmdb_ids, movies_titled
    from movies.services import MovieSeed, movies_bulk_create

    tmdb_ids = sorted({r.tmdb_id for r in rows if r.tmdb_id})
    by_tmdb: dict[int, int] = {}
    for batch in _in_batches(tmdb_ids):
        by_tmdb.update(movie_ids_by_tmdb_ids(batch))
    untitled = sorted((r for r in rows if not r.tmdb_id), key=lambda r: r.ml_id)
    by_title: dict[tuple[str, int | None], list[int]] = {}
    for batch in _in_batches(sorted({r.title for r in untitled})):
        for pk, title, year in movies_titled(batch):
            by_title.setdefault((title.lower(), year), []).append(pk)

    mapping: dict[int, int] = {}
    to_create: dict[object, tuple[_MovieRow, list[int]]] = {}
    seen_titles: dict[tuple[str, int | None], int] = {}
    for r in rows:
        if r.tmdb_id:
            key: object = r.tmdb_id
            pk = by_tmdb.get(r.tmdb_id)
        else:
            title_key = (r.title.lower(), r.year)
            nth = seen_titles.get(title_key, 0)
            seen_titles[title_key] = nth + 1
            candidates = by_title.get(title_key, [])
            key = (title_key, nth)
            pk = candidates[nth] if nth < len(candidates) else None
        if pk is not None:
            mapping[r.ml_id] = pk
            result.movies_matched += 1
        elif key in to_create:
            to_create[key][1].append(r.ml_id)  # same TMDb film twice in the file: one movie
        else:
            to_create[key] = (r, [r.ml_id])

    if not to_create:
        return mapping
    entries = list(to_create.values())
    created = movies_bulk_create(
        seeds=[
            MovieSeed(
                title=r.title,
                original_title=r.original_title,
                year=r.year,
                genres=r.genres,
                tmdb_id=r.tmdb_id,
                imdb_id=r.imdb_id,
            )
            for r, _ in entries
        ],
        batch_size=BATCH_SIZE,
    )
    for pk, (_, ml_ids) in zip(created, entries, strict=True):
        for ml_id in ml_ids:
            mapping[ml_id] = pk
    result.movies_created += len(created)
    return mapping


# --------------------------------------------------------------------------- ratings


def _ratings_chunks(files: MovieLensFiles) -> Iterator[tuple[bytes, int]]:
    """(COPY-ready bytes, bytes read so far), whole lines per chunk; the CSV header is checked
    and dropped, ``::`` becomes a tab."""
    with files.ratings.open("rb") as fh:
        if files.ratings_format == "csv":
            header = fh.readline().decode("latin-1").strip().replace(" ", "").lower()
            if not header.startswith("userid,movieid,rating,timestamp"):
                raise MovieLensFormatError(f"{files.ratings.name}: unexpected header {header!r}")
        while chunk := fh.read(CHUNK_BYTES):
            if not chunk.endswith(b"\n"):
                chunk += fh.readline()
            if files.ratings_format == "dat":
                chunk = chunk.replace(b"::", b"\t")
            yield chunk, fh.tell()


def _copy_ratings(cursor, files: MovieLensFiles, progress: ImportProgress | None) -> int:
    """Stream the ratings file into ``ml_rating_raw``; returns the number of rows."""
    options = "(FORMAT csv)" if files.ratings_format == "csv" else ""
    size = max(files.ratings.stat().st_size, 1)
    mb = max(size >> 20, 1)
    try:
        with cursor.cursor.copy(
            f"COPY ml_rating_raw (ml_user, ml_movie, score, stamp) FROM STDIN {options}"
        ) as copy:
            for chunk, done in _ratings_chunks(files):
                copy.write(chunk)
                _report(progress, "copy ratings (MB)", min(done * mb // size, mb), mb)
    except psycopg.errors.DataError as exc:  # a bad value or a missing column on some line
        context = exc.diag.context or ""
        line = re.search(r"line (\d+)", context)
        where = f"line {int(line.group(1)) + (files.ratings_format == 'csv')}" if line else "?"
        message = (exc.diag.message_primary or str(exc)).strip()
        raise MovieLensFormatError(f"{files.ratings.name}, {where}: {message}") from exc
    _report(progress, "copy ratings (MB)", mb, mb)
    return cursor.cursor.rowcount  # rows COPY stored


def _copy_map(cursor, table: str, mapping: dict[int, int]) -> None:
    cursor.execute(
        f"CREATE TEMPORARY TABLE {table} (ml_id integer PRIMARY KEY, pk bigint) ON COMMIT DROP"
    )
    with cursor.cursor.copy(f"COPY {table} (ml_id, pk) FROM STDIN") as copy:
        for ml_id, pk in mapping.items():
            copy.write_row((ml_id, pk))
    cursor.execute(f"ANALYZE {table}")


@transaction.atomic
def movielens_import(
    files: MovieLensFiles | None = None,
    *,
    ratings: Path | None = None,
    movies: Path | None = None,
    links: Path | None = None,
    progress: ImportProgress | None = None,
) -> ImportResult:
    """Import one MovieLens release in one transaction (all or nothing); idempotent.

    Pass ``files`` (from :func:`movielens_files_detect`) or the individual paths.
    """
    from ratings.services import ratings_bulk_load
    from users.services import users_bulk_ensure

    if files is None:
        if ratings is None:
            raise MovieLensFormatError("a ratings file is required")
        files = movielens_files(ratings=ratings, movies=movies, links=links)
    result = ImportResult(layout=files.layout)
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[stage] = round(now - clock, 2)
        clock = now

    with connection.cursor() as cursor:
        # Hash aggregates and joins over millions of rows: enough memory not to spill (this
        # transaction only).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            "CREATE TEMPORARY TABLE ml_rating_raw "
            "(ml_user integer, ml_movie integer, score real, stamp bigint) ON COMMIT DROP"
        )
        result.ratings_read = _copy_ratings(cursor, files, progress)
        lap("copy")
        cursor.execute(
            f"SELECT ml_user, count(*) FILTER (WHERE score NOT IN {_HALF_STARS}) "
            "FROM ml_rating_raw GROUP BY ml_user"
        )
        per_user = cursor.fetchall()
        invalid = sum(n for _, n in per_user)
        cursor.execute(f"SELECT DISTINCT ml_movie FROM ml_rating_raw WHERE score IN {_HALF_STARS}")
        rated_movies = {row[0] for row in cursor.fetchall()}
        lap("scan")
        _report(progress, "scan", 1, 1)

        names = {f"{USER_PREFIX}{uid}": uid for uid, _ in per_user}
        by_name, result.users_created = users_bulk_ensure(usernames=list(names))
        users = {names[name]: pk for name, pk in by_name.items()}
        lap("users")
        _report(progress, "users", len(users), len(users))

        movie_rows = _movies_read(files)
        result.movies_read = len(movie_rows)
        for ml_id in rated_movies - movie_rows.keys():  # rated but not described
            movie_rows[ml_id] = _MovieRow(ml_id, f"MovieLens movie {ml_id}", "", None, [])
        movie_map = _movies_upsert(list(movie_rows.values()), result)
        lap("movies")
        _report(progress, "movies", len(movie_map), len(movie_map))

        _copy_map(cursor, "ml_user_map", users)
        _copy_map(cursor, "ml_movie_map", movie_map)
        cursor.execute("ANALYZE ml_rating_raw")
        cursor.execute(
            "CREATE TEMPORARY VIEW ml_rating_rows AS "
            "SELECT u.pk AS user_id, m.pk AS movie_id, r.score::numeric(2, 1) AS score, "
            "       to_timestamp(r.stamp) AS rated_at "
            "  FROM ml_rating_raw r "
            "  JOIN ml_user_map u ON u.ml_id = r.ml_user "
            f"  JOIN ml_movie_map m ON m.ml_id = r.ml_movie WHERE r.score IN {_HALF_STARS}"
        )
        lap("maps")
        _report(progress, "upsert ratings", 0, 1)
        loaded = ratings_bulk_load(source="ml_rating_rows", rows=result.ratings_read - invalid)
        _report(progress, "upsert ratings", 1, 1)
        lap("upsert")
        del result.seconds["upsert"]
        result.seconds.update(loaded.seconds)
        cursor.execute("DROP VIEW ml_rating_rows")
        cursor.execute("DROP TABLE ml_rating_raw, ml_user_map, ml_movie_map")

    result.ratings_inserted = loaded.inserted
    result.ratings_updated = loaded.updated
    result.ratings_unchanged = loaded.unchanged
    result.movies_touched = loaded.movies_recounted
    result.skipped = {
        "invalid scores": invalid,
        "duplicate (user, movie) rows": loaded.duplicates,
    }
    result.ignored = files.ignored
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
