"""Production defaults (issue 11, item 15), over real HTTP against a live server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.test_settings import STRONG_KEY, _manage
from tests.hardening.test_security_input import codes, gql, post
from tests.users.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

INTROSPECTION = "{ __schema { queryType { name } } }"
TYPO = "{ moviez { totalCount } }"


def test_production_turns_introspection_and_suggestions_off_by_default() -> None:
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(settings.GRAPHQL_INTROSPECTION, settings.GRAPHQL_SUGGESTIONS)",
        SECRET_KEY=STRONG_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_introspection_and_suggestions_off(live_server: Any, settings: Any) -> None:
    settings.GRAPHQL_INTROSPECTION = False
    settings.GRAPHQL_SUGGESTIONS = False

    introspection = gql(live_server.url, INTROSPECTION)
    typo = gql(live_server.url, TYPO)
    typename = gql(live_server.url, "{ __typename }")

    assert introspection.status_code == 400
    assert set(codes(introspection)) == {"BAD_USER_INPUT"}
    assert "introspection" in introspection.json()["errors"][0]["message"]
    assert codes(typo) == ["BAD_USER_INPUT"]
    assert "Did you mean" not in typo.text
    assert "movies" not in typo.text
    assert typename.json() == {"data": {"__typename": "Query"}}


def test_introspection_and_suggestions_on(live_server: Any, settings: Any) -> None:
    settings.GRAPHQL_INTROSPECTION = True
    settings.GRAPHQL_SUGGESTIONS = True

    introspection = gql(live_server.url, INTROSPECTION)
    typo = gql(live_server.url, TYPO)

    assert introspection.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "Did you mean 'movie' or 'movies'?" in typo.json()["errors"][0]["message"]


AUTH = "access refresh"
TOKEN_AUTH = f"""mutation($u: String!, $p: String!) {{
  tokenAuth(username: $u, password: $p) {{ {AUTH} }} }}"""
REFRESH = f"mutation($r: String!) {{ refreshToken(refresh: $r) {{ {AUTH} }} }}"


def _register_and_sign_in(url: str, username: str = "neo") -> dict:
    query = """mutation($u: String!, $e: String!, $p: String!) {
      register(username: $u, email: $e, password: $p) { access } }"""
    gql(url, query, {"u": username, "e": f"{username}@zion.org", "p": STRONG_PASSWORD})
    return gql(url, TOKEN_AUTH, {"u": username, "p": STRONG_PASSWORD}).json()["data"]["tokenAuth"]


@pytest.mark.parametrize("extra_field", ["", 'nope: deleteAccount(password: "wrong") { ok }'])
def test_refresh_token_reuse_revokes_the_session_family(live_server: Any, extra_field: str) -> None:
    url = live_server.url
    first = _register_and_sign_in(url)
    second = gql(url, REFRESH, {"r": first["refresh"]}).json()["data"]["refreshToken"]
    assert gql(url, "{ me { username } }", token=second["access"]).json() == {
        "data": {"me": {"username": "neo"}}
    }

    # The replay, optionally with a failing field that rolls the mutation back.
    replay_query = REFRESH.replace("} }", "} " + extra_field + " }") if extra_field else REFRESH
    replay = gql(url, replay_query, {"r": first["refresh"]}, token=second["access"])

    assert "UNAUTHENTICATED" in codes(replay)
    after = gql(url, REFRESH, {"r": second["refresh"]})
    assert codes(after) == ["UNAUTHENTICATED"]
    assert after.json()["errors"][0]["extensions"]["reason"] == "revoked"
    me = gql(url, "{ me { username } }", token=second["access"])
    assert me.status_code == 401
    assert me.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "revoked"}


def test_token_auth_rate_limited_is_429_with_retry_after_like_rest(
    live_server: Any, settings: Any
) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "login_ip": "2/1m"}
    variables = {"u": "nobody", "p": "wrong"}
    for _ in range(2):
        assert gql(live_server.url, TOKEN_AUTH, variables).status_code == 200

    graphql = gql(live_server.url, TOKEN_AUTH, variables)
    rest = post(live_server.url, {"username": "nobody", "password": "x"}, path="/api/auth/token/")

    for response in (graphql, rest):
        assert response.status_code == 429, response.text
        assert codes(response) == ["RATE_LIMITED"]
        retry_after = response.json()["errors"][0]["extensions"]["retryAfter"]
        assert int(response.headers["Retry-After"]) == retry_after
        assert retry_after in range(1, 61)
