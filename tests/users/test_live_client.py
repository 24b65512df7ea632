"""A third-party GraphQL client (gql) against a real HTTP server."""

from __future__ import annotations

from typing import Any

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

from tests.users.conftest import STRONG_PASSWORD


def _client(url: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = RequestsHTTPTransport(url=f"{url}/graphql/", headers=headers, timeout=10)
    return Client(transport=transport, fetch_schema_from_transport=False)


def test_sign_in_flow_with_gql_over_a_live_server(live_server: Any) -> None:
    register = gql(
        """mutation($u: String!, $e: String!, $p: String!) {
             register(username: $u, email: $e, password: $p) { access refresh user { username } }
           }"""
    )
    me = gql("{ me { username email ratingCount } }")
    refresh = gql("mutation($r: String!) { refreshToken(refresh: $r) { access refresh } }")
    revoke = gql("mutation($r: String!) { revokeToken(refresh: $r) { ok } }")

    anonymous = _client(live_server.url)
    payload = anonymous.execute(
        GraphQLRequest(
            register, variable_values={"u": "oracle", "e": "oracle@zion.org", "p": STRONG_PASSWORD}
        )
    )["register"]
    assert payload["user"] == {"username": "oracle"}

    assert _client(live_server.url, payload["access"]).execute(me) == {
        "me": {"username": "oracle", "email": "oracle@zion.org", "ratingCount": 0}
    }

    rotated = anonymous.execute(GraphQLRequest(refresh, variable_values={"r": payload["refresh"]}))
    with pytest.raises(TransportQueryError) as reused:
        anonymous.execute(GraphQLRequest(refresh, variable_values={"r": payload["refresh"]}))
    assert reused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"

    new = rotated["refreshToken"]
    assert anonymous.execute(GraphQLRequest(revoke, variable_values={"r": new["refresh"]})) == {
        "revokeToken": {"ok": True}
    }
    with pytest.raises(TransportQueryError) as refused:
        _client(live_server.url, new["access"]).execute(me)
    assert refused.value.errors[0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "revoked"}


def test_forged_token_over_a_live_server_is_refused(live_server: Any) -> None:
    import jwt

    forged = jwt.encode(
        {"user_id": "1", "token_type": "access"},
        "a-guessed-key-of-thirty-two-bytes!",
        algorithm="HS256",
    )
    with pytest.raises(TransportQueryError) as refused:
        _client(live_server.url, forged).execute(gql("{ me { username } }"))
    assert refused.value.errors[0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "invalid"}
