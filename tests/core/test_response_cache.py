"""Whole-response cache (anonymous, and per signed-in viewer for declared root fields):
served without SQL, dropped on writes and on the viewer's feedback."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from movies.models import Movie
from tests.conftest import GraphQLClient
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


MINE = "{ movies(first: 5) { edges { node { id title myRating { score } inWatchlist } } } }"
RATE = "mutation($m: ID!, $s: Float!) { rateMovie(movieId: $m, score: $s) { score } }"


def _session_client(user: Any) -> GraphQLClient:
    """A token with a session id, whose requests can skip the SQL session check."""
    from users.tokens import RefreshToken

    return GraphQLClient(str(RefreshToken.for_user(user).access_token))


def _mine(client: GraphQLClient) -> list[tuple[str, Any]]:
    edges = client.data(MINE)["movies"]["edges"]
    return [(e["node"]["title"], e["node"]["myRating"]) for e in edges]


def test_signed_in_answers_are_cached_per_viewer_and_follow_their_feedback(
    cached: None, user: Any, other_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        movie_id = to_global_id("Movie", MovieFactory(title="Heat", popularity=10).pk)
    mine, theirs = _session_client(user), _session_client(other_user)
    for _ in range(3):  # parse, start the versions, store
        assert _mine(mine) == [("Heat", None)]
    with CaptureQueriesContext(connection) as queries:
        assert _mine(mine) == [("Heat", None)]
    assert len(queries.captured_queries) == 0

    with django_capture_on_commit_callbacks(execute=True):
        mine.data(RATE, {"m": movie_id, "s": 4.0})

    assert _mine(mine) == [("Heat", {"score": 4.0})]
    for _ in range(3):
        assert _mine(theirs) == [("Heat", None)]
    assert _mine(mine) == [("Heat", {"score": 4.0})]


def test_an_account_save_drops_the_viewers_cached_answers(
    cached: None, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        MovieFactory(title="Heat", popularity=10)
    client = _session_client(user)
    for _ in range(3):
        client(MINE)
    with django_capture_on_commit_callbacks(execute=True):
        user.is_staff = True
        user.save()  # staff-only fields may now show
    with CaptureQueriesContext(connection) as queries:
        client(MINE)
    assert len(queries.captured_queries) > 0


def test_errors_and_uncacheable_root_fields_are_never_served_from_the_cache(
    cached: None, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        MovieFactory(title="Heat", popularity=10)
    client = _session_client(user)
    both = "{ me { username } movies(first: 5) { edges { node { title } } } }"
    for _ in range(3):
        client(both)
    with CaptureQueriesContext(connection) as queries:
        assert client(both)["data"]["me"] == {"username": user.username}
    assert len(queries.captured_queries) > 0
    bad = "{ movies(first: 500) { edges { node { title } } } }"
    for _ in range(3):
        assert GraphQLClient()(bad)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert client(bad)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_without_a_ttl_nothing_is_cached(db: Any) -> None:
    MovieFactory(title="Heat", popularity=10)
    GraphQLClient()(QUERY)
    Movie.objects.update(title="Heat 2")  # no signal: only an uncached read sees it
    assert _titles(GraphQLClient()(QUERY)) == ["Heat 2"]
