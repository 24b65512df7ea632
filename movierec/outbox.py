"""Follow-up work that survives a broker outage: a transactional outbox in PostgreSQL.

A write that wants Celery work done records an :class:`~movierec.models.OutboxMessage` in its
own transaction (:func:`outbox_enqueue`). Once that transaction commits, the message is
published and its row deleted. When the broker is down or hung the publish fails within
``CELERY_BROKER_PUBLISH_TIMEOUT`` (and the broker breaker makes the next writes skip it at
once), the write still succeeds, and the row waits for :func:`outbox_flush`, which beat runs
every minute (``tasks.outbox.outbox_flush``).

Delivery is at least once: if the broker took a message but deleting its row failed, the
message is sent again with the same task id. Tasks sent through the outbox must therefore be
idempotent per task id (sync jobs resume the run that has their task id).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu import Connection
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from movierec.breaker import BROKER_BREAKER
from movierec.celery import app, task_by_name
from movierec.models import OutboxMessage

logger = structlog.get_logger(__name__)

#: What a broker outage raises while connecting or publishing (kombu wraps most as KombuError).
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuError, RedisError, OSError)


def outbox_enqueue(task: str, *, kwargs: dict[str, Any], task_id: str | None = None) -> str:
    """Ask for ``task(**kwargs)`` once the current transaction commits; return its task id.

    Never raises for a broker outage: the message waits in PostgreSQL instead.
    """
    task_id = task_id or str(uuid.uuid4())
    message = OutboxMessage.objects.create(task=task, kwargs=kwargs, task_id=task_id)
    transaction.on_commit(lambda: outbox_publish(pks=[message.pk]), robust=True)
    return task_id


def _publisher() -> Connection:
    """A broker connection that gives up within the publish timeout, not the worker's."""
    timeout = settings.CELERY_BROKER_PUBLISH_TIMEOUT
    return app.connection_for_write(
        connect_timeout=timeout,
        transport_options={"socket_timeout": timeout, "socket_connect_timeout": timeout},
    )


def outbox_publish(*, pks: Iterable[int] | None = None, min_age: float = 0.0) -> int:
    """Publish pending messages (``pks``, else every one at least ``min_age`` seconds old)
    and delete the rows the broker took; return how many it took.

    Rows are locked with SKIP LOCKED, so the commit hook and the catch-up never send one
    message at the same time.
    """
    if app.conf.task_always_eager:
        return _run_eagerly(pks=pks, min_age=min_age)
    if not BROKER_BREAKER.allow():
        return 0
    with transaction.atomic():
        messages = list(_claim(pks=pks, min_age=min_age))
        if not messages:
            BROKER_BREAKER.record_success()
            return 0
        sent: list[int] = []
        try:
            with _publisher() as connection:
                # One try: kombu's retries sleep 2 s before the second.
                connection.ensure_connection(max_retries=0)
                for message in messages:
                    try:
                        task = task_by_name(message.task)
                    except KeyError:  # a task renamed or removed since: keep it for a human
                        logger.error("outbox.unknown_task", task=message.task)
                        continue
                    task.apply_async(
                        kwargs=message.kwargs,
                        task_id=message.task_id,
                        connection=connection,
                        retry=False,
                        ignore_result=True,
                    )
                    sent.append(message.pk)
        except BROKER_ERRORS as exc:
            BROKER_BREAKER.record_failure()
            logger.warning(
                "outbox.publish_failed", pending=len(messages) - len(sent), error=str(exc)[:200]
            )
            OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).exclude(
                pk__in=sent
            ).update(attempts=F("attempts") + 1, last_error=str(exc)[:500])
        else:
            BROKER_BREAKER.record_success()
        OutboxMessage.objects.filter(pk__in=sent).delete()
    if sent:
        logger.info("outbox.published", count=len(sent))
    return len(sent)


def _claim(*, pks: Iterable[int] | None, min_age: float) -> Any:
    pending = OutboxMessage.objects.select_for_update(skip_locked=True).order_by("pk")
    if pks is not None:
        pending = pending.filter(pk__in=list(pks))
    if min_age:
        pending = pending.filter(created_at__lte=timezone.now() - timedelta(seconds=min_age))
    return pending[: settings.OUTBOX_BATCH_SIZE]


def _run_eagerly(*, pks: Iterable[int] | None, min_age: float) -> int:
    """``CELERY_TASK_ALWAYS_EAGER`` (tests, demos): run the tasks here, after taking the rows,
    outside the claiming transaction so a task's own transactions stand on their own."""
    with transaction.atomic():
        messages = list(_claim(pks=pks, min_age=min_age))
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).delete()
    for message in messages:
        task_by_name(message.task).apply_async(kwargs=message.kwargs, task_id=message.task_id)
    return len(messages)


def outbox_flush() -> int:
    """The catch-up: publish what the commit hooks could not (messages older than
    ``OUTBOX_GRACE_SECONDS``, so a hook still running is left alone); return how many."""
    total = 0
    while sent := outbox_publish(min_age=settings.OUTBOX_GRACE_SECONDS):
        total += sent
        if sent < settings.OUTBOX_BATCH_SIZE:
            break
    return total


def outbox_pending() -> int:
    """Messages waiting for the broker (health and metrics)."""
    return OutboxMessage.objects.count()


def outbox_waiting(task_ids: Iterable[str]) -> set[str]:
    """Which of ``task_ids`` still wait for the broker, so a command can say so honestly."""
    waiting = OutboxMessage.objects.filter(task_id__in=list(task_ids))
    return set(waiting.values_list("task_id", flat=True))
