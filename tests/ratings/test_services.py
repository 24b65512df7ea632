"""Rating writes keep the community rating exact and tell listeners after commit."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from movierec.events import user_feedback_changed
from movies.models import Movie
from ratings import services
from ratings.models import Rating
from tests.factories import MovieFactory, UserFactory

pytestmark = pytest.mark.django_db


def _community(movie):
    movie = Movie.objects.get(pk=movie.pk)
    return movie.rating_count, movie.rating_sum


@pytest.mark.parametrize("score", [6.0, 0.3, 0.0, -0.5, 5.5, 2.25, float("nan"), float("inf")])
def test_scores_off_the_half_star_scale_are_rejected(score):
    user, movie = UserFactory(), MovieFactory()
    with pytest.raises(ValidationError) as exc:
        services.rating_set(user=user, movie=movie, score=score)
    assert list(exc.value.error_dict) == ["score"]
    assert Rating.objects.count() == 0
    assert _community(movie) == (0, Decimal("0"))


@pytest.mark.parametrize("score", [0.5, 1, 2.5, 5.0, Decimal("3.5")])
def test_half_star_scores_are_stored(score):
    rating = services.rating_set(user=UserFactory(), movie=MovieFactory(), score=score)
    assert Rating.objects.get(pk=rating.pk).score == Decimal(str(score))


def test_review_longer_than_the_limit_is_rejected():
    with pytest.raises(ValidationError) as exc:
        services.rating_set(user=UserFactory(), movie=MovieFactory(), score=4, review="x" * 5001)
    assert list(exc.value.error_dict) == ["review"]
    assert Rating.objects.count() == 0


def test_review_none_keeps_it_and_empty_string_clears_it():
    user, movie = UserFactory(), MovieFactory()
    services.rating_set(user=user, movie=movie, score=4, review="  Great.  ")
    assert Rating.objects.get().review == "Great."
    services.rating_set(user=user, movie=movie, score=3)
    assert Rating.objects.get().review == "Great."
    services.rating_set(user=user, movie=movie, score=3, review="")
    assert Rating.objects.get().review == ""


def test_community_rating_follows_create_update_delete_exactly():
    movie = MovieFactory()
    alice, bob = UserFactory(), UserFactory()
    services.rating_set(user=alice, movie=movie, score=4.5)
    assert _community(movie) == (1, Decimal("4.5"))
    services.rating_set(user=bob, movie=movie, score=2)
    assert _community(movie) == (2, Decimal("6.5"))
    services.rating_set(user=alice, movie=movie, score=1.5)
    assert _community(movie) == (2, Decimal("3.5"))
    services.rating_set(user=alice, movie=movie, score=1.5)
    assert _community(movie) == (2, Decimal("3.5"))
    services.rating_delete(user=bob, movie=movie)
    assert _community(movie) == (1, Decimal("1.5"))
    services.rating_delete(user=alice, movie=movie)
    assert _community(movie) == (0, Decimal("0"))
    assert Movie.objects.get(pk=movie.pk).community_average is None


def test_deleting_a_missing_rating_raises_not_found():
    with pytest.raises(Rating.DoesNotExist):
        services.rating_delete(user=UserFactory(), movie=MovieFactory())


@pytest.fixture
def calls():
    seen = []

    def listener(sender, *, user_id, movie_id, **kwargs):
        seen.append((user_id, movie_id))

    user_feedback_changed.connect(listener)
    user_feedback_changed.connect(listener)  # registering twice is a no-op
    yield seen
    user_feedback_changed.disconnect(listener)


@pytest.mark.django_db(transaction=True)
def test_listeners_run_after_commit_for_every_change(calls):
    user, movie = UserFactory(), MovieFactory()
    with transaction.atomic():
        services.rating_set(user=user, movie=movie, score=3)
        assert calls == []  # not before the commit
    assert calls == [(user.pk, movie.pk)]
    services.rating_set(user=user, movie=movie, score=4)
    services.rating_delete(user=user, movie=movie)
    assert calls == [(user.pk, movie.pk)] * 3


@pytest.mark.django_db(transaction=True)
def test_listeners_do_not_run_when_the_transaction_rolls_back(calls):
    user, movie = UserFactory(), MovieFactory()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        services.rating_set(user=user, movie=movie, score=3)
        raise Abort
    assert calls == []
    assert Rating.objects.count() == 0
    assert _community(movie) == (0, Decimal("0"))


@pytest.mark.django_db(transaction=True)
def test_a_failing_listener_does_not_break_the_write_or_other_listeners(calls):
    def broken(sender, **kwargs):
        raise RuntimeError("listener bug")

    user_feedback_changed.connect(broken)
    try:
        user, movie = UserFactory(), MovieFactory()
        services.rating_set(user=user, movie=movie, score=3)
    finally:
        user_feedback_changed.disconnect(broken)
    assert Rating.objects.count() == 1
    assert (user.pk, movie.pk) in calls


def _in_threads(n, target):
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_ratings_and_rerating_keep_the_sum_exact():
    movie = MovieFactory()
    user = UserFactory()
    scores = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]

    # The same user rates the same movie from 8 connections at once: one row, one count.
    _in_threads(len(scores), lambda i: services.rating_set(user=user, movie=movie, score=scores[i]))
    rating = Rating.objects.get(user=user, movie=movie)
    assert _community(movie) == (1, rating.score)

    # Many users re-rate concurrently: the sum equals the sum of the final scores.
    users = [UserFactory() for _ in range(6)]

    def rerate(i):
        for score in (1, 5, 2.5):
            services.rating_set(user=users[i], movie=movie, score=score)

    _in_threads(len(users), rerate)
    count, total = _community(movie)
    assert count == Rating.objects.filter(movie=movie).count() == 7
    assert total == sum(r.score for r in Rating.objects.filter(movie=movie))
    assert total == rating.score + Decimal("2.5") * 6


def _movie_updates(write) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        write()
    sqls = [" ".join(query["sql"].split()) for query in queries.captured_queries]
    return [sql for sql in sqls if sql.startswith('UPDATE "movies_movie"')]


def test_each_rating_write_moves_the_community_rating_in_one_relative_update():
    """Through ``movies.services``, still one UPDATE adding to the row as it is when locked
    (never a value read first), and none when the score does not change."""
    user, movie = UserFactory(), MovieFactory()
    created = _movie_updates(lambda: services.rating_set(user=user, movie=movie, score=4))
    assert len(created) == 1
    assert '"rating_count" = ("movies_movie"."rating_count" + 1)' in created[0]
    assert '"rating_sum" = ("movies_movie"."rating_sum" + ' in created[0]
    assert _movie_updates(lambda: services.rating_set(user=user, movie=movie, score=4)) == []
    rerated = _movie_updates(lambda: services.rating_set(user=user, movie=movie, score=2.5))
    assert len(rerated) == 1
    assert "rating_count" not in rerated[0]
    deleted = _movie_updates(lambda: services.rating_delete(user=user, movie=movie))
    assert len(deleted) == 1
    assert '"rating_count" = ("movies_movie"."rating_count" + -1)' in deleted[0]
    assert _community(movie) == (0, Decimal("0"))


def test_a_rejected_score_leaves_the_callers_transaction_usable():
    """Validation runs before the savepoint-less writes, so a caller may catch it."""
    user, movie = UserFactory(), MovieFactory()
    with pytest.raises(ValidationError), transaction.atomic():
        try:
            services.rating_set(user=user, movie=movie, score=4.25)
        finally:
            assert Rating.objects.count() == 0  # the transaction still answers
