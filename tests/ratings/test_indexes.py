"""The ratings table keeps only the indexes its queries use (issue: two were redundant).

Each hot query is EXPLAINed with sequential scans disabled: if no index could serve it the
planner would still pick a Seq Scan, so "uses an index" here means an index exists for it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import Count

from ratings import selectors
from ratings.models import Rating
from tests.factories import MovieFactory, RatingFactory, UserFactory

EXPECTED = {
    "ratings_rating_pkey",
    "rating_unique_user_movie",
    "rating_user_recent_idx",
    "rating_movie_recent_idx",
    "rating_recent_idx",
}


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'ratings_rating'")
        return {row[0] for row in cursor.fetchall()}


def test_only_the_composite_indexes_remain(db):
    assert _indexes() == EXPECTED


@pytest.fixture
def rated(db):
    users = [UserFactory() for _ in range(3)]
    movies = [MovieFactory() for _ in range(4)]
    for user in users:
        for movie in movies:
            RatingFactory(user=user, movie=movie)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ratings_rating")
        cursor.execute("SET LOCAL enable_seqscan = off")
    return users[0], movies[0]


def _plans(rated):
    user, movie = rated
    return {
        "a user's ratings, newest first": selectors.rating_list_for_user(user=user).order_by(
            "-updated_at", "-id"
        ),
        "the viewer's ratings of a page of movies": Rating.objects.filter(
            user=user, movie_id__in=[movie.pk, movie.pk + 1]
        ),
        "one rating (rateMovie)": Rating.objects.filter(user=user, movie=movie),
        "a movie's ratings (reviews, cascade on delete)": Rating.objects.filter(movie=movie),
        "ratings per user (profile counts)": Rating.objects.filter(user_id__in=[user.pk])
        .order_by()
        .values("user_id")
        .annotate(n=Count("id")),
        "reviews per movie": selectors.review_list()
        .filter(movie_id__in=[movie.pk])
        .values("movie_id")
        .annotate(n=Count("id")),
        "recent ratings (trending)": Rating.objects.filter(
            updated_at__gte=datetime(2020, 1, 1, tzinfo=UTC)
        ).order_by("-updated_at"),
    }


def test_every_hot_query_is_served_by_an_index(rated):
    for name, queryset in _plans(rated).items():
        plan = queryset.explain()
        assert "Seq Scan on ratings_rating" not in plan, f"{name}:\n{plan}"
        assert any(index in plan for index in EXPECTED), f"{name}:\n{plan}"
