"""The ``model`` entry of ``GET /healthz``, registered from ``RecsConfig.ready()``."""

from __future__ import annotations

from typing import Any


def check_model() -> dict[str, Any]:
    """Not required: recommendations fall back to popularity until a model is trained."""
    from recs.services import recs_model_active

    active = recs_model_active()
    if active is None:
        return {"version": None, "note": "no active model; serving popularity fallback"}
    return {"version": active.pk, "activated_at": active.activated_at}
