"""Password guessing and lockout abuse (issue 11, items 4 and 12) against a live server.

Clients are told apart by ``X-Forwarded-For`` behind one trusted proxy, as in production.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django_redis import get_redis_connection

from movierec import throttling
from tests.hardening.test_security_input import codes
from tests.users.conftest import STRONG_PASSWORD
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN_AUTH = """mutation($u: String!, $p: String!) {
  tokenAuth(username: $u, password: $p) { access user { username } } }"""
DELETE = "mutation($p: String!) { deleteAccount(password: $p) { ok } }"
CHANGE = """mutation($o: String!, $n: String!) {
  changePassword(oldPassword: $o, newPassword: $n) { access } }"""


@pytest.fixture
def backoff(settings: Any) -> Any:
    settings.RATELIMIT_NUM_PROXIES = 1

    def apply(**config: int) -> None:
        settings.LOGIN_BACKOFF = {**settings.LOGIN_BACKOFF, **config}

    return apply


@pytest.fixture
def owner(transactional_db: Any) -> User:
    user = User(username="owner", email="owner@example.com")
    user.set_password(STRONG_PASSWORD)
    user.save()
    return user


def call(url: str, query: str, variables: dict, ip: str, token: str | None = None) -> Any:
    import json

    import requests

    headers = {"Content-Type": "application/json", "X-Forwarded-For": ip}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables})
    return requests.post(f"{url}/graphql/", data=body, headers=headers, timeout=30)


def sign_in(url: str, password: str, ip: str, username: str = "owner") -> Any:
    return call(url, TOKEN_AUTH, {"u": username, "p": password}, ip)


def retry_after(response: Any) -> int:
    assert response.status_code == 429, response.text
    value = response.json()["errors"][0]["extensions"]["retryAfter"]
    assert int(response.headers["Retry-After"]) == value
    return value


def travel(owner: User, ip: str, seconds: float) -> None:
    """Move the client's and the account's last failure ``seconds`` into the past."""
    redis = get_redis_connection("default")
    for key in throttling._failure_keys(f"user:{owner.pk}", ip):
        last = float(redis.hget(key, "t") or time.time())
        redis.hset(key, "t", last - seconds)


def test_an_attack_from_many_clients_does_not_lock_the_owner_out(
    live_server: Any, owner: User, backoff: Any
) -> None:
    backoff(client_free=3, account_free=5, base=60, cap=900)
    attackers = [f"203.0.113.{i}" for i in range(1, 7)]
    failures = 0
    for ip in attackers:
        assert codes(sign_in(live_server.url, "guess", ip)) == ["UNAUTHENTICATED"]
        failures += 1
        for _ in range(2):
            response = sign_in(live_server.url, "guess", ip)
            if response.status_code == 429:
                break
            failures += 1
        # That client is held back now, even with the right password.
        assert retry_after(sign_in(live_server.url, STRONG_PASSWORD, ip)) >= 55
    # 3 + 2 until the account has 5 failures; from then on each new client gets one guess.
    assert failures == 3 + 2 + 1 + 1 + 1 + 1

    # The owner, from a client that has not failed, still signs in.
    response = sign_in(live_server.url, STRONG_PASSWORD, "198.51.100.7")

    assert response.status_code == 200
    assert response.json()["data"]["tokenAuth"]["user"] == {"username": "owner"}


def test_a_new_client_gets_one_guess_once_the_account_is_under_attack(
    live_server: Any, owner: User, backoff: Any
) -> None:
    backoff(client_free=3, account_free=4, base=60, cap=900)
    for ip in ("203.0.113.1", "203.0.113.2"):
        for _ in range(2):
            assert codes(sign_in(live_server.url, "guess", ip)) == ["UNAUTHENTICATED"]

    fresh = "203.0.113.99"
    assert codes(sign_in(live_server.url, "guess", fresh)) == ["UNAUTHENTICATED"]

    # 5 account failures >= 4 free: a client that has failed waits the account's delay.
    assert retry_after(sign_in(live_server.url, "guess", fresh)) in range(100, 121)


def test_delays_grow_with_each_failure(live_server: Any, owner: User, backoff: Any) -> None:
    backoff(client_free=2, account_free=1000, base=30, cap=100)
    ip = "203.0.113.5"
    for _ in range(2):
        assert codes(sign_in(live_server.url, "guess", ip)) == ["UNAUTHENTICATED"]

    waits = []
    for _ in range(3):
        waits.append(retry_after(sign_in(live_server.url, "guess", ip)))
        travel(owner, ip, waits[-1] + 1)
        assert codes(sign_in(live_server.url, "guess", ip)) == ["UNAUTHENTICATED"]
    waits.append(retry_after(sign_in(live_server.url, "guess", ip)))

    expected = [30, 60, 100, 100]  # doubling from `base`, capped
    assert all(w in range(e - 5, e + 1) for w, e in zip(waits, expected, strict=True)), waits


def test_retry_after_reports_the_binding_limit(
    live_server: Any, owner: User, backoff: Any, settings: Any
) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "login_ip": "3/1m"}
    backoff(client_free=1, account_free=1000, base=300, cap=900)
    ip = "203.0.113.8"
    assert codes(sign_in(live_server.url, "guess", ip)) == ["UNAUTHENTICATED"]
    for _ in range(2):
        assert retry_after(sign_in(live_server.url, "guess", ip)) > 60

    # Now both the IP window (<= 60 s) and the backoff (~300 s) refuse: the longer one binds.
    assert retry_after(sign_in(live_server.url, STRONG_PASSWORD, ip)) in range(290, 301)


def test_delete_account_password_guessing_is_throttled(
    live_server: Any, owner: User, backoff: Any
) -> None:
    backoff(client_free=3, account_free=1000, base=60, cap=900)
    thief = "203.0.113.66"
    token = sign_in(live_server.url, STRONG_PASSWORD, thief).json()["data"]["tokenAuth"]["access"]
    for _ in range(3):
        response = call(live_server.url, DELETE, {"p": "guess"}, thief, token)
        assert codes(response) == ["BAD_USER_INPUT"], response.text

    # Held back, right password or not, and changePassword shares the counter.
    assert retry_after(call(live_server.url, DELETE, {"p": STRONG_PASSWORD}, thief, token)) > 55
    changed = call(
        live_server.url, CHANGE, {"o": STRONG_PASSWORD, "n": "x-Brand-new-77"}, thief, token
    )
    assert retry_after(changed) > 55
    assert User.objects.filter(pk=owner.pk).exists()
    # The owner, on their own client, is not affected.
    assert sign_in(live_server.url, STRONG_PASSWORD, "198.51.100.7").status_code == 200


def test_change_password_guessing_is_throttled(live_server: Any, owner: User, backoff: Any) -> None:
    backoff(client_free=2, account_free=1000, base=60, cap=900)
    thief = "203.0.113.67"
    token = sign_in(live_server.url, STRONG_PASSWORD, thief).json()["data"]["tokenAuth"]["access"]
    for _ in range(2):
        response = call(
            live_server.url, CHANGE, {"o": "guess", "n": "x-Brand-new-77"}, thief, token
        )
        assert codes(response) == ["BAD_USER_INPUT"], response.text

    assert retry_after(call(live_server.url, DELETE, {"p": "guess"}, thief, token)) > 55
