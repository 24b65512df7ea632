"""import_movielens: titles, genres, exact counts, idempotence and community ratings."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from movies.models import Genre, Movie
from ratings.models import Rating
from ratings.services import movie_rating_stats_recompute
from recs.movielens import (
    genres_map,
    movielens_fixture_write,
    movielens_import,
    title_normalise,
)
from tests.factories import GenreFactory, MovieFactory, RatingFactory
from users.models import User


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Godfather, The (1972)", ("The Godfather", "", 1972)),
        ("Toy Story (1995)", ("Toy Story", "", 1995)),
        (
            "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)",
            ("Amelie", "Le Fabuleux destin d'Amélie Poulain", 2001),
        ),
        (
            "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
            ("The City of Lost Children", "La Cité des enfants perdus", 1995),
        ),
        ("Seven (a.k.a. Se7en) (1995)", ("Seven", "Se7en", 1995)),
        ("Avventura, L' (1960)", ("L'Avventura", "", 1960)),
        ("Postman, The (Postino, Il) (1994)", ("The Postman", "Il Postino", 1994)),
        ("Vitelloni, I (1953)", ("I Vitelloni", "", 1953)),
        ("Boot, Das (Boat, The) (1981)", ("Das Boot", "The Boat", 1981)),
        ("Man and a Woman, A (Un homme et une femme) (1966)",
         ("A Man and a Woman", "Un homme et une femme", 1966)),
        ("Affair to Remember, An (1957)", ("An Affair to Remember", "", 1957)),
        ("Misérables, Les (1995)", ("Les Misérables", "", 1995)),
        ("Good, the Bad and the Ugly, The (Buono, il brutto, il cattivo, Il) (1966)",
         ("The Good, the Bad and the Ugly", "Il Buono, il brutto, il cattivo", 1966)),
        ("Babylon 5", ("Babylon 5", "", None)),
        ("Stranger Things (2016-)", ("Stranger Things", "", 2016)),
        ("Hyena Road (2015) ", ("Hyena Road", "", 2015)),
    ],
)  # fmt: skip
def test_titles_are_normalised(raw, expected):
    assert title_normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Adventure|Children|Sci-Fi", ["Adventure", "Family", "Science Fiction"]),
        ("Musical|Romance", ["Music", "Romance"]),
        ("Film-Noir|IMAX|Crime", ["Film-Noir", "IMAX", "Crime"]),
        ("(no genres listed)", []),
        ("", []),
    ],
)
def test_genres_map_onto_tmdb_names(raw, expected):
    assert genres_map(raw) == expected


@pytest.fixture
def files(tmp_path):
    return movielens_fixture_write(tmp_path, n_users=30, n_movies=120, n_ratings=1500, seed=5)


def _read(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _expected_stats(ratings_csv):
    stats = defaultdict(lambda: [0, Decimal(0)])
    for row in _read(ratings_csv):
        stats[int(row["movieId"])][0] += 1
        stats[int(row["movieId"])][1] += Decimal(row["rating"])
    return stats


def _movie_for(ml_id, files):
    link = next(r for r in _read(files["links"]) if int(r["movieId"]) == ml_id)
    if link["tmdbId"]:
        return Movie.objects.get(tmdb_id=int(link["tmdbId"]))
    return Movie.objects.get(imdb_id=f"tt{int(link['imdbId']):07d}")


def test_import_creates_exactly_the_users_movies_and_ratings(db, files):
    ratings = _read(files["ratings"])
    result = movielens_import(
        ratings=files["ratings"], movies=files["movies"], links=files["links"]
    )

    assert len(ratings) == 1500
    ml_users = {r["userId"] for r in ratings}
    assert result.users_created == len(ml_users) == User.objects.count()
    assert set(User.objects.values_list("username", flat=True)) == {f"ml_{u}" for u in ml_users}
    assert not User.objects.get(username=f"ml_{ratings[0]['userId']}").has_usable_password()
    assert result.movies_created == 120 == Movie.objects.count()
    assert result.ratings_inserted == 1500 == Rating.objects.count()
    assert result.ratings_updated == result.ratings_unchanged == 0

    godfather = Movie.objects.get(tmdb_id=238)
    assert (godfather.title, godfather.year, godfather.imdb_id) == (
        "The Godfather",
        1972,
        "tt0068646",
    )
    amelie = Movie.objects.get(tmdb_id=194)
    assert (amelie.title, amelie.original_title) == (
        "Amelie",
        "Le Fabuleux destin d'Amélie Poulain",
    )
    toy_story = Movie.objects.get(tmdb_id=862)
    assert set(toy_story.genres.values_list("name", flat=True)) == {
        "Adventure", "Animation", "Family", "Comedy", "Fantasy",
    }  # fmt: skip
    music = Movie.objects.get(tmdb_id=15121)
    assert set(music.genres.values_list("name", flat=True)) == {"Music", "Romance"}
    falcon = Movie.objects.get(imdb_id="tt0022111")  # no tmdbId in links.csv
    assert falcon.tmdb_id is None
    assert (falcon.title, falcon.original_title, falcon.year) == (
        "The Maltese Falcon", "Dangerous Female", 1931,
    )  # fmt: skip
    assert set(falcon.genres.values_list("name", flat=True)) == {"Film-Noir", "Mystery"}
    assert not Movie.objects.get(imdb_id="tt0356618").genres.exists()  # (no genres listed)
    assert not Genre.objects.filter(name__in=["Sci-Fi", "Children", "Musical"]).exists()


def test_rating_count_and_sum_are_recomputed_for_touched_movies(db, files):
    movielens_import(ratings=files["ratings"], movies=files["movies"], links=files["links"])

    expected = _expected_stats(files["ratings"])
    for ml_id, (count, total) in expected.items():
        movie = _movie_for(ml_id, files)
        assert (movie.rating_count, movie.rating_sum) == (count, total), ml_id
    unrated = Movie.objects.exclude(ratings__isnull=False)
    assert all(m.rating_count == 0 for m in unrated)


def test_second_import_changes_nothing_and_a_changed_rating_is_updated(db, files):
    movielens_import(ratings=files["ratings"], movies=files["movies"], links=files["links"])
    snapshot = sorted(Rating.objects.values_list("user_id", "movie_id", "score"))

    again = movielens_import(ratings=files["ratings"], movies=files["movies"], links=files["links"])
    assert (again.users_created, again.movies_created, again.ratings_inserted) == (0, 0, 0)
    assert again.ratings_unchanged == 1500 and again.ratings_updated == 0
    assert again.movies_matched == 120
    assert sorted(Rating.objects.values_list("user_id", "movie_id", "score")) == snapshot
    assert (User.objects.count(), Movie.objects.count()) == (30, 120)

    lines = files["ratings"].read_text().splitlines()
    user_id, movie_id, score, stamp = lines[1].split(",")
    new_score = "0.5" if score != "0.5" else "5.0"
    lines[1] = ",".join([user_id, movie_id, new_score, str(int(stamp) + 10)])
    files["ratings"].write_text("\n".join(lines) + "\n")

    changed = movielens_import(
        ratings=files["ratings"], movies=files["movies"], links=files["links"]
    )
    assert (changed.ratings_updated, changed.ratings_unchanged) == (1, 1499)
    movie = _movie_for(int(movie_id), files)
    rating = Rating.objects.get(user__username=f"ml_{user_id}", movie=movie)
    assert rating.score == Decimal(new_score)
    movie.refresh_from_db()
    agg = Rating.objects.filter(movie=movie).aggregate(n=Count("id"), s=Sum("score"))
    assert (movie.rating_count, movie.rating_sum) == (agg["n"], agg["s"])


def test_existing_catalogue_movies_are_matched_not_duplicated(db, files):
    drama = GenreFactory(name="Drama")
    existing = MovieFactory(tmdb_id=238, title="The Godfather", genres=[drama])
    by_title = MovieFactory(tmdb_id=None, title="This Is Spinal Tap", release_date=None, year=1984)

    result = movielens_import(
        ratings=files["ratings"], movies=files["movies"], links=files["links"]
    )

    assert result.movies_created == 118 and result.movies_matched == 2
    assert Movie.objects.filter(tmdb_id=238).get() == existing
    assert list(existing.genres.values_list("name", flat=True)) == ["Drama"]  # TMDb's stay
    assert Movie.objects.filter(title="This Is Spinal Tap").get() == by_title


def test_rating_stats_recompute_is_one_query_and_zeroes_movies_without_ratings(
    db, django_assert_num_queries
):
    rated, emptied = MovieFactory(), MovieFactory(rating_count=4, rating_sum=Decimal("12.0"))
    RatingFactory(movie=rated, score=Decimal("4.5"))
    RatingFactory(movie=rated, score=Decimal("2.0"))

    with django_assert_num_queries(1):
        assert movie_rating_stats_recompute([rated.pk, emptied.pk]) == 2

    rated.refresh_from_db()
    emptied.refresh_from_db()
    assert (rated.rating_count, rated.rating_sum) == (2, Decimal("6.5"))
    assert (emptied.rating_count, emptied.rating_sum) == (0, Decimal("0"))
