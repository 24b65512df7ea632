"""Whole-response cache of anonymous queries: served without SQL, dropped on writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from movies.models import Movie
from tests.conftest import GraphQLClient, access_token_for
from tests.factories import MovieFactory

QUERY = "{ movies(first: 5, orderBy: POPULARITY) { edges { node { title } } } }"


@pytest.fixture
def cached(db: Any, settings: Any) -> None:
    settings.GRAPHQL_RESPONSE_CACHE_TTL = 30


def _titles(body: dict) -> list[str]:
    return [e["node"]["title"] for e in body["data"]["movies"]["edges"]]


def test_an_anonymous_query_is_answered_from_redis_without_sql(
    cached: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        MovieFactory(title="Heat", popularity=10)
    first = GraphQLClient()(QUERY)  # computes, and starts the data version
    second = GraphQLClient()(QUERY)  # stored under the now current version
    with CaptureQueriesContext(connection) as queries:
        third = GraphQLClient()(QUERY)
    assert _titles(first) == _titles(second) == _titles(third) == ["Heat"]
    assert len(queries.captured_queries) == 0


def test_a_catalogue_write_invalidates_cached_responses(
    cached: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        movie = MovieFactory(title="Heat", popularity=10)
    GraphQLClient()(QUERY)
    assert _titles(GraphQLClient()(QUERY)) == ["Heat"]
    with django_capture_on_commit_callbacks(execute=True):
        movie.title = "Heat (1995)"
        movie.save()
    assert _titles(GraphQLClient()(QUERY)) == ["Heat (1995)"]


def test_signed_in_requests_and_errors_are_never_served_from_the_cache(
    cached: None, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        MovieFactory(title="Heat", popularity=10)
    client = GraphQLClient(access_token_for(user))
    client(QUERY)
    client(QUERY)
    with CaptureQueriesContext(connection) as queries:
        assert _titles(client(QUERY)) == ["Heat"]
    assert len(queries.captured_queries) > 0
    bad = "{ movies(first: 500) { edges { node { title } } } }"
    for _ in range(3):
        assert GraphQLClient()(bad)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_without_a_ttl_nothing_is_cached(db: Any) -> None:
    MovieFactory(title="Heat", popularity=10)
    GraphQLClient()(QUERY)
    Movie.objects.update(title="Heat 2")  # no signal: only an uncached read sees it
    assert _titles(GraphQLClient()(QUERY)) == ["Heat 2"]
