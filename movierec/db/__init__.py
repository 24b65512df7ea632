"""A bound on how long a web request waits for PostgreSQL (the ``movierec.db`` engine).

Django's PostgreSQL backend with one change: a connection class whose waits give up. psycopg 3
never blocks in libpq; it polls the socket in ``Connection.wait``, which takes a timeout. A
stopped or partitioned server neither answers nor closes the socket, and over a Unix socket
(or before TCP keepalives fire, minutes later) nothing else would end the wait, so inside a
request (:func:`query_timeout`, set by ``DatabaseTimeoutMiddleware``) each wait is limited to
``DATABASE_QUERY_TIMEOUT`` seconds. Past it the connection is closed (its state is unknown)
and ``OperationalError`` raised, which the API answers with 503 ``SERVICE_UNAVAILABLE``.

A timeout, or a connection attempt that hits ``connect_timeout``, opens the database breaker
(``DATABASE_BREAKER_SECONDS``): until then requests fail at once instead of each waiting out
its own timeout; one request then probes. Refused connections (a server that is down, not
hung) do not open it: they fail fast anyway, and a restarted server is used at once.

Workers, beat and commands run without a limit: a long training query is not a hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_limit: ContextVar[float | None] = ContextVar("database_query_timeout", default=None)


@contextmanager
def query_timeout(seconds: float | None) -> Iterator[None]:
    """Limit every wait on PostgreSQL inside the block to ``seconds`` (None or 0: no limit)."""
    token = _limit.set(seconds or None)
    try:
        yield
    finally:
        _limit.reset(token)


def current_query_timeout() -> float | None:
    """The limit in force here, or None."""
    return _limit.get()


@contextmanager
def statement_timeout(seconds: float, using: str = "default") -> Iterator[None]:
    """Let PostgreSQL cancel any statement of the block that runs past ``seconds``.

    For optional work inside a request (an aggregate whose cost grows with the data): the
    server cancels the statement and the block raises ``OperationalError`` (psycopg's
    ``QueryCanceled``) on a connection that stays healthy, unlike the client-side
    :func:`query_timeout`, which closes the connection and opens the breaker. The block runs
    in a savepoint, so a cancelled statement leaves the caller's transaction usable, and the
    caller's own ``statement_timeout`` is restored afterwards.
    """
    from django.db import connections, transaction

    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), "
                "set_config('statement_timeout', %s, true)",
                [f"{max(int(seconds * 1000), 1)}ms"],
            )
            (previous, _) = cursor.fetchone()
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
