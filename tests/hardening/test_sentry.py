"""Sentry's happy path (issue 11, observability): with ``SENTRY_DSN`` set, an unhandled error
in a resolver reaches Sentry, and nothing secret goes with it.

The live server's DSN points at a local HTTP server standing in for Sentry's ingest. The error
is real, not injected: the table the resolver reads is renamed under the running server, so
PostgreSQL answers ``relation does not exist`` (a ProgrammingError: a bug, not an outage).
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from pytest_httpserver import HTTPServer

from tests.hardening.conftest import LiveServer, OwnRedis, server_env
from tests.users.conftest import STRONG_PASSWORD
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT = 42
SECRET_VARIABLE = "hunter2-do-not-send"
QUERY = """query($password: String) {
  movies(search: $password, first: 1) { totalCount } }"""


@pytest.fixture(scope="module")
def ingest() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(f"/api/{PROJECT}/envelope/", method="POST").respond_with_json({})
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(scope="module")
def sentry_server(
    test_database_url: str, own_redis: OwnRedis, ingest: HTTPServer, tmp_path_factory: Any
) -> Iterator[LiveServer]:
    dsn = f"http://publickey@127.0.0.1:{ingest.port}/{PROJECT}"
    env = server_env(
        own_redis.url,
        own_redis.broker_url,
        test_database_url,
        SENTRY_DSN=dsn,
        SENTRY_ENVIRONMENT="ci",
    )
    server = LiveServer(env, tmp_path_factory.mktemp("gunicorn-sentry") / "server.log")
    server.start()
    yield server
    server.stop()


def _items(body: bytes, encoding: str | None) -> list[tuple[dict, Any]]:
    """An envelope's (item header, payload) pairs (newline-delimited JSON)."""
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "br":
        import brotli

        body = brotli.decompress(body)
    lines = body.split(b"\n")
    items = []
    for header, payload in zip(lines[1::2], lines[2::2], strict=False):
        items.append((json.loads(header), json.loads(payload)))
    return items


def _events(ingest: HTTPServer) -> list[tuple[dict, str]]:
    """Every event received so far, with the raw (decoded) envelope text it came in."""
    found = []
    for request, _ in list(ingest.log):
        encoding = request.headers.get("Content-Encoding")
        for header, payload in _items(request.get_data(), encoding):
            if header.get("type") == "event":
                found.append((payload, json.dumps(payload)))
    return found


def _wait_for_event(ingest: HTTPServer, timeout: float = 30) -> list[tuple[dict, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if events := _events(ingest):
            return events
        time.sleep(0.1)
    raise AssertionError(f"no event reached the ingest server: {ingest.log}")


def test_an_unhandled_resolver_error_reaches_sentry_without_secrets(
    sentry_server: LiveServer, ingest: HTTPServer
) -> None:
    User.objects.create_user("reporter", "reporter@example.com", STRONG_PASSWORD)
    token = sentry_server.graphql(
        "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access } }",
        {"u": "reporter", "p": STRONG_PASSWORD},
    ).json()["data"]["tokenAuth"]["access"]
    assert sentry_server.graphql(QUERY, {"password": "x"}, token=token).status_code == 200
    assert not _events(ingest)  # nothing goes wrong, nothing is sent

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE movies_movie RENAME TO movies_movie_away")
    try:
        response = sentry_server.graphql(QUERY, {"password": SECRET_VARIABLE}, token=token)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE movies_movie_away RENAME TO movies_movie")

    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL", response.text
    events = _wait_for_event(ingest)
    (event, text), *others = events
    assert not others, [e["exception"]["values"][-1]["type"] for e, _ in others]
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "ProgrammingError"
    assert "movies_movie" in exception["value"]
    assert any(f["function"] for f in exception["stacktrace"]["frames"])
    assert event["environment"] == "ci"
    assert event["request"]["method"] == "POST"
    assert event["request"]["url"].endswith("/graphql/")
    # No secret anywhere in what was sent: not the bearer token, not the password variable.
    for secret in (token, token.split(".")[-1], SECRET_VARIABLE, STRONG_PASSWORD):
        assert secret not in text
    for request, _ in ingest.log:
        encoding = request.headers.get("Content-Encoding")
        raw = json.dumps([p for _, p in _items(request.get_data(), encoding)])
        assert token not in raw and SECRET_VARIABLE not in raw
    headers = {k.lower(): v for k, v in event["request"].get("headers", {}).items()}
    assert headers.get("authorization") in (None, "[Filtered]", ""), headers
