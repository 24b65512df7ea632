"""The synthetic MovieLens generator: shapes, determinism and MovieLens-like statistics."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from bench.movielens_synth import LAYOUTS, movielens_write

FILES = {
    "ml-100k": {"u.data", "u.item", "u.genre", "u.info"},
    "ml-1m": {"ratings.dat", "movies.dat", "users.dat"},
    "ml-10m": {"ratings.dat", "movies.dat", "tags.dat"},
    "ml-25m": {"ratings.csv", "movies.csv", "links.csv", "tags.csv"},
}


def _ratings(directory, layout):
    family = LAYOUTS[layout]
    name, sep = {
        "100k": ("u.data", "\t"),
        "dat": ("ratings.dat", "::"),
        "csv": ("ratings.csv", ","),
    }[family]
    lines = (directory / name).read_text().splitlines()[1 if family == "csv" else 0 :]
    return np.array([[float(v) for v in line.split(sep)] for line in lines])


@pytest.mark.parametrize("layout", sorted(FILES))
def test_every_layout_has_its_files_and_exact_counts(tmp_path, layout):
    result = movielens_write(tmp_path, layout=layout, n_users=40, n_movies=150, n_ratings=2000)

    assert {p.name for p in tmp_path.iterdir()} == FILES[layout]
    rows = _ratings(tmp_path, layout)
    assert rows.shape == (2000, 4) and result.n_ratings == 2000
    users, per_user = np.unique(rows[:, 0], return_counts=True)
    assert users.tolist() == list(range(1, 41))
    assert per_user.min() >= 20
    assert len({(u, m) for u, m in rows[:, :2].tolist()}) == 2000  # no (user, movie) twice
    half = np.unique(rows[:, 2] * 2)
    assert set(half.tolist()) <= set(range(1, 11))
    if layout in ("ml-100k", "ml-1m"):
        assert set(rows[:, 2].tolist()) <= {1, 2, 3, 4, 5}
    else:
        assert any(v % 1 for v in rows[:, 2].tolist())
    assert 3.0 < rows[:, 2].mean() < 4.0


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        movielens_write(tmp_path / name, layout="ml-25m", n_users=30, n_movies=90, n_ratings=900,
                        seed=seed)  # fmt: skip
    read = {n: (tmp_path / n / "ratings.csv").read_bytes() for n in "abc"}
    assert read["a"] == read["b"] != read["c"]
    assert (tmp_path / "a" / "movies.csv").read_bytes() == (
        tmp_path / "b" / "movies.csv"
    ).read_bytes()


def test_popularity_is_long_tailed_and_catalogue_files_are_consistent(tmp_path):
    movielens_write(tmp_path, layout="ml-25m", n_users=300, n_movies=2000, n_ratings=30_000)
    rows = _ratings(tmp_path, "ml-25m")
    _, per_movie = np.unique(rows[:, 1], return_counts=True)
    top = np.sort(per_movie)[::-1]
    assert top[:20].sum() > 0.1 * len(rows)  # 1% of the movies get over 10% of the ratings
    with (tmp_path / "movies.csv").open(newline="", encoding="utf-8") as fh:
        movies = {int(r["movieId"]): r for r in csv.DictReader(fh)}
    with (tmp_path / "links.csv").open(newline="", encoding="utf-8") as fh:
        links = {int(r["movieId"]) for r in csv.DictReader(fh)}
    assert len(movies) == 2000 and links == set(movies)
    assert set(rows[:, 1].astype(int).tolist()) <= set(movies)
    assert max(movies) > 2000  # sparse ids, as in real releases


def test_too_few_ratings_for_twenty_per_user_is_refused(tmp_path):
    with pytest.raises(ValueError, match="20 each"):
        movielens_write(tmp_path, layout="ml-1m", n_users=100, n_movies=50, n_ratings=1500)
