"""TMDb down, slow or answering garbage during a sync of an already stored catalogue: the run
records it, the next run recovers, and stored movies are never corrupted."""

from __future__ import annotations

import socket

import pytest

from movies.models import Movie, SyncRun
from movies.sync import jobs
from tests.movies.sync_fixtures import (  # noqa: F401
    CATALOGUE_SIZE,
    PAGES,
    _sync_server,
    sync_catalogue,
    tmdb_server,
)


def _stored() -> dict[int, tuple]:
    return {
        row[0]: row[1:]
        for row in Movie.objects.values_list("tmdb_id", "title", "content_hash", "vote_count")
    }


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/3"


@pytest.fixture
def synced(db, tmdb_server):  # noqa: F811
    run = jobs.popular_sync(pages=PAGES)
    assert run.status == SyncRun.Status.SUCCEEDED
    return _stored()


def test_tmdb_down_fails_the_run_and_keeps_stored_movies(synced, tmdb_server, settings):  # noqa: F811
    settings.TMDB_API_URL = _closed_port_url()
    with pytest.raises(Exception):  # noqa: B017 - the coordinator re-raises for Celery's retry
        jobs.popular_sync(pages=PAGES)
    failed = SyncRun.objects.filter(kind="popular").order_by("-started_at").first()
    assert failed.status == SyncRun.Status.FAILED and failed.finished_at is not None
    assert _stored() == synced

    settings.TMDB_API_URL = tmdb_server.base_url  # back: the next run goes through
    again = jobs.popular_sync(pages=PAGES)
    assert again.status == SyncRun.Status.SUCCEEDED
    assert (again.unchanged, again.failed) == (CATALOGUE_SIZE, 0)


def test_tmdb_garbage_and_errors_never_corrupt_stored_movies(synced, tmdb_server, sync_catalogue):  # noqa: F811
    broken = sorted(sync_catalogue.movies)[:3]
    for tmdb_id in broken:
        tmdb_server.catalogue.malform(tmdb_id)
    tmdb_server.inject_faults(502, count=3)
    tmdb_server.app.latency_ms = 20  # slow, under the client's timeout

    run = jobs.popular_sync(pages=PAGES)

    assert run.status == SyncRun.Status.PARTIAL
    assert run.failed == len(broken)
    assert _stored() == synced  # the malformed ones kept their last good version
