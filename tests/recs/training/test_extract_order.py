"""The same data extracts as the same rows in the same order, whatever the heap's layout:
the holdout split draws its random keys in row order, so a training must not depend on where
updates left the rows on disk."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from ratings.models import Rating
from recs.extract import interactions_extract
from tests.factories import MovieFactory, RatingFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_rows_come_in_id_order_after_updates_moved_them_on_disk():
    movies = [MovieFactory() for _ in range(6)]
    ratings = [
        RatingFactory(user=user, movie=movie, score=Decimal("3.0"))
        for user in [UserFactory() for _ in range(5)]
        for movie in movies
    ]
    # An update of an indexed column writes a new row version at the end of the heap: the
    # first ratings now sit physically after the last ones, and a scan returns them there.
    for rating in ratings[:10]:
        Rating.objects.filter(pk=rating.pk).update(
            score=Decimal("4.5"), updated_at=rating.updated_at + timedelta(seconds=1)
        )
    rows = interactions_extract().interactions
    by_id = sorted(ratings, key=lambda r: r.pk)
    np.testing.assert_array_equal(rows.user_ids, [r.user_id for r in by_id])
    np.testing.assert_array_equal(rows.item_ids, [r.movie_id for r in by_id])
    np.testing.assert_array_equal(rows.scores, [4.5] * 10 + [3.0] * 20)
