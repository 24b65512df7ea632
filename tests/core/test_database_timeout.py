"""The ``movierec.db`` engine: inside a request's limit no wait on PostgreSQL outlasts it.

A slow statement stands in for a server that does not answer: from the client's side the
two look the same (no bytes arrive), which is the point of a client-side bound.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, connection

from movierec.breaker import DATABASE_BREAKER
from movierec.db import query_timeout

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_connection() -> Any:
    yield
    DATABASE_BREAKER.reset()
    connection.close()  # the limit may have dropped it; teardown opens a new one


def _sleep(seconds: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])


def test_a_wait_past_the_limit_closes_the_connection_and_opens_the_breaker() -> None:
    with query_timeout(0.2), pytest.raises(OperationalError, match="did not answer within 0.2 s"):
        _sleep(5)

    assert connection.connection is None or connection.connection.closed
    assert DATABASE_BREAKER.is_open
    # While it is open, requests fail at once instead of waiting again.
    connection.close()
    with query_timeout(0.2), pytest.raises(OperationalError, match="not answering"):
        _sleep(0)


def test_without_a_limit_nothing_changes() -> None:
    _sleep(0.3)  # workers, beat and commands: slow is not hung
    with query_timeout(None):
        _sleep(0.3)
    assert not DATABASE_BREAKER.is_open


def test_a_fast_statement_under_the_limit_is_served() -> None:
    with query_timeout(2.0), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert not DATABASE_BREAKER.is_open
