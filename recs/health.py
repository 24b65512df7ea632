"""The ``model`` health check (registered with movierec.health by ``RecsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from recs.artifact_store import artifact_exists
from recs.services import recs_model_active


def check_model() -> dict[str, Any]:
    """Not required: recommendations fall back to popularity until a model is trained.

    The check makes this process load the active version if it has not yet (so readiness
    means "the model is in memory"), and reports what it serves (``serving``). When the
    active model's artifact is missing or failed to load here (corrupt, object store down),
    ``degraded`` says so and the note names what serves instead (the previous model, or
    the fallback). The store is asked only when this process does not serve the active
    version, so a healthy probe costs no request to object storage.
    """
    from recs.serving import active_model, serving_status

    active = recs_model_active()
    if active is None:
        return {"version": None, "note": "no active model; serving popularity fallback"}
    active_model()
    status = serving_status()
    served = status["serving"]
    result: dict[str, Any] = {
        "version": active.pk,
        "activated_at": active.activated_at,
        "serving": served,
    }
    if status["failedToLoad"] == active.pk or (
        served != active.pk and not artifact_exists(active.artifact_path)
    ):
        result["degraded"] = True
        result["note"] = (
            f"active model's artifact is missing or unreadable; serving version {served}"
            if served
            else "active model's artifact is missing or unreadable; serving popularity fallback"
        )
    return result
