"""The ``model`` entry of ``GET /healthz``, registered from ``RecsConfig.ready()``."""

from __future__ import annotations

from typing import Any

from recs.models import ModelVersion


def check_model() -> dict[str, Any]:
    """Not required: recommendations fall back to popularity until a model is trained."""
    active = ModelVersion.objects.active().first()
    if active is None:
        return {"version": None, "note": "no active model; serving popularity fallback"}
    return {"version": active.pk, "activated_at": active.activated_at}
