"""PostgreSQL down and restarted under a live server (issue 11, defect 11 and the restart fault).

Before: authenticated GraphQL and REST sign-in answered Django's HTML 500, anonymous queries
200 with INTERNAL, mutations 400 with INTERNAL, and /healthz showed the exception text.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from movierec.embedded import DATA_DIR
from tests.hardening.conftest import ROOT, LiveServer, OwnPostgres, OwnRedis, server_env

PASSWORD = "a-long-enough-password-42"
_names = itertools.count()


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres(DATA_DIR / f"hardening-pg-{uuid.uuid4().hex[:8]}")
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def db_server(
    own_postgres: OwnPostgres, own_redis: OwnRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    # Persistent connections, as in production: a hung server is met mid-query, not only at
    # connect time.
    env = server_env(own_redis.url, own_redis.broker_url, own_postgres.url, CONN_MAX_AGE="60")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True, timeout=300,
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from users.models import User; "
         f"User.objects.create_user(username='dbfan', password='{PASSWORD}')"],
        cwd=ROOT, env=env, check=True, timeout=120,
    )  # fmt: skip
    server = LiveServer(env, tmp_path_factory.mktemp("gunicorn-db") / "server.log")
    server.start()
    body = server.graphql(
        "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access } }",
        {"u": "dbfan", "p": PASSWORD},
    ).json()
    tokens = {"access": body["data"]["tokenAuth"]["access"]}
    yield server, tokens
    server.stop()


def _assert_service_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json")
    assert int(response.headers["Retry-After"]) > 0
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["retryAfter"] == int(response.headers["Retry-After"])


def _calls(server: LiveServer, token: str) -> dict[str, Any]:
    return {
        "anonymous query": lambda: server.graphql("{ movies(first: 2) { totalCount } }"),
        "authenticated query": lambda: server.graphql("{ me { username } }", token=token),
        "mutation": lambda: server.graphql(
            "mutation($u: String!, $e: String!) { register(username: $u, email: $e,"
            ' password: "another-long-password-7") { access } }',
            {"u": (name := f"x{next(_names)}"), "e": f"{name}@example.com"},
        ),
        "rest sign-in": lambda: requests.post(
            f"{server.url}/api/auth/token/",
            json={"username": "dbfan", "password": PASSWORD},
            timeout=30,
        ),
    }


@pytest.mark.slow
def test_a_database_outage_gives_one_retryable_answer_then_recovers(db_server, own_postgres):
    server, tokens = db_server
    calls = _calls(server, tokens["access"])
    for name, call in calls.items():
        assert call().status_code == 200, name

    own_postgres.stop()
    try:
        for name, call in calls.items():
            started = time.perf_counter()
            response = call()
            elapsed = time.perf_counter() - started
            _assert_service_unavailable(response)
            assert elapsed < 5, (name, elapsed)  # refused connections fail fast
        health = requests.get(f"{server.url}/healthz", timeout=10)
        assert health.status_code == 503
        text = health.text
        assert "Error" not in text and "socket" not in text and own_postgres.url not in text
        assert health.json()["checks"]["database"] == {
            "ok": False,
            "ms": health.json()["checks"]["database"]["ms"],
        }
        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 503
        assert requests.get(f"{server.url}/livez", timeout=10).status_code == 200
    finally:
        own_postgres.start()

    # Restarted: the very next requests reconnect (CONN_HEALTH_CHECKS), none hangs.
    for name, call in _calls(server, tokens["access"]).items():
        started = time.perf_counter()
        response = call()
        assert response.status_code == 200, (name, response.text[:300])
        assert time.perf_counter() - started < 5, name


QUERY_TIMEOUT = 3.0  # DATABASE_QUERY_TIMEOUT's default
BREAKER_SECONDS = 5.0  # DATABASE_BREAKER_SECONDS's default


@pytest.mark.slow
def test_a_hung_database_answers_503_within_the_budget_then_recovers(db_server, own_postgres):
    """SIGSTOP of every server process: connections stay open and nothing answers.

    Before: each request waited forever on its persistent connection (psycopg polls the
    socket with no end; over a Unix socket no keepalive ever fires), so every gunicorn thread
    hung and the process answered nothing, /readyz included, until the server came back.
    """
    server, tokens = db_server
    calls = _calls(server, tokens["access"])
    for _ in range(3):  # every gunicorn thread holds a live connection
        for name, call in calls.items():
            assert call().status_code == 200, name

    own_postgres.hang()
    hung_at = time.monotonic()
    try:
        timings = {}
        for name, call in calls.items():
            started = time.perf_counter()
            response = call()
            timings[name] = time.perf_counter() - started
            _assert_service_unavailable(response)
        started = time.perf_counter()
        ready = requests.get(f"{server.url}/readyz", timeout=30)
        timings["readyz"] = time.perf_counter() - started
        assert ready.status_code == 503, ready.text
        assert requests.get(f"{server.url}/livez", timeout=10).status_code == 200
    finally:
        own_postgres.resume()
    assert time.monotonic() - hung_at < BREAKER_SECONDS + QUERY_TIMEOUT + 2, timings
    # The first request waits out one query timeout and opens the breaker; the rest fail fast.
    assert max(timings.values()) < QUERY_TIMEOUT + 1.5, timings
    assert sorted(timings.values())[-2] < 1.0, timings

    # Resumed: within the breaker's window a probe gets through and requests are served.
    deadline = time.monotonic() + BREAKER_SECONDS + 10
    while calls["authenticated query"]().status_code != 200:
        assert time.monotonic() < deadline, "the server did not recover"
        time.sleep(0.2)
    for name, call in calls.items():
        response = call()
        assert response.status_code == 200, (name, response.text[:300])
