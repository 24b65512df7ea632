"""Model training tasks (thin wrappers over recs.services), routed to the "ml" queue.

The training lock is taken inside ``recs.services.recs_model_train``: a run while another
one trains does nothing. They are not ``acks_late``: a training that kills its worker (out
of memory) must not be redelivered in a loop; the next scheduled run retries, and the
abandoned row is marked failed then.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from movierec.celery import app

_SKIPPED = {"status": "skipped", "reason": "another training holds the lock"}


@app.task(
    name="tasks.training.recs_model_train",
    ignore_result=False,
    soft_time_limit=settings.RECS_TRAIN_SOFT_TIME_LIMIT,
    time_limit=settings.RECS_TRAIN_TIME_LIMIT,
)
def recs_model_train(*, tune: bool = False) -> dict[str, Any]:
    """Train, evaluate and activate if the gate passes; skipped while another run trains."""
    from recs import services

    try:
        version = services.recs_model_train(tune=tune)
    except services.TrainingLocked:
        return dict(_SKIPPED)
    return {"status": version.status, "version": version.pk, "note": version.note}


@app.task(
    name="tasks.training.recs_retrain_if_needed",
    ignore_result=False,
    soft_time_limit=settings.RECS_TRAIN_SOFT_TIME_LIMIT,
    time_limit=settings.RECS_TRAIN_TIME_LIMIT,
)
def recs_retrain_if_needed() -> dict[str, Any]:
    """Retrain only when enough new feedback arrived since the last evaluated model."""
    from recs import services

    try:
        decision = services.recs_retrain_if_needed()
    except services.TrainingLocked:
        return dict(_SKIPPED)
    version = decision.version
    return {
        "status": version.status if version else "not-needed",
        "version": version.pk if version else None,
        "new_feedback": decision.new_feedback,
        "reason": decision.reason,
    }
