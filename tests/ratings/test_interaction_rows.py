"""What ratings hands recommenders: rows, never models (streamed COPY, per-user querysets),
and the bulk seeding service."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ratings import selectors, services
from ratings.models import Favorite, Rating, WatchlistEntry
from recs.extract import parse_binary_array
from tests.factories import MovieFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_feedback_bulk_create_then_rows_per_user_and_as_copy():
    alice, bob = UserFactory(), UserFactory()
    a, b, c = MovieFactory(), MovieFactory(), MovieFactory()
    services.feedback_bulk_create(
        ratings=[(alice.pk, a.pk, Decimal("4.5")), (bob.pk, b.pk, Decimal("2.0"))],
        favorites=[(alice.pk, b.pk)],
        watchlist=[(alice.pk, c.pk)],
    )
    # ignore_conflicts: seeding twice keeps the first rows
    services.feedback_bulk_create(ratings=[(alice.pk, a.pk, Decimal("1.0"))], ignore_conflicts=True)
    assert Rating.objects.get(user=alice, movie=a).score == Decimal("4.5")
    assert Favorite.objects.filter(user=alice).count() == WatchlistEntry.objects.count() == 1

    alice.not_interested.create(movie=c)
    first, *rest = selectors.feedback_rows_for_user(
        user_id=alice.pk, rating_kind=7, favorite_kind=8, watchlist_kind=9, not_interested_kind=6
    )
    rows = sorted((movie, score, kind) for movie, score, kind, _ in first.union(*rest, all=True))
    assert rows == sorted([(a.pk, 4.5, 7), (b.pk, 0.0, 8), (c.pk, 0.0, 9), (c.pk, 0.0, 6)])
    assert selectors.rated_movie_ids(user_id=alice.pk) == [a.pk]

    (chunk,) = selectors.rating_column_chunks()
    decoded = {
        name: parse_binary_array(chunk[name], kind) for name, kind in selectors.RATING_ARRAY_COLUMNS
    }
    assert sorted(zip(decoded["user"].tolist(), decoded["movie"].tolist(), strict=True)) == sorted(
        [(alice.pk, a.pk), (bob.pk, b.pk)]
    )
    assert sorted(decoded["score"].tolist()) == [2.0, 4.5]
    stamped = Rating.objects.get(user=bob, movie=b).updated_at
    assert decoded["ts"][decoded["user"] == bob.pk].tolist() == [int(stamped.timestamp())]


def test_rating_column_chunks_cover_every_rating_once_across_id_gaps():
    users, movies = UserFactory.create_batch(3), MovieFactory.create_batch(9)
    ratings = [
        Rating.objects.create(user=user, movie=movie, score=Decimal("0.5") * (1 + n % 10))
        for n, (user, movie) in enumerate((u, m) for u in users for m in movies)
    ]
    Rating.objects.filter(pk__in=[r.pk for r in ratings[5:12]]).delete()  # a gap of ids
    chunks = list(selectors.rating_column_chunks(ids_per_chunk=4))
    kept = [r.pk for r in ratings[:5] + ratings[12:]]
    # One chunk per range of 4 ids from the lowest that still holds a rating; the emptied
    # ranges of the gap yield nothing.
    assert len(chunks) == len({(pk - min(kept)) // 4 for pk in kept})
    assert len(chunks) < len(range(min(kept), max(kept) + 1, 4))
    pairs = [
        pair
        for chunk in chunks
        for pair in zip(
            parse_binary_array(chunk["user"], "i8").tolist(),
            parse_binary_array(chunk["movie"], "i8").tolist(),
            strict=True,
        )
    ]
    expected = [(r.user_id, r.movie_id) for r in ratings[:5] + ratings[12:]]
    assert sorted(pairs) == sorted(expected)


def test_no_ratings_no_chunks():
    assert list(selectors.rating_column_chunks()) == []


def test_ratings_changed_since_counts_only_newer_writes():
    rating = Rating.objects.create(user=UserFactory(), movie=MovieFactory(), score=Decimal("3.0"))
    assert selectors.ratings_changed_since(rating.updated_at - timedelta(seconds=1)) == 1
    assert selectors.ratings_changed_since(timezone.now() + timedelta(seconds=1)) == 0


@pytest.mark.django_db(transaction=True)
def test_parallel_chunks_read_one_snapshot_in_id_order():
    from django.db import connection, transaction

    users, movies = UserFactory.create_batch(4), MovieFactory.create_batch(10)
    ratings = [
        Rating.objects.create(user=user, movie=movie, score=Decimal("3.5"))
        for user in users
        for movie in movies
    ]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT 1")  # the snapshot is taken here
        # Deleted and committed by another connection after the snapshot, before the
        # reading threads start: still read, as it was in the snapshot.
        _elsewhere(lambda: Rating.objects.filter(pk=ratings[-1].pk).delete())
        first, *rest = selectors.rating_column_chunks(ids_per_chunk=3, streams=2)
    users_read = [
        user for chunk in [first, *rest] for user in parse_binary_array(chunk["user"], "i8")
    ]
    movies_read = [
        movie for chunk in [first, *rest] for movie in parse_binary_array(chunk["movie"], "i8")
    ]
    assert list(zip(users_read, movies_read, strict=True)) == [
        (r.user_id, r.movie_id) for r in ratings
    ]  # every rating once, in id order
    assert not Rating.objects.filter(pk=ratings[-1].pk).exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_chunks_stop_early_without_leaking_connections():
    from django.db import connection, transaction

    user = UserFactory()
    for movie in MovieFactory.create_batch(12):
        Rating.objects.create(user=user, movie=movie, score=Decimal("4.0"))

    def backends() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    before = backends()
    with transaction.atomic():
        chunks = selectors.rating_column_chunks(ids_per_chunk=2, streams=2)
        assert next(chunks)
        chunks.close()
    # A closed connection's server process leaves pg_stat_activity as it exits, a moment
    # after the client hung up: wait for that (a leaked connection never leaves).
    deadline = time.monotonic() + 10
    while backends() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends() == before


def _elsewhere(write) -> None:  # type: ignore[no-untyped-def]
    """Run ``write`` over another connection (its own thread), committed."""
    import threading

    from django.db import connections

    def run() -> None:
        try:
            write()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
