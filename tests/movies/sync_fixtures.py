"""Fixtures shared by the sync tests: a dev server over a real socket, wired into settings."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from tools.tmdb_devserver import Catalogue, DevServer

CATALOGUE_SIZE = 300
PAGES = math.ceil(CATALOGUE_SIZE / 20)


@pytest.fixture(scope="session")
def sync_catalogue() -> Catalogue:
    return Catalogue.generate(CATALOGUE_SIZE, seed=7)


@pytest.fixture(scope="session")
def _sync_server(sync_catalogue: Catalogue) -> Iterator[DevServer]:
    with DevServer(sync_catalogue) as server:
        yield server


@pytest.fixture
def tmdb_server(_sync_server: DevServer, settings: Any) -> Iterator[DevServer]:
    """The dev server, reset around each test, with ``TMDB_*`` settings pointing at it."""
    _sync_server.reset()
    settings.TMDB_API_URL = _sync_server.base_url
    settings.TMDB_READ_TOKEN = "dev-token"
    settings.TMDB_API_KEY = ""
    settings.TMDB_RATE_LIMIT = 0
    settings.TMDB_SYNC_CHUNK_SIZE = 50
    yield _sync_server
    _sync_server.reset()


def catalogue_ids(catalogue: Catalogue) -> set[int]:
    return set(catalogue.movies)


__all__ = ["CATALOGUE_SIZE", "PAGES", "catalogue_ids"]
