"""Security records that must outlive the rollback of the request's transaction.

A GraphQL mutation runs in one transaction that rolls back when any of its fields fails
(``ATOMIC_MUTATIONS``). That is right for data, wrong for evidence of an attack: a replayed
refresh token must end its session even though the mutation that detected it fails, and a
client must not be able to undo the revocation by adding a failing field to the document.

:func:`durable` runs an idempotent write now and, inside a :func:`scope`, again once the
outermost transaction has ended (committed or rolled back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection

_pending: ContextVar[list[Callable[[], None]] | None] = ContextVar("durable_pending", default=None)


def durable(write: Callable[[], None]) -> None:
    """Run the idempotent ``write``; replay it after the request's transaction if in a scope."""
    write()
    pending = _pending.get()
    if pending is not None and connection.in_atomic_block:
        pending.append(write)


@contextmanager
def scope() -> Iterator[None]:
    """Collect durable writes made inside; replay them on leaving, outside any transaction."""
    pending: list[Callable[[], None]] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        for write in pending:
            write()
