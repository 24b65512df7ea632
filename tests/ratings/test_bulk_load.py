"""ratings_bulk_load (set-based upsert for imports) and users_bulk_ensure."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from ratings.models import Rating
from ratings.services import ratings_bulk_load
from tests.factories import MovieFactory, RatingFactory, UserFactory
from users.models import User
from users.services import users_bulk_ensure
from users.usernames import username_key


def _structures():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'ratings_rating'::regclass"
        )
        indexes = sorted(r[0] for r in cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'ratings_rating'::regclass"
        )
        return indexes, sorted(cursor.fetchall())


def _source(rows):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE src (user_id bigint, movie_id bigint, score numeric(2, 1), "
            "rated_at timestamptz)"
        )
        with cursor.cursor.copy("COPY src FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return "src"


@pytest.mark.parametrize("rebuild", [False, True])
def test_upserts_and_recounts_with_or_without_rebuilding_the_indexes(db, rebuild):
    users = [UserFactory() for _ in range(3)]
    movies = [MovieFactory() for _ in range(2)]
    kept = RatingFactory(user=users[0], movie=movies[0], score=Decimal("3.0"))
    changed = RatingFactory(user=users[1], movie=movies[0], score=Decimal("1.0"))
    before = _structures()
    at = "2001-09-09 01:46:40+00"
    source = _source(
        [
            (users[0].pk, movies[0].pk, "3.0", at),  # unchanged
            (users[1].pk, movies[0].pk, "4.5", at),  # updated
            (users[2].pk, movies[0].pk, "5.0", at),  # new
            (users[2].pk, movies[1].pk, "0.5", at),  # new
        ]
    )

    result = ratings_bulk_load(source=source, rows=4, rebuild=rebuild)

    assert (result.inserted, result.updated, result.unchanged, result.duplicates) == (2, 1, 1, 0)
    assert result.movies_recounted == 2  # both movies had a rating change
    assert _structures() == before  # same indexes and constraints, same names
    kept.refresh_from_db()
    changed.refresh_from_db()
    assert (kept.score, changed.score) == (Decimal("3.0"), Decimal("4.5"))
    assert changed.updated_at.year == 2001
    movies[0].refresh_from_db()
    assert (movies[0].rating_count, movies[0].rating_sum) == (3, Decimal("12.5"))
    assert Rating.objects.count() == 4


@pytest.mark.parametrize("duplicate", [False, True])
def test_a_load_into_an_empty_table_inserts_and_rebuilds_every_key(db, duplicate):
    users = [UserFactory() for _ in range(2)]
    movies = [MovieFactory() for _ in range(2)]
    before = _structures()
    rows = [
        (users[0].pk, movies[0].pk, "4.0", "2001-09-09 01:46:40+00"),
        (users[1].pk, movies[0].pk, "2.0", "2001-09-09 01:46:40+00"),
        (users[1].pk, movies[1].pk, "5.0", "2001-09-09 01:46:40+00"),
    ]
    if duplicate:  # the same (user, movie) again, newer: the upsert path keeps the newest
        rows.append((users[1].pk, movies[1].pk, "1.0", "2002-01-01 00:00:00+00"))

    result = ratings_bulk_load(source=_source(rows), rows=len(rows), rebuild=True)

    assert (result.inserted, result.updated, result.unchanged) == (3, 0, 0)
    assert result.duplicates == int(duplicate)
    assert _structures() == before  # primary key and unique constraint are back, same names
    assert Rating.objects.get(user=users[1], movie=movies[1]).score == (
        Decimal("1.0") if duplicate else Decimal("5.0")
    )
    movies[0].refresh_from_db()
    assert (movies[0].rating_count, movies[0].rating_sum) == (2, Decimal("6.0"))
    with pytest.raises(IntegrityError), transaction.atomic():  # still unique per (user, movie)
        RatingFactory(user=users[0], movie=movies[0])


def test_a_rebuild_still_enforces_the_foreign_keys(db):
    movie = MovieFactory()
    source = _source([(987_654, movie.pk, "4.0", "2001-09-09 01:46:40+00")])
    with pytest.raises(IntegrityError, match="user_id"), transaction.atomic():
        ratings_bulk_load(source=source, rows=1, rebuild=True)
    assert not Rating.objects.exists()


def test_users_bulk_ensure_creates_in_order_and_reuses_existing_accounts(db):
    existing = UserFactory(username="ML_2")

    mapping, created = users_bulk_ensure(usernames=["ml_3", "ml_1", "ml_2", "ml_3"])

    assert created == 2
    assert mapping["ml_2"] == existing.pk
    assert mapping["ml_3"] < mapping["ml_1"]  # pks follow the order given
    new = User.objects.get(pk=mapping["ml_1"])
    assert not new.has_usable_password() and new.is_active and not new.is_staff
    assert new.username_key == username_key("ml_1")  # look-alike checks see imported names
    assert users_bulk_ensure(usernames=["ml_1"]) == ({"ml_1": new.pk}, 0)
