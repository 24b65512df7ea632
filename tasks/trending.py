"""Trending refresh (a thin wrapper over ``recs.services.trending_refresh``), sent by beat.

On the default queue: a few aggregate queries, not worth a pool of their own, and never
behind a training (``ml``) or a burst of sync chunks (``sync``).
"""

from __future__ import annotations

from movierec.celery import app


@app.task(name="tasks.trending.trending_refresh", ignore_result=True, soft_time_limit=240,
          time_limit=300)  # fmt: skip
def trending_refresh() -> dict[str, int]:
    """Recompute both trending windows into the cache, so requests only read them."""
    from recs.services import trending_refresh

    return trending_refresh()
