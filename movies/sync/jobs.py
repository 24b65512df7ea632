"""The TMDb sync jobs, and ``JOBS``: the one table that says how each is run and enqueued.

Chunks run inline (the command, the demo) or as Celery tasks (``tasks.sync``) through the
``dispatch`` argument, so every caller shares one code path. The task names in ``JOBS`` are
how movies enqueues without importing the tasks package; ``CELERY_TASK_ROUTES`` sends every
``tasks.sync.*`` task to the "sync" queue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from movierec.outbox import outbox_enqueue
from movies.models import Movie, SyncRun
from movies.services import tmdb_client_from_settings
from movies.sync.runs import (
    KIND_CHANGES,
    KIND_DISCOVER,
    KIND_GENRES,
    KIND_MOVIE,
    KIND_POPULAR,
    KIND_STALE,
    KIND_TRENDING_DAY,
    KIND_TRENDING_WEEK,
    Dispatch,
    Progress,
    sync_run_begin,
    sync_run_execute,
    sync_run_fail,
    sync_run_finish,
    tmdb_ids_from_pages,
)
from movies.sync.upserts import UpsertResult, genres_upsert
from movies.tmdb import (
    TmdbClient,
)

# --- the jobs ----------------------------------------------------------------------------------


def genres_sync(*, client: TmdbClient | None = None, task_id: str = "") -> SyncRun:
    """Upsert TMDb's genre list (one request)."""
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(kind=KIND_GENRES, params={}, task_id=task_id)
    if run.status != SyncRun.Status.RUNNING:
        return run
    try:
        genres = client.genres()
        with transaction.atomic():
            _, result = genres_upsert(genres=genres)
            SyncRun.objects.filter(pk=run.pk).update(
                created=result.created, updated=result.updated, unchanged=result.unchanged
            )
    except Exception as exc:
        sync_run_fail(run=run, error=exc)
        raise
    return sync_run_finish(run_id=run.pk)


def trending_sync(
    *,
    window: str,
    pages: int | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Store the full details of TMDb's trending movies and their ranks (``TrendingEntry``)."""
    if window not in ("day", "week"):
        raise ValidationError({"window": "Window must be 'day' or 'week'."})
    pages = pages or settings.TMDB_TRENDING_PAGES
    client = client or tmdb_client_from_settings()
    kind = KIND_TRENDING_DAY if window == "day" else KIND_TRENDING_WEEK
    run = sync_run_begin(kind=kind, params={"window": window, "pages": pages}, task_id=task_id)

    def collect() -> tuple[list[int], UpsertResult]:
        return tmdb_ids_from_pages(
            client.iter_pages(client.trending, max_pages=pages, window=window)
        )

    return sync_run_execute(run, collect, client=client, dispatch=dispatch, progress=progress)


def _list_pages(pages: int | None) -> int:
    """How many list pages to walk: TMDB_POPULAR_PAGES by default, TMDb serves 1..500."""
    pages = settings.TMDB_POPULAR_PAGES if pages is None else pages
    if not 1 <= pages <= 500:
        raise ValidationError({"pages": "Pages must be between 1 and 500."})
    return pages


def popular_sync(
    *,
    pages: int | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Store the full details of the movies on TMDb's first ``pages`` popular pages."""
    pages = _list_pages(pages)
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(kind=KIND_POPULAR, params={"pages": pages}, task_id=task_id)

    def collect() -> tuple[list[int], UpsertResult]:
        return tmdb_ids_from_pages(client.iter_pages(client.popular, max_pages=pages))

    return sync_run_execute(run, collect, client=client, dispatch=dispatch, progress=progress)


#: ``/discover/movie`` filters a discover job may use (TMDb's names); anything else is refused
#: rather than silently sent, so a typo cannot turn a targeted crawl into "everything".
DISCOVER_FILTERS = frozenset(
    {
        "sort_by", "with_genres", "without_genres", "with_keywords", "with_original_language",
        "primary_release_year", "primary_release_date.gte", "primary_release_date.lte",
        "release_date.gte", "release_date.lte", "year", "region",
        "vote_average.gte", "vote_average.lte", "vote_count.gte", "vote_count.lte",
        "with_runtime.gte", "with_runtime.lte",
    }
)  # fmt: skip


def discover_sync(
    *,
    pages: int | None = None,
    filters: dict[str, str] | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Store the full details of the movies on ``/discover/movie`` pages.

    Popular stops at TMDb's page 500 (10,000 movies); discover slices the catalogue (by year,
    genre, language...) so a large catalogue is reached one slice at a time.
    """
    pages = _list_pages(pages)
    filters = dict(filters or {})
    unknown = sorted(set(filters) - DISCOVER_FILTERS)
    if unknown:
        raise ValidationError({"filters": f"Unknown discover filter(s): {', '.join(unknown)}."})
    filters.setdefault("sort_by", "popularity.desc")
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(
        kind=KIND_DISCOVER, params={"pages": pages, "filters": filters}, task_id=task_id
    )

    def collect() -> tuple[list[int], UpsertResult]:
        return tmdb_ids_from_pages(client.iter_pages(client.discover, max_pages=pages, **filters))

    return sync_run_execute(run, collect, client=client, dispatch=dispatch, progress=progress)


def movie_sync(*, tmdb_id: int, client: TmdbClient | None = None, task_id: str = "") -> SyncRun:
    """Store one movie in full now (details, genres, keywords, credits)."""
    if tmdb_id < 1:
        raise ValidationError({"tmdb_id": "TMDb ids are positive."})
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(kind=KIND_MOVIE, params={"tmdb_id": tmdb_id}, task_id=task_id)
    return sync_run_execute(
        run, lambda: ([tmdb_id], UpsertResult()), client=client, dispatch=None, progress=None
    )


def changes_since_default(*, now: datetime | None = None) -> date:
    """Where an incremental run starts: the cursor of the last completed one, else yesterday."""
    last = SyncRun.objects.filter(
        kind=KIND_CHANGES,
        status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL],
        cursor__isnull=False,
    ).aggregate(cursor=Max("cursor"))["cursor"]
    if last is not None:
        return last.date()
    return ((now or timezone.now()) - timedelta(days=1)).date()


def changes_sync(
    *,
    since: date | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Refresh the stored movies that TMDb lists in ``/movie/changes`` since ``since``.

    ``since`` defaults to the day of the last completed run's cursor (TMDb's changes are
    day-granular, so one day overlaps; unchanged payloads cost nothing). Movies we do not
    store are ignored: the changes feed covers all of TMDb.
    """
    client = client or tmdb_client_from_settings()
    now = timezone.now()
    start = since or changes_since_default(now=now)
    params = {"since": start.isoformat(), "until": now.date().isoformat()}
    run = sync_run_begin(kind=KIND_CHANGES, params=params, task_id=task_id)
    if run.status == SyncRun.Status.RUNNING and run.cursor is None:
        run.cursor = now
        run.save(update_fields=["cursor"])

    def collect() -> tuple[list[int], UpsertResult]:
        until = date.fromisoformat(run.params["until"])
        changed = list(client.iter_changes(date.fromisoformat(run.params["since"]), until))
        known = set(Movie.objects.filter(tmdb_id__in=changed).values_list("tmdb_id", flat=True))
        return [tid for tid in changed if tid in known], UpsertResult()

    return sync_run_execute(run, collect, client=client, dispatch=dispatch, progress=progress)


def stale_refresh(
    *,
    days: int | None = None,
    limit: int | None = None,
    client: TmdbClient | None = None,
    dispatch: Dispatch | None = None,
    progress: Progress | None = None,
    task_id: str = "",
) -> SyncRun:
    """Refetch movies not synced for ``days`` days (never-synced ones first)."""
    days = settings.TMDB_STALE_DAYS if days is None else days
    limit = limit or settings.TMDB_STALE_LIMIT
    client = client or tmdb_client_from_settings()
    run = sync_run_begin(kind=KIND_STALE, params={"days": days, "limit": limit}, task_id=task_id)

    def collect() -> tuple[list[int], UpsertResult]:
        cutoff = timezone.now() - timedelta(days=days)
        stale = (
            Movie.objects.filter(tmdb_id__isnull=False)
            .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=cutoff))
            .order_by(F("last_synced_at").asc(nulls_first=True), "pk")
            .values_list("tmdb_id", flat=True)[:limit]
        )
        return list(stale), UpsertResult()

    return sync_run_execute(run, collect, client=client, dispatch=dispatch, progress=progress)


# --- the table: how each job is run inline and enqueued ----------------------------------------


@dataclasses.dataclass(frozen=True)
class SyncJob:
    """One job kind: its function, the Celery task that runs it, and its arguments."""

    run: Callable[..., SyncRun]
    #: The ``tasks.sync`` task that runs it on a worker (routed by name to the "sync" queue).
    task: str
    #: Arguments the kind itself implies (trending's window).
    fixed: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Caller options the job takes: ``pages``, ``filters``, ``days``, ``tmdb_id``.
    options: tuple[str, ...] = ()
    #: Whether it reports ``progress(done, total)`` (the one-request jobs do not).
    reports_progress: bool = True

    def arguments(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**self.fixed, **{name: options.get(name) for name in self.options}}


JOBS: dict[str, SyncJob] = {
    KIND_GENRES: SyncJob(genres_sync, "tasks.sync.genres_sync", reports_progress=False),
    KIND_TRENDING_DAY: SyncJob(trending_sync, "tasks.sync.trending_sync", {"window": "day"}),
    KIND_TRENDING_WEEK: SyncJob(trending_sync, "tasks.sync.trending_sync", {"window": "week"}),
    KIND_POPULAR: SyncJob(popular_sync, "tasks.sync.popular_sync", options=("pages",)),
    KIND_DISCOVER: SyncJob(discover_sync, "tasks.sync.discover_sync", options=("pages", "filters")),
    KIND_MOVIE: SyncJob(
        movie_sync, "tasks.sync.movie_sync", options=("tmdb_id",), reports_progress=False
    ),
    KIND_CHANGES: SyncJob(changes_sync, "tasks.sync.changes_sync"),
    KIND_STALE: SyncJob(stale_refresh, "tasks.sync.stale_refresh", options=("days",)),
}


def sync_job_run(
    kind: str,
    *,
    options: dict[str, Any],
    client: TmdbClient | None = None,
    progress: Progress | None = None,
) -> SyncRun:
    """Run one job in this process (the ``sync_tmdb`` command)."""
    job = JOBS[kind]
    kwargs = job.arguments(options)
    if job.reports_progress:
        kwargs["progress"] = progress
    return job.run(client=client, **kwargs)


@dataclasses.dataclass(frozen=True)
class EnqueuedSync:
    """A job handed to the workers: its kind, Celery task id, and movie for ``movie`` jobs."""

    kind: str
    task_id: str
    tmdb_id: int | None = None


def sync_enqueue(
    *,
    kinds: Sequence[str] = (),
    tmdb_ids: Sequence[int] = (),
    pages: int | None = None,
    days: int | None = None,
    filters: dict[str, str] | None = None,
) -> list[EnqueuedSync]:
    """Enqueue sync jobs after the current transaction commits; return their task ids.

    Through the outbox (:mod:`movierec.outbox`): with the broker down the jobs are kept in
    PostgreSQL and sent by the catch-up, so the caller never fails for it.

    ``kinds`` are job kinds except ``movie``, which ``tmdb_ids`` give.
    """
    options: dict[str, Any] = {"pages": pages, "days": days, "filters": filters}
    calls: list[tuple[str, dict[str, Any], int | None]] = []
    for kind in dict.fromkeys(kinds):
        if kind not in JOBS or kind == KIND_MOVIE:
            raise ValidationError({"kinds": f"Unknown sync kind {kind!r}."})
        calls.append((kind, JOBS[kind].arguments(options), None))
    for tmdb_id in dict.fromkeys(tmdb_ids):
        calls.append((KIND_MOVIE, JOBS[KIND_MOVIE].arguments({"tmdb_id": tmdb_id}), tmdb_id))

    enqueued = []
    for kind, kwargs, tmdb_id in calls:
        task_id = outbox_enqueue(JOBS[kind].task, kwargs=kwargs)
        enqueued.append(EnqueuedSync(kind=kind, task_id=task_id, tmdb_id=tmdb_id))
    return enqueued
