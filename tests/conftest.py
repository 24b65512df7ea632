"""Shared fixtures: GraphQL clients for anonymous, signed-in and staff viewers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory


class GraphQLClient:
    """Posts to the real endpoint through Django's test client, as a web client would."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.token = token

    def raw(self, query: str, variables: dict[str, Any] | None = None, **headers: Any) -> Any:
        if self.token and "HTTP_AUTHORIZATION" not in headers:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return self.client.post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **headers,
        )

    def __call__(self, query: str, variables: dict[str, Any] | None = None, **headers: Any) -> dict:
        return self.raw(query, variables, **headers).json()

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict:
        """The ``data`` of a response that must not have errors."""
        body = self(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def error(self, query: str, variables: dict[str, Any] | None = None) -> dict:
        """The first error of a response that must fail."""
        body = self(query, variables)
        assert body.get("errors"), body
        return body["errors"][0]


def access_token_for(user: Any) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def other_user(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def staff_user(db: Any) -> Any:
    return UserFactory(is_staff=True)


@pytest.fixture
def api_client(db: Any) -> GraphQLClient:
    return GraphQLClient()


@pytest.fixture
def user_api_client(user: Any) -> GraphQLClient:
    return GraphQLClient(access_token_for(user))


@pytest.fixture
def other_api_client(other_user: Any) -> GraphQLClient:
    return GraphQLClient(access_token_for(other_user))


@pytest.fixture
def staff_api_client(staff_user: Any) -> GraphQLClient:
    return GraphQLClient(access_token_for(staff_user))


@pytest.fixture
def client_for(db: Any) -> Callable[[Any], GraphQLClient]:
    return lambda u: GraphQLClient(access_token_for(u) if u is not None else None)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Each test starts with an empty cache (the key prefix isolates test runs) and a closed
    Redis circuit breaker."""
    from django.core.cache import cache

    from movierec.breaker import BROKER_BREAKER, DATABASE_BREAKER, REDIS_BREAKER

    # The breaker is per process: a test that broke Redis on purpose must not leave it open
    # for the next test, which would then see "Redis down" for up to REDIS_BREAKER_SECONDS.
    REDIS_BREAKER.reset()
    BROKER_BREAKER.reset()
    DATABASE_BREAKER.reset()
    cache.clear()


@pytest.fixture
def celery_worker(transactional_db: Any, settings: Any) -> Any:
    """A real Celery worker (threads, in this process) consuming from the real broker.

    Needs ``transactional_db``: the worker's threads use their own database connections, so
    the test's rows must be committed for them to see.
    """
    from celery.contrib.testing.worker import start_worker

    from movierec.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.control.purge()
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        queues=["default", "sync", "ml"],
        perform_ping_check=False,
        shutdown_timeout=30,
    ) as worker:
        yield worker
    app.conf.task_always_eager = True
