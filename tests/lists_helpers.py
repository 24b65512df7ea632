"""Helpers shared by the ratings and playlists tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id


def gid(obj: Any) -> str:
    """The Relay global ID of a Movie, Playlist or Rating row."""
    return to_global_id(type(obj).__name__, obj.pk)


def count_queries(run: Callable[[], Any]) -> tuple[int, Any]:
    """Run ``run()`` and return (number of SQL queries, its result)."""
    with CaptureQueriesContext(connection) as ctx:
        result = run()
    return len(ctx.captured_queries), result
