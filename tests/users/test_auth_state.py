"""The Redis proof of a signed-in session (users/auth_state.py): no SQL while it holds, and
every way a token stops standing (logout, password change, deactivation, deletion, staff
actions, a flushed Redis) ends it at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_redis import get_redis_connection

from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory
from tests.users.conftest import CHANGE_PASSWORD, REVOKE, STRONG_PASSWORD, login
from users import auth_state

TYPENAME = "{ __typename }"
ME = "{ me { username } }"


def _queries(client: GraphQLClient, query: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        body = client(query)
    return len(captured), body


def _reason(client: GraphQLClient) -> str:
    response = client.raw(ME)
    assert response.status_code == 401, response.content
    return response.json()["errors"][0]["extensions"]["reason"]


@pytest.fixture
def signed_in(db: Any) -> tuple[Any, dict[str, Any], GraphQLClient]:
    user = UserFactory(username="viewer")
    tokens = login("viewer")
    client = GraphQLClient(tokens["access"])
    client(TYPENAME)  # the first request checks PostgreSQL and leaves the proof
    return user, tokens, client


def test_a_proven_session_costs_no_sql_until_the_viewer_is_read(signed_in: Any) -> None:
    _, _, client = signed_in

    count, body = _queries(client, TYPENAME)
    assert body == {"data": {"__typename": "Query"}}
    assert count == 0

    count, body = _queries(client, ME)
    assert body == {"data": {"me": {"username": "viewer"}}}
    assert count == 1  # the user row, loaded on first use; no revocation check


def test_the_first_request_checks_postgresql(db: Any) -> None:
    UserFactory(username="fresh")
    client = GraphQLClient(login("fresh")["access"])

    count, _ = _queries(client, TYPENAME)
    assert count == 1  # user row + EXISTS on the session's revocation, one query
    count, _ = _queries(client, TYPENAME)
    assert count == 0


def test_logout_ends_a_proven_session_at_once(signed_in: Any) -> None:
    _, tokens, client = signed_in
    assert _queries(client, TYPENAME)[0] == 0

    GraphQLClient().data(REVOKE, {"refresh": tokens["refresh"]})

    assert _reason(client) == "revoked"
    assert _reason(client) == "revoked"  # a refused check leaves no proof behind


def test_password_change_ends_proven_sessions_at_once(signed_in: Any) -> None:
    user, _, client = signed_in
    other = GraphQLClient(login("viewer")["access"])  # a second session of the same user
    other(TYPENAME)
    assert _queries(other, TYPENAME)[0] == 0

    client.data(CHANGE_PASSWORD, {"old": PASSWORD, "new": STRONG_PASSWORD})

    assert _reason(client) == "outdated"
    assert _reason(other) == "outdated"


def test_deactivation_and_deletion_end_proven_sessions(signed_in: Any) -> None:
    from users.services import user_deactivate

    user, _, client = signed_in
    user_deactivate(user=user)
    assert _reason(client) == "user_inactive"

    UserFactory(username="leaver")
    leaver = GraphQLClient(login("leaver")["access"])
    leaver(TYPENAME)
    assert _queries(leaver, TYPENAME)[0] == 0
    leaver.data("mutation($p: String!) { deleteAccount(password: $p) { ok } }", {"p": PASSWORD})
    assert _reason(leaver) == "user_inactive"


def test_staff_deactivating_through_a_save_ends_proven_sessions(signed_in: Any) -> None:
    user, _, client = signed_in
    user.is_active = False
    user.save()  # admin and shell write paths: the model signal marks the proof

    assert _reason(client) == "user_inactive"


def test_an_unrelated_save_keeps_the_proof(signed_in: Any) -> None:
    user, _, client = signed_in
    user.first_name = "Vi"
    user.save(update_fields=["first_name"])

    assert _queries(client, TYPENAME)[0] == 0


def test_a_flushed_redis_falls_back_to_postgresql(signed_in: Any) -> None:
    _, tokens, client = signed_in
    GraphQLClient().data(REVOKE, {"refresh": tokens["refresh"]})
    get_redis_connection("default").flushall()  # markers and proofs gone

    assert _reason(client) == "revoked"


def test_a_marker_redis_refused_is_written_before_redis_is_trusted_again(
    signed_in: Any,
) -> None:
    """A revocation while Redis was unreachable: its marker is owed, and until it is written
    the old proof (still in a Redis that came back with its data) is not trusted."""
    _, _, client = signed_in
    user_key = auth_state.user_key(signed_in[0].pk)
    auth_state._pending.add(user_key)  # as _mark leaves it when Redis refuses the write
    try:
        count, body = _queries(client, TYPENAME)
        assert "errors" not in body
        assert count == 1  # not proven: checked in PostgreSQL
        assert not auth_state._pending  # the owed marker went in
        from django.core.cache import cache

        assert cache.get(user_key) == "changed"
    finally:
        auth_state._pending.clear()


def test_tokens_without_a_session_claim_are_checked_every_time(db: Any) -> None:
    from tests.conftest import access_token_for

    user = UserFactory()
    client = GraphQLClient(access_token_for(user))  # simplejwt's token: no `sid`
    for _ in range(2):
        count, body = _queries(client, TYPENAME)
        assert "errors" not in body
        assert count == 1


def test_the_proof_is_off_with_a_zero_lifetime(db: Any, settings: Any) -> None:
    settings.AUTH_STATE_CACHE_SECONDS = 0
    UserFactory(username="strict")
    client = GraphQLClient(login("strict")["access"])
    for _ in range(2):
        assert _queries(client, TYPENAME)[0] == 1
