"""Defect 14: concurrent sync chunks racing on new genres (and trending windows).

The race is forced, not hoped for: transaction A writes a new genre and stays open; B starts
the same upsert on its own connection and must block (seen in ``pg_stat_activity``) before A
commits. Before the fix B then failed on ``movies_genre_name_key``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction

from movies.models import Genre
from movies.sync import upserts
from movies.tmdb import TmdbGenre


def _wait_until_blocked(pid_box: list[int], timeout: float = 10.0) -> None:
    """Wait until the other backend waits on a lock (row, index tuple or advisory)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid_box:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid_box[0]]
                )
                row = cursor.fetchone()
            if row and row[0] == "Lock":
                return
        time.sleep(0.02)
    raise AssertionError("the second writer never blocked on the first")


def _in_thread(fn: Callable[[], Any], pid_box: list[int]) -> tuple[threading.Thread, dict]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    pid_box.append(cursor.fetchone()[0])
                outcome["value"] = fn()
        except Exception as exc:  # reported to the test thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_two_chunks_creating_the_same_genre_both_succeed():
    genres = [TmdbGenre(id=12, name="Adventure"), TmdbGenre(id=28, name="Action")]
    with transaction.atomic():
        upserts.genres_upsert(genres=genres)
        pid_box: list[int] = []
        thread, outcome = _in_thread(lambda: upserts.genres_upsert(genres=genres), pid_box)
        _wait_until_blocked(pid_box)
    thread.join(20)

    assert "error" not in outcome, outcome.get("error")
    pks, result = outcome["value"]
    assert (result.created, result.unchanged) == (0, 2)
    assert pks == dict(Genre.objects.values_list("tmdb_id", "pk"))
    assert Genre.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_claiming_an_imported_genre_concurrently_succeeds():
    Genre.objects.create(name="Adventure")  # from a MovieLens import: no tmdb_id yet
    genres = [TmdbGenre(id=12, name="Adventure")]
    with transaction.atomic():
        upserts.genres_upsert(genres=genres)
        pid_box: list[int] = []
        thread, outcome = _in_thread(lambda: upserts.genres_upsert(genres=genres), pid_box)
        _wait_until_blocked(pid_box)
    thread.join(20)

    assert "error" not in outcome, outcome.get("error")
    assert list(Genre.objects.values_list("tmdb_id", "name")) == [(12, "Adventure")]
