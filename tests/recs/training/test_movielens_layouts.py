"""import_movielens on every MovieLens layout, written by bench/movielens_synth.py."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bench.movielens_synth import LAYOUTS, movielens_write
from movies.models import Movie
from ratings.models import Rating
from recs.movielens import (
    MovieLensFormatError,
    movielens_files,
    movielens_files_detect,
    movielens_import,
    title_normalise,
)
from users.models import User

DETECTED = {
    "ml-100k": "ml-100k",
    "ml-1m": "ml-1m",
    "ml-10m": "ml-10m",
    "ml-25m": "ml-20m/25m/latest (CSV)",
    "ml-latest-small": "ml-20m/25m/latest (CSV)",
}
SEP = {"100k": "\t", "dat": "::", "csv": ","}


def _file_ratings(directory, layout):
    """[(ml user, ml movie, score, timestamp)] as written."""
    family = LAYOUTS[layout]
    name = {"100k": "u.data", "dat": "ratings.dat", "csv": "ratings.csv"}[family]
    lines = (directory / name).read_text().splitlines()[1 if family == "csv" else 0 :]
    return [
        (int(u), int(m), Decimal(s).quantize(Decimal("0.1")), int(t))
        for u, m, s, t in (line.split(SEP[family]) for line in lines)
    ]


def _file_titles(directory, layout):
    family = LAYOUTS[layout]
    if family == "csv":
        text = (directory / "movies.csv").read_text(encoding="utf-8")
        return {int(r["movieId"]): r["title"] for r in csv.DictReader(io.StringIO(text))}
    name, sep = ("u.item", "|") if family == "100k" else ("movies.dat", "::")
    lines = (directory / name).read_bytes().decode("latin-1").splitlines()
    return {int(line.split(sep)[0]): line.split(sep)[1] for line in lines}


@pytest.mark.parametrize("layout", sorted(DETECTED))
def test_every_layout_is_detected_and_imported_exactly_and_idempotently(db, tmp_path, layout):
    movielens_write(tmp_path, layout=layout, n_users=25, n_movies=80, n_ratings=900, seed=2)
    files = movielens_files_detect(tmp_path)
    assert files.layout == DETECTED[layout]

    result = movielens_import(files)

    expected = _file_ratings(tmp_path, layout)
    assert result.ratings_read == result.ratings_inserted == Rating.objects.count() == 900
    assert result.users_created == User.objects.count() == 25
    assert result.movies_read == result.movies_created == Movie.objects.count() == 80
    got = sorted(
        (int(r.user.username.removeprefix("ml_")), r.score, int(r.updated_at.timestamp()))
        for r in Rating.objects.select_related("user")
    )
    assert got == sorted((u, s, t) for u, _, s, t in expected)
    stats = Counter(m for _, m, _, _ in expected)
    assert sorted(
        Movie.objects.filter(rating_count__gt=0).values_list("rating_count", flat=True)
    ) == sorted(stats.values())
    for movie in Movie.objects.filter(rating_count__gt=0)[:10]:
        assert movie.rating_sum == sum(r.score for r in movie.ratings.all())

    titles = {title_normalise(t)[0] for t in _file_titles(tmp_path, layout).values()}
    assert set(Movie.objects.values_list("title", flat=True)) == titles
    assert Movie.objects.filter(title__contains="é").exists() or not any("é" in t for t in titles)
    assert not Movie.objects.filter(genres__name__in=["Children", "Children's", "Sci-Fi"]).exists()

    again = movielens_import(movielens_files_detect(tmp_path))
    assert (again.users_created, again.movies_created, again.ratings_inserted) == (0, 0, 0)
    assert (again.ratings_updated, again.ratings_unchanged, again.movies_matched) == (0, 900, 80)
    assert (Rating.objects.count(), Movie.objects.count()) == (900, 80)


def test_latin1_titles_and_100k_genre_flags(db, tmp_path):
    (tmp_path / "u.data").write_text("1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t2\t4\t881250951\n")
    flags = ["0"] * 19
    flags[4] = flags[15] = "1"  # Children's, Sci-Fi
    item = (
        f"1|Misérables, Les (1995)|01-Jan-1995||http://x|{'|'.join(flags)}\n"
        f"2|unknown||||1{'|0' * 18}\n"
    )
    (tmp_path / "u.item").write_bytes(item.encode("latin-1"))

    result = movielens_import(movielens_files_detect(tmp_path))

    assert result.layout == "ml-100k" and result.ratings_inserted == 3
    miserables = Movie.objects.get(title="Les Misérables")
    assert miserables.year == 1995
    assert set(miserables.genres.values_list("name", flat=True)) == {"Family", "Science Fiction"}
    unknown = Movie.objects.get(title="unknown")
    assert unknown.year is None and not unknown.genres.exists()
    assert (unknown.rating_count, unknown.rating_sum) == (2, Decimal("7.0"))


def test_duplicate_titles_stay_apart_and_match_again_in_id_order(db, tmp_path):
    (tmp_path / "ratings.dat").write_text("1::10::4::978300760\n1::20::2::978300761\n")
    (tmp_path / "movies.dat").write_text(
        "10::Chasing Amy (1997)::Comedy\n20::Chasing Amy (1997)::Comedy\n"
    )
    first = movielens_import(movielens_files_detect(tmp_path))
    assert (first.movies_created, first.ratings_inserted) == (2, 2)
    scores = dict(Rating.objects.values_list("movie_id", "score"))

    again = movielens_import(movielens_files_detect(tmp_path))
    assert (again.movies_matched, again.ratings_unchanged) == (2, 2)
    assert dict(Rating.objects.values_list("movie_id", "score")) == scores


def test_duplicate_rows_keep_the_newest_and_invalid_scores_are_skipped(db, tmp_path):
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n"
        "1,1,2.0,100\n1,1,4.5,300\n1,1,3.0,200\n1,2,4.3,100\n1,3,7,100\n2,1,5.0,100\n"
    )
    result = movielens_import(movielens_files_detect(tmp_path))

    assert result.skipped == {"invalid scores": 2, "duplicate (user, movie) rows": 2}
    assert (result.ratings_inserted, result.ratings_read) == (2, 6)
    assert sorted(Rating.objects.values_list("user__username", "score")) == [
        ("ml_1", Decimal("4.5")),
        ("ml_2", Decimal("5.0")),
    ]
    movie = Movie.objects.get(title="MovieLens movie 1")  # no movies file: placeholder titles
    assert (movie.rating_count, movie.rating_sum) == (2, Decimal("9.5"))
    assert not Movie.objects.filter(title__in=["MovieLens movie 2", "MovieLens movie 3"]).exists()


def _run(*args):
    out = StringIO()
    call_command("import_movielens", *args, stdout=out, verbosity=0)
    return out.getvalue()


def test_command_takes_a_directory_or_named_files(db, tmp_path):
    movielens_write(tmp_path / "a", layout="ml-1m", n_users=5, n_movies=60, n_ratings=150)
    output = _run(str(tmp_path / "a"))
    assert "ml-1m: 150 ratings read; users +5; movies +60 (matched 0); ratings +150" in output
    assert output.count("\n") == 1 and "not imported: users.dat" in output

    movielens_write(tmp_path / "b", layout="ml-10m", n_users=5, n_movies=60, n_ratings=150, seed=9)
    b = tmp_path / "b"
    output = _run("--ratings", str(b / "ratings.dat"), "--movies", str(b / "movies.dat"))
    assert "ml-10m: 150 ratings read; users +0; movies +" in output


def test_command_errors_are_clear_and_import_nothing(db, tmp_path):
    with pytest.raises(CommandError, match="directory or --ratings"):
        _run()
    with pytest.raises(CommandError, match="no MovieLens ratings file"):
        _run(str(tmp_path))
    (tmp_path / "ratings.csv").write_text("user,item\n1,2\n")
    with pytest.raises(CommandError, match="not a MovieLens ratings file"):
        _run(str(tmp_path))
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,100\n2,x,4.0,100\n"
    )
    with pytest.raises(
        CommandError, match=r"ratings.csv, line 3: invalid input syntax for type integer: \"x\""
    ):
        _run(str(tmp_path))
    assert not User.objects.exists() and not Rating.objects.exists()
    with pytest.raises(MovieLensFormatError, match="no such file"):
        movielens_files(ratings=tmp_path / "missing.csv")
