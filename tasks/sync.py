"""TMDb sync tasks: thin wrappers over ``movies.sync.jobs`` (routed to the "sync" queue).

``movies.sync.jobs.JOBS`` names the task of each job kind; ``sync_enqueue`` there enqueues them.

Coordinator tasks (one per job) take the job's lock, collect ids and fan the work out as a
group of chunk tasks, so a 10,000-movie sync runs on every sync worker at once. All of them are
idempotent, hence ``acks_late`` + ``reject_on_worker_lost``: a worker that dies mid-task leaves
its message unacknowledged and the broker redelivers it after the visibility timeout
(``CELERY_BROKER_TRANSPORT_OPTIONS``; it must exceed ``time_limit``, and does: 3600 s vs 600 s).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import Task, group
from django.db import transaction

from movierec.celery import app
from movies.tmdb import TRANSIENT_ERRORS

SYNC_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,  # well under the visibility timeout
    "retry_jitter": True,
    "max_retries": 5,
    "soft_time_limit": 540,
    "time_limit": 600,
    "ignore_result": True,
}


class SyncTask(Task):
    """Closes the books when a sync task gives up, so no run stays "running" forever."""

    abstract = True

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        from movies.sync import runs

        if self.name == movies_sync_chunk.name:
            run_id, index, tmdb_ids = (list(args) + [None, None, None])[:3]
            run_id = kwargs.get("run_id", run_id)
            index = kwargs.get("index", index)
            tmdb_ids = kwargs.get("tmdb_ids", tmdb_ids) or []
            runs.sync_chunk_fail(run_id=run_id, index=index, tmdb_ids=tmdb_ids, error=exc)
        else:
            runs.sync_run_abort(task_id=task_id, error=exc)


def _dispatch_chunks(run_id: int, chunks: list[tuple[int, list[int]]]) -> None:
    """Fan the chunks out as one group (sent after the run's plan is committed)."""
    signatures = group(movies_sync_chunk.si(run_id, index, ids) for index, ids in chunks)
    transaction.on_commit(signatures.apply_async)


@app.task(name="tasks.sync.movies_sync_chunk", base=SyncTask, **SYNC_TASK_OPTIONS)
def movies_sync_chunk(self: Task, run_id: int, index: int, tmdb_ids: list[int]) -> None:
    from movies.sync.runs import sync_chunk_run

    sync_chunk_run(run_id=run_id, index=index, tmdb_ids=tmdb_ids)


@app.task(name="tasks.sync.genres_sync", base=SyncTask, **SYNC_TASK_OPTIONS)
def genres_sync(self: Task) -> None:
    from movies.sync.jobs import genres_sync

    genres_sync(task_id=self.request.id)


@app.task(name="tasks.sync.trending_sync", base=SyncTask, **SYNC_TASK_OPTIONS)
def trending_sync(self: Task, window: str = "week", pages: int | None = None) -> None:
    from movies.sync.jobs import trending_sync

    trending_sync(window=window, pages=pages, dispatch=_dispatch_chunks, task_id=self.request.id)


@app.task(name="tasks.sync.popular_sync", base=SyncTask, **SYNC_TASK_OPTIONS)
def popular_sync(self: Task, pages: int | None = None) -> None:
    from movies.sync.jobs import popular_sync

    popular_sync(pages=pages, dispatch=_dispatch_chunks, task_id=self.request.id)


@app.task(name="tasks.sync.discover_sync", base=SyncTask, **SYNC_TASK_OPTIONS)
def discover_sync(
    self: Task, pages: int | None = None, filters: dict[str, str] | None = None
) -> None:
    from movies.sync.jobs import discover_sync

    discover_sync(pages=pages, filters=filters, dispatch=_dispatch_chunks, task_id=self.request.id)


@app.task(name="tasks.sync.movie_sync", base=SyncTask, **SYNC_TASK_OPTIONS)
def movie_sync(self: Task, tmdb_id: int) -> None:
    from movies.sync.jobs import movie_sync

    movie_sync(tmdb_id=tmdb_id, task_id=self.request.id)


@app.task(name="tasks.sync.changes_sync", base=SyncTask, **SYNC_TASK_OPTIONS)
def changes_sync(self: Task, since: str | None = None) -> None:
    from movies.sync.jobs import changes_sync

    start = date.fromisoformat(since) if since else None
    changes_sync(since=start, dispatch=_dispatch_chunks, task_id=self.request.id)


@app.task(name="tasks.sync.stale_refresh", base=SyncTask, **SYNC_TASK_OPTIONS)
def stale_refresh(self: Task, days: int | None = None) -> None:
    from movies.sync.jobs import stale_refresh

    stale_refresh(days=days, dispatch=_dispatch_chunks, task_id=self.request.id)
