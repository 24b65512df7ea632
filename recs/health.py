"""The ``model`` health check (registered with movierec.health by ``RecsConfig.ready``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from recs.services import recs_model_active


def check_model() -> dict[str, Any]:
    """Not required: recommendations fall back to popularity until a model is trained. When
    the active model's artifact is missing or failed to load here, ``degraded`` says so and
    the note names what serves instead (the previous model, or the fallback)."""
    from recs.serving import serving_status

    active = recs_model_active()
    if active is None:
        return {"version": None, "note": "no active model; serving popularity fallback"}
    result: dict[str, Any] = {"version": active.pk, "activated_at": active.activated_at}
    status = serving_status()
    artifact = Path(settings.RECS_MODEL_DIR) / active.artifact_path
    artifact_ok = bool(active.artifact_path) and artifact.exists()
    if not artifact_ok or status["failedToLoad"] == active.pk:
        served = status["serving"]
        result["degraded"] = True
        result["note"] = (
            f"active model's artifact is missing or unreadable; serving version {served}"
            if served
            else "active model's artifact is missing or unreadable; serving popularity fallback"
        )
    return result
