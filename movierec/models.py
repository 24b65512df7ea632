"""Core tables: only the outbox of Celery messages (:mod:`movierec.outbox`)."""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):
    """A Celery task a committed write asked for and the broker has not accepted yet.

    Written in the write's own transaction, deleted once published; a row that stays means the
    broker was down or hung, and ``outbox_flush`` (beat, every minute) sends it later.
    """

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    # Fixed when the write happens, so a message sent twice is one task id, run idempotently.
    task_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ("pk",)

    def __str__(self) -> str:
        return f"{self.task} {self.task_id}"
