"""Trending is computed by beat, not by requests: a busy window's aggregate never holds a web
worker past ``TRENDING_REQUEST_TIMEOUT`` nor answers 503.

A request that finds the list missing computes it under a server-side statement timeout.
The slow aggregate is made real, not simulated: a second connection holds an ACCESS
EXCLUSIVE lock on the ratings table, so the request's aggregate waits until PostgreSQL
cancels it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg.errors import QueryCanceled

from movierec.db import statement_timeout
from movies.models import TrendingEntry
from recs import keys, selectors, services, serving
from tasks.schedule import BEAT_SCHEDULE
from tests.factories import MovieFactory, RatingFactory

TRENDING = "query($w: TrendWindow) { trending(window: $w, first: 3) { title } }"


@contextmanager
def _ratings_locked() -> Iterator[None]:
    """Another session holds the ratings table: any read of it waits."""
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.execute("BEGIN")
        other.execute("LOCK TABLE ratings_rating IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        other.rollback()
        other.close()


def _titles(client, window: str = "WEEK") -> list[str]:
    return [m["title"] for m in client.data(TRENDING, {"w": window})["trending"]]


@pytest.fixture
def catalogue(transactional_db):
    hot = MovieFactory(title="Hot", popularity=1.0)
    popular = [MovieFactory(title=f"Popular {i}", popularity=100.0 - i) for i in range(3)]
    for _ in range(3):
        RatingFactory(movie=hot, score=Decimal("5.0"))
    return hot, popular


def test_statement_timeout_cancels_on_a_healthy_connection_and_restores_the_setting(db):
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '7s'")
    with transaction.atomic():
        with (
            pytest.raises(OperationalError) as raised,
            statement_timeout(0.05),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT pg_sleep(2)")
        assert isinstance(raised.value.__cause__, QueryCanceled)
        with connection.cursor() as cursor:  # the outer transaction is still usable
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("7s",)
        with statement_timeout(1.5), connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("1500ms",)
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("7s",)


def test_refresh_fills_both_windows_and_requests_then_only_read_the_cache(catalogue):
    hot, popular = catalogue
    assert services.trending_refresh() == {"day": 1, "week": 1}
    late = MovieFactory(title="Late", popularity=0.5)
    for _ in range(9):
        RatingFactory(movie=late, score=Decimal("5.0"))
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.trending_movies(window="day", n=2) == [hot, popular[0]]
    assert not any("ratings_rating" in q["sql"] for q in ctx.captured_queries)
    services.trending_refresh(windows=("day",))
    assert selectors.trending_movies(window="day", n=2) == [late, hot]


def test_a_slow_aggregate_serves_the_last_list_without_an_error(catalogue, api_client, settings):
    hot, popular = catalogue
    settings.TRENDING_REQUEST_TIMEOUT = 0.2
    settings.TRENDING_TMDB_WEIGHT = 0.6
    services.trending_refresh()
    # A TMDb sync bumps the version: the current list is gone, the last one stays.
    serving.cache_set(keys.TRENDING_VERSION, 7, timeout=None)
    TrendingEntry.objects.create(window="week", movie=popular[2], rank=1, synced_at=timezone.now())
    with _ratings_locked():
        assert _titles(api_client) == ["Hot", "Popular 0", "Popular 1"]
    # The connection is healthy and the database breaker closed; the last list stands in
    # (no second attempt within TRENDING_RETRY_SECONDS) until beat's refresh.
    with CaptureQueriesContext(connection) as ctx:
        assert _titles(api_client) == ["Hot", "Popular 0", "Popular 1"]
    assert not any("ratings_rating" in q["sql"] for q in ctx.captured_queries)
    services.trending_refresh()
    assert _titles(api_client) == ["Popular 2", "Hot", "Popular 0"]


def test_with_no_list_yet_a_slow_aggregate_serves_popularity(catalogue, api_client, settings):
    settings.TRENDING_REQUEST_TIMEOUT = 0.2
    with _ratings_locked():
        assert _titles(api_client, "DAY") == ["Popular 0", "Popular 1", "Popular 2"]
    assert serving.cache_get(keys.trending_last("day")) is None  # not a computed list
    assert _titles(api_client, "DAY") == ["Popular 0", "Popular 1", "Popular 2"]
    ttl = cache.ttl(keys.trending(serving.trending_version(), "day"))
    assert 0 < ttl <= settings.TRENDING_RETRY_SECONDS
    cache.delete(keys.trending(serving.trending_version(), "day"))  # the stand-in expires
    assert _titles(api_client, "DAY") == ["Hot", "Popular 0", "Popular 1"]


def test_beat_refreshes_trending_more_often_than_it_expires(settings):
    entry = BEAT_SCHEDULE["trending-refresh"]
    assert entry["task"] == "tasks.trending.trending_refresh"
    assert 0 < entry["schedule"] < settings.TRENDING_CACHE_TTL


def test_the_refresh_task_runs_the_service(catalogue):
    from tasks.trending import trending_refresh

    assert trending_refresh.apply().get() == {"day": 1, "week": 1}
    assert serving.cache_get(keys.trending_last("week"))[0][0][0] == catalogue[0].pk
