"""What ratings hands recommenders: rows, never models (streamed COPY, per-user querysets),
and the bulk seeding service."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ratings import selectors, services
from ratings.models import Favorite, Rating, WatchlistEntry
from recs.extract import parse_binary_copy
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

    decoded = parse_binary_copy(
        b"".join(bytes(block) for block in selectors.rating_rows_copy()),
        selectors.RATING_COPY_COLUMNS,
    )
    assert sorted(zip(decoded["user"].tolist(), decoded["movie"].tolist(), strict=True)) == sorted(
        [(alice.pk, a.pk), (bob.pk, b.pk)]
    )
    assert sorted(decoded["score"].tolist()) == [2.0, 4.5]


def test_ratings_changed_since_counts_only_newer_writes():
    rating = Rating.objects.create(user=UserFactory(), movie=MovieFactory(), score=Decimal("3.0"))
    assert selectors.ratings_changed_since(rating.updated_at - timedelta(seconds=1)) == 1
    assert selectors.ratings_changed_since(timezone.now() + timedelta(seconds=1)) == 0
