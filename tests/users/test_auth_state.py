"""Signed-in requests read the user from a Redis snapshot of the row, in the throttle's
round trip; every service write to the row drops the snapshot."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import GraphQLClient, access_token_for
from users.selectors import auth_state_key
from users.services import user_deactivate

ME = "{ me { username } }"


def test_a_signed_in_request_runs_no_sql_for_the_viewer(user: Any) -> None:
    client = GraphQLClient(access_token_for(user))
    assert cache.get(auth_state_key(user.pk))["username"] == user.username  # stored on create
    with CaptureQueriesContext(connection) as queries:
        assert client.data(ME) == {"me": {"username": user.username}}
    assert queries.captured_queries == []


def test_saving_the_user_drops_the_snapshot_and_the_next_request_reloads_it(user: Any) -> None:
    client = GraphQLClient(access_token_for(user))
    client.data(ME)
    user.username = "renamed"
    user.save()
    assert cache.get(auth_state_key(user.pk)) is None
    with CaptureQueriesContext(connection) as queries:
        assert client.data(ME) == {"me": {"username": "renamed"}}
    assert len(queries.captured_queries) == 1  # the row, stored again
    assert cache.get(auth_state_key(user.pk))["username"] == "renamed"


def test_deactivation_through_the_service_takes_effect_on_the_next_request(user: Any) -> None:
    client = GraphQLClient(access_token_for(user))
    client.data(ME)
    user_deactivate(user=user)
    response = client.raw(ME)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "outdated"


def test_the_password_hash_is_not_in_the_snapshot(user: Any) -> None:
    GraphQLClient(access_token_for(user)).data(ME)
    assert "password" not in cache.get(auth_state_key(user.pk))
