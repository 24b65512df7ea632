"""The ``movierec.db`` engine: Django's PostgreSQL backend whose connections give up (see
:mod:`movierec.db`)."""

from __future__ import annotations

import types
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg import errors

from movierec.breaker import DATABASE_BREAKER
from movierec.db import current_query_timeout

_NOT_ANSWERING = "PostgreSQL is not answering (waiting again in a few seconds)."


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose connects and waits respect the request's limit."""

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> DeadlineConnection:  # type: ignore[override]
        if current_query_timeout() is None:
            return super().connect(conninfo, **kwargs)
        if not DATABASE_BREAKER.allow():
            raise errors.OperationalError(_NOT_ANSWERING)
        try:
            connection = super().connect(conninfo, **kwargs)
        except errors.ConnectionTimeout:
            DATABASE_BREAKER.record_failure()
            raise
        except BaseException:
            DATABASE_BREAKER.record_success()  # an answer (a refusal): down, not hung
            raise
        DATABASE_BREAKER.record_success()
        return connection

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        limit = current_query_timeout()
        if limit is None:
            return super().wait(gen, interval=interval, timeout=timeout)
        if not DATABASE_BREAKER.allow():
            self.pgconn.finish()
            raise errors.OperationalError(_NOT_ANSWERING)
        bound = limit if timeout is None else min(timeout, limit)
        try:
            result = super().wait(gen, interval=interval, timeout=bound)
        except errors._WaitTimeout:
            if timeout is not None and timeout <= limit:
                DATABASE_BREAKER.record_success()
                raise  # the caller's own, shorter timeout
            # The server holds an unknown state for this connection: drop it.
            self.pgconn.finish()
            DATABASE_BREAKER.record_failure()
            raise errors.OperationalError(
                f"PostgreSQL did not answer within {limit:g} s; connection closed."
            ) from None
        except BaseException:
            DATABASE_BREAKER.record_success()
            raise
        DATABASE_BREAKER.record_success()
        return result


class _Psycopg(types.ModuleType):
    """psycopg as Django's backend sees it, except that ``connect`` makes the class above."""

    connect = staticmethod(DeadlineConnection.connect)

    def __getattr__(self, name: str) -> Any:
        return getattr(psycopg, name)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Psycopg("psycopg")
