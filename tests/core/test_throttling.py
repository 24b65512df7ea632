"""Abuse limits: Redis counters per IP, per account and per GraphQL viewer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from movierec.throttling import Rate
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD
from tests.users.conftest import REGISTER, STRONG_PASSWORD, TOKEN_AUTH


@pytest.fixture
def rates(settings: Any) -> Any:
    """Set some scopes' rates for one test; the others stay generous."""

    def apply(**overrides: str) -> None:
        settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, **overrides}

    return apply


def _login(username: str, password: str, ip: str = "10.0.0.1") -> dict:
    return GraphQLClient()(TOKEN_AUTH, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_rate_parsing() -> None:
    assert Rate.parse("20/60") == Rate(20, 60)
    assert Rate.parse("5/5m") == Rate(5, 300)
    assert Rate.parse("10/h") == Rate(10, 3600)
    assert Rate.parse(" 3 / 2d ") == Rate(3, 172800)
    with pytest.raises(ValueError):
        Rate.parse("ten per minute")


def test_login_is_limited_per_ip(user: Any, rates: Any) -> None:
    rates(login_ip="3/1m")
    for _ in range(3):
        assert "errors" not in _login(user.username, PASSWORD)

    body = _login(user.username, PASSWORD)

    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] in range(1, 60 + 1)
    assert "errors" not in _login(user.username, PASSWORD, ip="10.0.0.2")


def test_failed_logins_are_counted_per_account_across_identifiers(user: Any, settings: Any) -> None:
    # Issue 11 changed this on purpose: growing delays per (account, client) replace the
    # hard per-account lock; a client that has not failed is not held back.
    settings.LOGIN_BACKOFF = {**settings.LOGIN_BACKOFF, "client_free": 3, "base": 300}
    identifiers = [user.username, user.email, user.username.upper()]
    for identifier in identifiers:
        body = _login(identifier, "wrong", ip="10.0.1.1")
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # That client waits now, even with the right password; a fresh one does not.
    locked = _login(user.email, PASSWORD, ip="10.0.1.1")
    assert locked["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert locked["errors"][0]["extensions"]["retryAfter"] in range(290, 300 + 1)
    assert "errors" not in _login(user.email, PASSWORD, ip="10.0.2.1")


def test_a_successful_login_clears_the_client_failures(user: Any, settings: Any) -> None:
    settings.LOGIN_BACKOFF = {**settings.LOGIN_BACKOFF, "client_free": 2, "base": 300}
    assert "errors" in _login(user.username, "wrong")
    assert "errors" not in _login(user.username, PASSWORD)
    assert _login(user.username, "wrong")["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "errors" not in _login(user.username, PASSWORD)


def test_register_is_limited_per_ip(db: Any, rates: Any) -> None:
    rates(register_ip="2/1h")
    for i in range(2):
        variables = {"username": f"n{i}", "email": f"n{i}@x.org", "password": STRONG_PASSWORD}
        assert "errors" not in GraphQLClient()(REGISTER, variables, REMOTE_ADDR="10.0.3.1")

    variables = {"username": "n9", "email": "n9@x.org", "password": STRONG_PASSWORD}
    body = GraphQLClient()(REGISTER, variables, REMOTE_ADDR="10.0.3.1")
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_rest_login_answers_429_with_retry_after(user: Any, rates: Any) -> None:
    rates(login_ip="1/1m")
    client = Client(REMOTE_ADDR="10.0.4.1")
    data = {"username": user.username, "password": PASSWORD}
    assert client.post("/api/auth/token/", data, content_type="application/json").status_code == 200

    response = client.post("/api/auth/token/", data, content_type="application/json")

    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert retry_after in range(1, 60 + 1)
    assert response.json() == {
        "errors": [
            {
                "message": "Too many requests.",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
            }
        ]
    }


def test_graphql_requests_are_limited_per_viewer(
    user: Any, other_user: Any, client_for: Any, rates: Any
) -> None:
    rates(graphql="3/1m")
    client = client_for(user)
    for _ in range(3):
        assert client.raw("{ me { username } }").status_code == 200

    response = client.raw("{ me { username } }")

    assert response.status_code == 429
    assert int(response["Retry-After"]) in range(1, 60 + 1)
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # Another viewer from the same address has their own budget.
    assert client_for(other_user).raw("{ me { username } }").status_code == 200


def test_anonymous_graphql_requests_are_limited_per_ip(db: Any, rates: Any) -> None:
    rates(graphql="2/1m")
    for _ in range(2):
        assert GraphQLClient().raw("{ me { username } }", REMOTE_ADDR="10.0.5.1").status_code == 200
    assert GraphQLClient().raw("{ me { username } }", REMOTE_ADDR="10.0.5.1").status_code == 429
    assert GraphQLClient().raw("{ me { username } }", REMOTE_ADDR="10.0.5.2").status_code == 200


def test_proxy_hops_are_trusted_only_when_configured(db: Any, rates: Any, settings: Any) -> None:
    rates(graphql="1/1m")
    spoofed = {"REMOTE_ADDR": "10.0.6.1", "HTTP_X_FORWARDED_FOR": "1.1.1.1"}
    assert GraphQLClient().raw("{ me { username } }", **spoofed).status_code == 200
    spoofed["HTTP_X_FORWARDED_FOR"] = "2.2.2.2"
    assert GraphQLClient().raw("{ me { username } }", **spoofed).status_code == 429

    settings.RATELIMIT_NUM_PROXIES = 1
    assert GraphQLClient().raw("{ me { username } }", **spoofed).status_code == 200


def test_limits_can_be_switched_off(user: Any, rates: Any, settings: Any) -> None:
    rates(login_ip="1/1m")
    settings.RATELIMIT_ENABLED = False
    for _ in range(3):
        assert "errors" not in _login(user.username, PASSWORD)


def test_count_and_reads_are_one_command_and_survive_a_script_flush(rates: Any, db: Any) -> None:
    """One EVALSHA per call (no MULTI pipeline); a Redis that forgot the script (restart,
    SCRIPT FLUSH) gets it again transparently."""
    from django.core.cache import cache
    from django_redis import get_redis_connection

    from movierec import throttling

    rates(graphql="3/1m")
    cache.set("state-a", {"v": 1}, timeout=60)
    redis = get_redis_connection("default")
    redis.script_flush()
    answers = [throttling.hit_and_read("graphql", "user:7", ["state-a", "nope"])]
    redis.config_resetstat()
    answers += [throttling.hit_and_read("graphql", "user:7", ["state-a", "nope"]) for _ in "abc"]
    stats = redis.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == 3
    assert "cmdstat_multi" not in stats and "cmdstat_exec" not in stats  # no pipeline
    assert answers[0] == (None, [{"v": 1}, None])
    assert [wait for wait, _ in answers[:3]] == [None, None, None]
    assert answers[3][0] in range(1, 61)
    assert redis.ttl(throttling._key("graphql", "user:7")) in range(1, 61)
