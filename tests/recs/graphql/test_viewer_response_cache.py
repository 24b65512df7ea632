"""A signed-in viewer's `recommendations` answered whole from Redis (no SQL), and dropped by
every change that can alter it: feedback, a not-interested mark, a model activation, a
catalogue write; never for another user's list, other root fields or a revoked session."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from tests.conftest import GraphQLClient
from tests.recs.conftest import activate_new_model, rate
from users.tokens import RefreshToken

pytestmark = pytest.mark.django_db

RECS = "{ recommendations(first: 10) { score source movie { id title genres { name } } } }"
RATE = "mutation($m: ID!, $s: Float!) { rateMovie(movieId: $m, score: $s) { score } }"
HIDE = "mutation($m: ID!) { markNotInterested(movieId: $m) { ok } }"


@pytest.fixture(autouse=True)
def _cached(settings: Any) -> None:
    settings.GRAPHQL_RESPONSE_CACHE_TTL = 30


@pytest.fixture
def viewer(user: Any) -> GraphQLClient:
    """A client with a session token (``sid``), so its requests can skip the SQL check."""
    return GraphQLClient(str(RefreshToken.for_user(user).access_token))


def gid(movie: Any) -> str:
    return to_global_id("Movie", movie.pk)


def _ids(body: dict) -> list[str]:
    return [r["movie"]["id"] for r in body["data"]["recommendations"]]


def _counted(client: GraphQLClient, query: str = RECS, variables: Any = None) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        body = client(query, variables)
    assert "errors" not in body, body
    return len(captured), body


def _warm(client: GraphQLClient, commits: Any) -> dict:
    with commits(execute=True):
        first = client.data(RECS)  # parses and validates the document
    client(RECS)  # not cached yet: starts the data version
    client(RECS)  # stored under the versions now current
    return first


@pytest.fixture
def warmed(
    planted: Any,
    active_model: Any,
    user: Any,
    viewer: GraphQLClient,
    django_capture_on_commit_callbacks: Any,
) -> dict:
    """The viewer (a Crime fan) with their list cached; the list's first answer."""
    rate(user, planted.movies["Crime"][5:12])
    return _warm(viewer, django_capture_on_commit_callbacks)


def test_a_cached_list_costs_no_sql(warmed: dict, viewer: GraphQLClient) -> None:
    count, body = _counted(viewer)
    assert body["data"] == warmed
    assert count == 0


def test_a_rating_drops_the_cached_list(
    warmed: dict, viewer: GraphQLClient, django_capture_on_commit_callbacks: Any
) -> None:
    top = _ids(_counted(viewer)[1])[0]

    with django_capture_on_commit_callbacks(execute=True):
        viewer.data(RATE, {"m": top, "s": 4.0})

    count, body = _counted(viewer)
    assert count > 0
    assert top not in _ids(body)  # rated movies are not recommended


def test_a_not_interested_mark_drops_the_cached_list(
    warmed: dict, viewer: GraphQLClient, django_capture_on_commit_callbacks: Any
) -> None:
    top = _ids(_counted(viewer)[1])[0]

    with django_capture_on_commit_callbacks(execute=True):
        viewer.data(HIDE, {"m": top})

    assert top not in _ids(_counted(viewer)[1])


def test_a_model_activation_drops_the_cached_list(warmed: dict, viewer: GraphQLClient) -> None:
    assert _counted(viewer)[0] == 0

    activate_new_model()

    assert _counted(viewer)[0] > 0


def test_a_catalogue_write_drops_the_cached_list(
    planted: Any, warmed: dict, viewer: GraphQLClient, django_capture_on_commit_callbacks: Any
) -> None:
    body = _counted(viewer)[1]
    top = body["data"]["recommendations"][0]["movie"]
    movie = next(m for ms in planted.movies.values() for m in ms if gid(m) == top["id"])

    with django_capture_on_commit_callbacks(execute=True):
        movie.title = "Renamed"
        movie.save()

    assert _counted(viewer)[1]["data"]["recommendations"][0]["movie"]["title"] == "Renamed"


def test_viewers_do_not_share_entries(
    planted: Any,
    active_model: Any,
    user: Any,
    other_user: Any,
    viewer: GraphQLClient,
    django_capture_on_commit_callbacks: Any,
) -> None:
    rate(user, planted.movies["Crime"][5:12])
    rate(other_user, planted.movies["Comedy"][5:12])
    mine = _warm(viewer, django_capture_on_commit_callbacks)
    other = GraphQLClient(str(RefreshToken.for_user(other_user).access_token))

    theirs = other.data(RECS)

    assert _ids({"data": mine}) != _ids({"data": theirs})


def test_a_revoked_session_is_refused_even_with_a_cached_list(
    planted: Any, active_model: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    refresh = RefreshToken.for_user(user)
    client = GraphQLClient(str(refresh.access_token))
    _warm(client, django_capture_on_commit_callbacks)

    GraphQLClient().data(
        "mutation($r: String!) { revokeToken(refresh: $r) { ok } }", {"r": str(refresh)}
    )

    assert client.raw(RECS).status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "{ me { username } recommendations(first: 10) { movie { id } } }",
        "query($u: ID!) { recommendations(first: 10, userId: $u) { movie { id } } }",
    ],
)
def test_other_root_fields_and_other_users_lists_are_not_cached(
    planted: Any,
    active_model: Any,
    staff_user: Any,
    user: Any,
    query: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = GraphQLClient(str(RefreshToken.for_user(staff_user).access_token))
    variables = {"u": to_global_id("User", user.pk)} if "$u" in query else None
    with django_capture_on_commit_callbacks(execute=True):
        client.data(query, variables)
    client.data(query, variables)

    assert _counted(client, query, variables)[0] > 0
