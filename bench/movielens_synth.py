"""Synthetic MovieLens releases in every layout, for tests and benchmarks.

Real MovieLens files may not be redistributed, so tests and ``bench/`` write their own with
the same shapes: ``ml-100k`` (``u.data``/``u.item``), ``ml-1m`` and ``ml-10m`` (``::``-separated
``.dat``, latin-1) and ``ml-20m``/``ml-25m``/``ml-latest``/``ml-latest-small`` (CSV with
``links.csv``). The data looks like MovieLens where an importer or a recommender would notice:

- Zipf-like movie popularity, and at least ``min_per_user`` (20) ratings per user with a
  long-tailed activity distribution;
- half-star ratings (whole stars for ml-100k and ml-1m) around a global mean of 3.5 with user
  and movie biases and a bonus for the user's favourite genres;
- every user has a genre taste: about half of their ratings come from those genres;
- timestamps: each user rates within a session span inside the release's years.

Everything is drawn from one seed, so a call is deterministic. Ratings are generated and
written one block of users at a time and formatted with numpy (no Python object per rating),
so the ML-25M shape (162,541 users, 62,423 movies, 25,000,095 ratings) streams to disk in about
a minute with bounded memory.

Usage: ``movielens_write(path, layout="ml-25m", n_users=..., n_movies=..., n_ratings=...)`` or
``python bench/movielens_synth.py DIR --layout ml-25m --ratings 25000095``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Layout name -> file family. ml-latest(-small), ml-20m and ml-25m share the CSV layout.
LAYOUTS = {
    "ml-100k": "100k",
    "ml-1m": "dat",
    "ml-10m": "dat",
    "ml-20m": "csv",
    "ml-25m": "csv",
    "ml-latest": "csv",
    "ml-latest-small": "csv",
}
#: The shapes of the real releases (users, movies, ratings).
SHAPES = {
    "ml-100k": (943, 1_682, 100_000),
    "ml-1m": (6_040, 3_706, 1_000_209),
    "ml-10m": (69_878, 10_677, 10_000_054),
    "ml-20m": (138_493, 26_744, 20_000_263),
    "ml-25m": (162_541, 59_047, 25_000_095),
    "ml-latest-small": (610, 9_724, 100_836),
}
GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
GENRES_NEW = tuple("Children" if g == "Children's" else g for g in GENRES_100K[1:]) + ("IMAX",)
NO_GENRES = "(no genres listed)"
_YEARS = {"100k": (1992, 1998), "dat": (1919, 2000), "csv": (1902, 2019)}
_RATED = {  # when ratings were given (unix seconds): the release's collection window
    "ml-100k": (874_724_710, 893_286_638),
    "ml-1m": (956_703_932, 1_046_454_590),
    "ml-10m": (789_652_009, 1_231_131_736),
}
_RATED_CSV = (789_652_009, 1_574_327_703)
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
#: Foreign titles with non-ASCII letters: they exercise the latin-1 / UTF-8 handling.
_FOREIGN = (
    ("Misérables", "Les"), ("Destin d'Amélie", "Le"), ("Vie rêvée", "La"), ("Mépris", "Le"),
    ("Himmel über Berlin", "Der"), ("Postino", "Il"), ("Niño", "El"), ("Éternité", "L'"),
)  # fmt: skip
_BLOCK_USERS = 8_192


@dataclass(frozen=True)
class Catalogue:
    """The generated movies: MovieLens ids, titles (with year) and genre indices."""

    ml_ids: np.ndarray  # (n_movies,) int64, increasing
    titles: list[str]
    years: np.ndarray  # (n_movies,) int64
    genres: list[tuple[int, ...]]  # indices into the layout's genre list
    primary: np.ndarray  # (n_movies,) int64 first genre, -1 for none
    popularity: np.ndarray  # (n_movies,) float64 sampling weight, sums to 1
    bias: np.ndarray  # (n_movies,) float64 rating bias


def _title(rng: np.random.Generator, n: int, year: int) -> str:
    title = f"{_WORDS_A[rng.integers(len(_WORDS_A))]} {_WORDS_B[rng.integers(len(_WORDS_B))]}"
    if n % 4:
        title += f" {n}"  # mostly unique titles; some plain ones repeat like real remakes
    style = n % 11
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


def catalogue_make(layout: str, n_movies: int, rng: np.random.Generator) -> Catalogue:
    """Movies with sparse ids (except ml-100k), Zipf-like popularity and 1-3 genres each."""
    family = LAYOUTS[layout]
    if family == "100k":
        ml_ids = np.arange(1, n_movies + 1, dtype=np.int64)
        n_genres = len(GENRES_100K) - 1  # "unknown" is flag 0, used only for genre-less ones
    else:
        spread = 2 if family == "dat" else 3
        ml_ids = np.sort(rng.choice(spread * n_movies + 10, size=n_movies, replace=False)) + 1
        n_genres = len(GENRES_NEW) - (family == "dat")  # no IMAX before ml-20m
    lo, hi = _YEARS[family]
    years = rng.integers(lo, hi + 1, size=n_movies)
    titles = [_title(rng, n, int(y)) for n, y in enumerate(years.tolist())]
    counts = rng.choice([1, 1, 2, 2, 2, 3], size=n_movies)
    genres: list[tuple[int, ...]] = []
    for n, c in enumerate(counts.tolist()):
        if n % 131 == 7:
            genres.append(())
            continue
        picked = rng.choice(n_genres, size=c, replace=False) + (1 if family == "100k" else 0)
        genres.append(tuple(sorted(int(g) for g in picked)))
    primary = np.array([g[0] if g else -1 for g in genres], dtype=np.int64)
    rank = rng.permutation(n_movies)  # popularity rank is independent of the id
    popularity = 1.0 / (rank + 10.0) ** 1.05
    popularity /= popularity.sum()
    bias = rng.normal(0.0, 0.45, n_movies) + 0.25 * np.log(popularity / popularity.mean()) / 5
    return Catalogue(ml_ids, titles, years, genres, primary, popularity, bias)


def _user_counts(rng: np.random.Generator, n_users: int, n_ratings: int, min_per_user: int,
                 cap: int) -> np.ndarray:  # fmt: skip
    """Ratings per user: ``min_per_user`` plus a log-normal tail, summing to ``n_ratings``."""
    if n_users * min_per_user > n_ratings:
        raise ValueError(f"{n_ratings} ratings cannot give {n_users} users {min_per_user} each")
    if n_ratings > n_users * cap:
        raise ValueError(f"{n_ratings} ratings exceed {cap} per user for {n_users} users")
    extra = rng.lognormal(0.0, 1.3, n_users)
    extra = extra / extra.sum() * (n_ratings - n_users * min_per_user)
    counts = np.minimum(np.floor(extra).astype(np.int64) + min_per_user, cap)
    short = n_ratings - int(counts.sum())
    while short > 0:  # hand out the remainder (rounding, capped users) one at a time
        room = np.flatnonzero(counts < cap)
        take = rng.choice(room, size=min(short, len(room)), replace=False)
        counts[take] += 1
        short -= len(take)
    return counts


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1]), len(cdf) - 1)


class _Sampler:
    """Per-user movie draws without replacement: half by genre taste, half by popularity."""

    def __init__(self, cat: Catalogue, n_genres: int) -> None:
        self.cat = cat
        self.cdf = np.cumsum(cat.popularity)
        self.by_genre: list[tuple[np.ndarray, np.ndarray]] = []
        for g in range(n_genres):
            members = np.flatnonzero(cat.primary == g)
            if len(members) == 0:
                members = np.arange(len(cat.popularity))
            self.by_genre.append((members, np.cumsum(cat.popularity[members])))

    def draw(self, rng: np.random.Generator, taste: np.ndarray, users: np.ndarray) -> np.ndarray:
        """One candidate movie per entry of ``users`` (block-local user indices)."""
        out = _draw(rng, self.cdf, len(users))
        by_taste = rng.random(len(users)) < 0.5
        cum = np.cumsum(taste[users[by_taste]], axis=1)
        genre = (cum < rng.random(len(cum))[:, None] * cum[:, -1:]).sum(axis=1)
        idx = np.flatnonzero(by_taste)
        for g in np.unique(genre).tolist():
            members, cdf = self.by_genre[g]
            sel = idx[genre == g]
            out[sel] = members[_draw(rng, cdf, len(sel))]
        return out


def _block(rng: np.random.Generator, sampler: _Sampler, counts: np.ndarray, taste: np.ndarray,
           user_bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(user index within block, movie index, rating x2) for one block, grouped by user.

    Distinct movies in order of first draw are a weighted sample without replacement, so the
    block oversamples with replacement and keeps each user's first ``count`` distinct movies.
    """
    n_movies = len(sampler.cat.popularity)
    users_out, movies_out = [], []
    need = counts.copy()
    seen = np.zeros(0, dtype=np.int64)  # keys user * n_movies + movie already taken
    factor = 1.3
    while need.sum() > 0:
        active = np.flatnonzero(need > 0)
        per = np.ceil(need[active] * factor).astype(np.int64) + 4
        users = np.repeat(active, per)
        movies = sampler.draw(rng, taste, users)
        keys = users * n_movies + movies
        uniq, first = np.unique(keys, return_index=True)
        fresh = ~np.isin(uniq, seen, assume_unique=True)
        order = np.sort(first[fresh])  # first occurrences, back in draw order (grouped by user)
        u = users[order]
        rank = np.arange(len(u)) - np.searchsorted(u, u)  # position within the user's draws
        keep = order[rank < need[u]]
        users_out.append(users[keep])
        movies_out.append(movies[keep])
        np.subtract.at(need, users[keep], 1)
        seen = np.union1d(seen, keys[keep])
        factor *= 2
    u = np.concatenate(users_out)
    m = np.concatenate(movies_out)
    order = np.lexsort((sampler.cat.ml_ids[m], u))
    u, m = u[order], m[order]
    prim = sampler.cat.primary[m]
    bonus = np.where(prim >= 0, taste[u, np.maximum(prim, 0)], 0.0) * 1.6
    raw = 3.35 + user_bias[u] + sampler.cat.bias[m] + bonus + rng.normal(0.0, 0.75, len(u))
    stars2 = np.clip(np.rint(raw * 2), 1, 10).astype(np.int64)
    return u, m, stars2


# ------------------------------------------------------------------ fast text formatting


def _digits(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right-aligned ASCII digits (n, width) of non-negative ints and a mask of real chars."""
    values = np.asarray(values, dtype=np.int64)
    width = max(1, len(str(int(values.max())))) if len(values) else 1
    pow10 = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    chars = ((values[:, None] // pow10) % 10 + 48).astype(np.uint8)
    length = np.maximum((values[:, None] >= pow10).sum(axis=1), 1)
    mask = np.arange(width)[None, :] >= (width - length)[:, None]
    return chars, mask


def _table(index: np.ndarray, strings: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Left-aligned fixed strings chosen by ``index`` and their mask."""
    width = max(len(s) for s in strings)
    lut = np.zeros((len(strings), width), dtype=np.uint8)
    lut_mask = np.zeros((len(strings), width), dtype=bool)
    for n, s in enumerate(strings):
        lut[n, : len(s)] = np.frombuffer(s, dtype=np.uint8)
        lut_mask[n, : len(s)] = True
    return lut[index], lut_mask[index]


def lines_format(fields: list[tuple[np.ndarray, np.ndarray]], sep: bytes) -> bytes:
    """Join (chars, mask) columns with ``sep`` into newline-terminated lines, without a loop."""
    n = len(fields[0][0])
    sep_chars = np.frombuffer(sep, dtype=np.uint8)
    parts, masks = [], []
    for k, (chars, mask) in enumerate(fields):
        if k:
            parts.append(np.broadcast_to(sep_chars, (n, len(sep))))
            masks.append(np.ones((n, len(sep)), dtype=bool))
        parts.append(chars)
        masks.append(mask)
    parts.append(np.full((n, 1), 10, dtype=np.uint8))
    masks.append(np.ones((n, 1), dtype=bool))
    return np.hstack(parts)[np.hstack(masks)].tobytes()


_HALF = [b""] + [f"{s / 2:.1f}".encode() for s in range(1, 11)]  # "0.5" ... "5.0"
_DAT_HALF = [b""] + [(f"{s // 2}" if s % 2 == 0 else f"{s / 2:.1f}").encode() for s in range(1, 11)]


# ------------------------------------------------------------------ writers


def _write_movies(directory: Path, layout: str, cat: Catalogue, rng: np.random.Generator) -> None:
    family = LAYOUTS[layout]
    if family == "100k":
        lines = []
        for ml_id, title, year, genres in zip(
            cat.ml_ids.tolist(), cat.titles, cat.years.tolist(), cat.genres, strict=True
        ):
            flags = ["0"] * len(GENRES_100K)
            for g in genres or (0,):
                flags[g] = "1"
            url = "http://us.imdb.com/M/title-exact?" + title.replace(" ", "%20")
            lines.append(f"{ml_id}|{title}|01-Jan-{year}||{url}|{'|'.join(flags)}\n")
        (directory / "u.item").write_bytes("".join(lines).encode("latin-1", "replace"))
        (directory / "u.genre").write_text(
            "".join(f"{g}|{n}\n" for n, g in enumerate(GENRES_100K)) + "\n"
        )
        return
    names = GENRES_100K[1:] if family == "dat" else GENRES_NEW
    if family == "dat":
        lines = [
            f"{ml_id}::{title}::{'|'.join(names[g] for g in genres) or NO_GENRES}\n"
            for ml_id, title, genres in zip(
                cat.ml_ids.tolist(), cat.titles, cat.genres, strict=True
            )
        ]
        (directory / "movies.dat").write_bytes("".join(lines).encode("latin-1", "replace"))
        return
    with (directory / "movies.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["movieId", "title", "genres"])
        for ml_id, title, genres in zip(cat.ml_ids.tolist(), cat.titles, cat.genres, strict=True):
            writer.writerow([ml_id, title, "|".join(names[g] for g in genres) or NO_GENRES])
    tmdb = rng.choice(10 * len(cat.ml_ids), size=len(cat.ml_ids), replace=False) + 100_001
    with (directory / "links.csv").open("w", newline="", encoding="utf-8") as fh:
        fh.write("movieId,imdbId,tmdbId\n")
        for n, (ml_id, tmdb_id) in enumerate(zip(cat.ml_ids.tolist(), tmdb.tolist(), strict=True)):
            fh.write(f"{ml_id},{4_000_000 + ml_id:07d},{'' if n % 23 == 5 else tmdb_id}\n")


@dataclass
class SynthResult:
    layout: str
    directory: Path
    n_users: int
    n_movies: int
    n_ratings: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.layout}: {self.n_users:,} users, {self.n_movies:,} movies, "
            f"{self.n_ratings:,} ratings in {self.directory} ({self.seconds:.1f}s)"
        )


def movielens_write(
    directory: Path,
    *,
    layout: str = "ml-latest-small",
    n_users: int | None = None,
    n_movies: int | None = None,
    n_ratings: int | None = None,
    min_per_user: int = 20,
    seed: int = 0,
    tags: bool = True,
) -> SynthResult:
    """Write one synthetic MovieLens release of ``layout`` into ``directory``.

    Sizes default to the real release's shape (``SHAPES``). Every movie in the movies file
    is a real candidate; a movie may end up without ratings, as in real releases.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; one of {', '.join(LAYOUTS)}")
    started = time.perf_counter()
    shape = SHAPES.get(layout, SHAPES["ml-latest-small"])
    n_users = shape[0] if n_users is None else n_users
    n_movies = shape[1] if n_movies is None else n_movies
    n_ratings = shape[2] if n_ratings is None else n_ratings
    family = LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    cat = catalogue_make(layout, n_movies, rng)
    _write_movies(directory, layout, cat, rng)

    n_genres = len(GENRES_100K) if family == "100k" else len(GENRES_NEW)
    counts = _user_counts(
        rng, n_users, n_ratings, min_per_user, cap=max(min_per_user, n_movies // 2)
    )
    sampler = _Sampler(cat, n_genres)
    lo, hi = _RATED.get(layout, _RATED_CSV)
    whole = family in ("100k",) or layout == "ml-1m"
    ratings_name = {"100k": "u.data", "dat": "ratings.dat", "csv": "ratings.csv"}[family]
    tag_lines: list[str] = []
    with (directory / ratings_name).open("wb") as out:
        if family == "csv":
            out.write(b"userId,movieId,rating,timestamp\n")
        for start in range(0, n_users, _BLOCK_USERS):
            stop = min(start + _BLOCK_USERS, n_users)
            block_rng = np.random.default_rng([seed, start])  # blocks are independent
            size = stop - start
            taste = block_rng.dirichlet(np.full(n_genres, 0.3), size=size)
            if family == "100k":
                taste[:, 0] = 0.0  # "unknown" is not a taste
                taste /= taste.sum(axis=1, keepdims=True)
            user_bias = block_rng.normal(0.0, 0.4, size)
            u, m, stars2 = _block(block_rng, sampler, counts[start:stop], taste, user_bias)
            if whole:
                stars2 = np.clip(np.rint(stars2 / 2) * 2, 2, 10).astype(np.int64)
            first = block_rng.integers(lo, hi - 86_400 * 30, size=size)
            span = block_rng.exponential(86_400 * 60, size=size)
            stamp = first[u] + (block_rng.random(len(u)) * span[u]).astype(np.int64)
            stamp = np.minimum(stamp, hi)
            users = u + start + 1
            if family == "100k":  # u.data is in no particular order
                order = block_rng.permutation(len(u))
                users, m, stars2, stamp = users[order], m[order], stars2[order], stamp[order]
            score = _table(stars2, _HALF if family == "csv" else _DAT_HALF)
            fields = [_digits(users), _digits(cat.ml_ids[m]), score, _digits(stamp)]
            sep = {"100k": b"\t", "dat": b"::", "csv": b","}[family]
            out.write(lines_format(fields, sep))
            if tags and family != "100k" and layout != "ml-1m":
                pick = block_rng.choice(len(u), size=max(1, len(u) // 200), replace=False)
                for k in np.sort(pick).tolist():
                    word = _WORDS_B[int(m[k]) % len(_WORDS_B)].lower()
                    tag_lines.append(
                        f"{users[k]}{sep.decode()}{cat.ml_ids[m[k]]}{sep.decode()}{word}"
                        f"{sep.decode()}{stamp[k]}\n"
                    )
    if family == "100k":
        (directory / "u.info").write_text(
            f"{n_users} users\n{n_movies} items\n{n_ratings} ratings\n"
        )
    elif layout == "ml-1m":
        (directory / "users.dat").write_text(
            "".join(f"{u}::M::25::0::00000\n" for u in range(1, n_users + 1))
        )
    if tag_lines:
        name = "tags.dat" if family == "dat" else "tags.csv"
        header = "" if family == "dat" else "userId,movieId,tag,timestamp\n"
        (directory / name).write_text(header + "".join(tag_lines), encoding="utf-8")
    return SynthResult(
        layout, directory, n_users, n_movies, n_ratings, time.perf_counter() - started
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--layout", default="ml-latest-small", choices=sorted(LAYOUTS))
    parser.add_argument("--users", type=int)
    parser.add_argument("--movies", type=int)
    parser.add_argument("--ratings", type=int)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = movielens_write(
        args.directory,
        layout=args.layout,
        n_users=args.users,
        n_movies=args.movies,
        n_ratings=args.ratings,
        seed=args.seed,
    )
    print(result, file=sys.stdout)


if __name__ == "__main__":
    main()


__all__ = ["LAYOUTS", "SHAPES", "Catalogue", "SynthResult", "lines_format", "movielens_write"]
