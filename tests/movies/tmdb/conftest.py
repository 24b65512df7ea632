"""Fixtures for the TMDb package: a real dev server over a socket and a real Redis."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from movies.tmdb import TmdbClient
from tools.tmdb_devserver import Catalogue, DevServer

REPO_ROOT = Path(__file__).resolve().parents[3]


# A copy of ../shared/tmdb (TMDb's OpenAPI description and real captured responses), kept in
# the repository so the suite runs wherever the repository is cloned.
SHARED_TMDB = REPO_ROOT / "tests" / "fixtures" / "tmdb"
SAMPLES = SHARED_TMDB / "samples"
# The suite's Redis (set by the settings, embedded when none is configured); keys are prefixed.
REDIS_URL = os.environ["REDIS_URL"]


class RecordingSleep:
    """Stands in for ``time.sleep``: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.generate(1200, seed=7)


@pytest.fixture(scope="session")
def _session_server(catalogue: Catalogue) -> Iterator[DevServer]:
    with DevServer(catalogue) as server:
        yield server


@pytest.fixture
def dev_server(_session_server: DevServer) -> Iterator[DevServer]:
    """The shared server, reset before and after each test (touches, faults, logs)."""
    _session_server.reset()
    yield _session_server
    _session_server.reset()


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def client(dev_server: DevServer, sleeps: RecordingSleep) -> Iterator[TmdbClient]:
    with TmdbClient(dev_server.base_url, sleep=sleeps, rng=random.Random(0)) as tmdb:
        yield tmdb


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:  # a missing Redis must fail loudly, not skip
        pytest.fail(f"Redis is required at {REDIS_URL}: {exc}")
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A unique key prefix; only keys under it are deleted afterwards."""
    prefix = f"test:movierec:tmdb:{uuid.uuid4().hex}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}:*"))
    if keys:
        redis_client.delete(*keys)
