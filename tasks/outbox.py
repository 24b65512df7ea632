"""The outbox catch-up (``movierec.outbox``): beat sends it every minute."""

from __future__ import annotations

from movierec.celery import app


@app.task(name="tasks.outbox.outbox_flush", ignore_result=True)
def outbox_flush() -> int:
    """Publish the follow-up work that writes left behind while the broker was down."""
    from movierec.outbox import outbox_flush

    return outbox_flush()
