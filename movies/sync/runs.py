"""Sync run bookkeeping: begin (lock + ``SyncRun``), plan, chunks, finish.

Every job has the same shape: *begin* (take the job's lock, record a running ``SyncRun``),
*collect* the TMDb ids to fetch, *plan* them as chunks, run each chunk (fetch full details
concurrently, upsert them in one transaction together with the run's counters) and *finish*
(write trending entries, set the status, release the lock, bump the trending cache version).

- a chunk's writes and its counting commit together, and ``SyncRun.chunks_done`` records which
  chunks were counted, so a chunk redelivered after a worker died is neither lost nor counted
  twice; the chunk that completes the run closes it;
- a redelivered coordinator task finds its run by ``task_id`` and re-dispatches what is missing;
- a second run of the same job while one is running is recorded as ``skipped``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from movierec.locks import lock_acquire, lock_release
from movies.models import Movie, SyncRun, TrendingEntry
from movies.services import tmdb_client_from_settings, trending_cache_bump
from movies.sync.upserts import (
    MAX_ERROR_SAMPLES,
    UpsertResult,
    movie_details_fetch,
    movies_upsert_from_tmdb,
    retrying_deadlocks,
)
from movies.tmdb import (
    TRANSIENT_ERRORS,
    TmdbClient,
    TmdbMovieDetail,
)

KIND_GENRES = "genres"
KIND_TRENDING_DAY = "trending_day"
KIND_TRENDING_WEEK = "trending_week"
KIND_POPULAR = "popular"
KIND_DISCOVER = "discover"
KIND_MOVIE = "movie"
KIND_CHANGES = "changes"
KIND_STALE = "stale"
KINDS = (
    KIND_GENRES,
    KIND_TRENDING_DAY,
    KIND_TRENDING_WEEK,
    KIND_POPULAR,
    KIND_DISCOVER,
    KIND_MOVIE,
    KIND_CHANGES,
    KIND_STALE,
)

#: Cache key the recommendations read: every trending/recommendation cache key embeds it,

Progress = Callable[[int, int], None]
"""``progress(done, total)``: movies handled so far out of those planned."""
Dispatch = Callable[[int, list[tuple[int, list[int]]]], None]
"""``dispatch(run_id, [(chunk_index, tmdb_ids), ...])``: hand chunks to workers."""


# --- runs: begin, plan, chunks, finish ---------------------------------------------------------


def _lock_name(kind: str, params: dict[str, Any]) -> str:
    if kind == KIND_MOVIE:
        return f"sync:{kind}:{params['tmdb_id']}"
    return f"sync:{kind}"


def sync_run_begin(*, kind: str, params: dict[str, Any], task_id: str = "") -> SyncRun:
    """Record a run and take its job's lock; a run that cannot is saved as ``skipped``.

    With a ``task_id`` already used by a run (a redelivered or retried task), that run is
    returned instead, so the task resumes it.
    """
    if kind not in KINDS:
        raise ValidationError({"kind": f"Unknown sync kind {kind!r}."})
    if task_id:
        previous = SyncRun.objects.filter(task_id=task_id).first()
        if previous is not None:
            return previous
    run = SyncRun(kind=kind, params=params, task_id=task_id)
    run.full_clean()
    run.save()
    lock = _lock_name(kind, params)
    if not lock_acquire(lock, str(run.pk), timeout=settings.TMDB_SYNC_LOCK_TIMEOUT):
        run.status = SyncRun.Status.SKIPPED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        return run
    if kind != KIND_MOVIE:
        # We hold the lock, so any other "running" run of this job lost it (its worker died
        # and the lock expired): close it for the record.
        SyncRun.objects.filter(kind=kind, status=SyncRun.Status.RUNNING).exclude(pk=run.pk).update(
            status=SyncRun.Status.FAILED,
            finished_at=timezone.now(),
            error_samples=[{"tmdb_id": None, "error": "abandoned: its lock expired"}],
        )
    return run


def _chunks(run: SyncRun) -> list[tuple[int, list[int]]]:
    size = int(run.params.get("chunk_size") or settings.TMDB_SYNC_CHUNK_SIZE)
    ids = list(run.tmdb_ids)
    return [(i, ids[start : start + size]) for i, start in enumerate(range(0, len(ids), size))]


def sync_run_plan(
    *, run: SyncRun, tmdb_ids: Sequence[int], failures: UpsertResult | None = None
) -> list[tuple[int, list[int]]]:
    """Fix the ids a run will fetch and its chunks; list-level failures are counted now."""
    run.tmdb_ids = list(dict.fromkeys(tmdb_ids))
    run.params = {**run.params, "chunk_size": settings.TMDB_SYNC_CHUNK_SIZE}
    chunks = _chunks(run)
    run.chunks_total = len(chunks)
    if failures is not None:
        run.failed += failures.failed
        run.error_samples = (run.error_samples + failures.errors)[:MAX_ERROR_SAMPLES]
    run.save(update_fields=["tmdb_ids", "params", "chunks_total", "failed", "error_samples"])
    return chunks


def sync_run_pending_chunks(*, run: SyncRun) -> list[tuple[int, list[int]]]:
    done = set(run.chunks_done)
    return [(index, ids) for index, ids in _chunks(run) if index not in done]


def _chunk_record(run_id: int, index: int, result: UpsertResult) -> bool:
    """Count a chunk once (inside the chunk's transaction); True when the run is complete."""
    run = SyncRun.objects.select_for_update().get(pk=run_id)
    if index in run.chunks_done:
        return len(run.chunks_done) >= run.chunks_total
    run.created += result.created
    run.updated += result.updated
    run.unchanged += result.unchanged
    run.failed += result.failed
    run.error_samples = (run.error_samples + result.errors)[:MAX_ERROR_SAMPLES]
    run.chunks_done = [*run.chunks_done, index]
    run.save(
        update_fields=["created", "updated", "unchanged", "failed", "error_samples", "chunks_done"]
    )
    return len(run.chunks_done) >= run.chunks_total


def sync_chunk_run(
    *,
    run_id: int,
    index: int,
    tmdb_ids: Sequence[int],
    client: TmdbClient | None = None,
    fetched: tuple[list[TmdbMovieDetail], UpsertResult] | None = None,
) -> UpsertResult | None:
    """Fetch and store one chunk of a run, count it, and close the run if it was the last.

    ``fetched`` is the chunk's :func:`movie_details_fetch` result when the caller prefetched
    it. Returns None when the chunk had already been counted (a redelivered message).
    """
    run = SyncRun.objects.get(pk=run_id)
    if run.status != SyncRun.Status.RUNNING:
        return None
    if index in run.chunks_done:
        if len(run.chunks_done) >= run.chunks_total:
            sync_run_finish(run_id=run_id)
        return None
    if fetched is None:
        client = client or tmdb_client_from_settings()
        fetched = movie_details_fetch(client=client, tmdb_ids=tmdb_ids)
    details, failures = fetched

    def write() -> tuple[UpsertResult, bool]:
        with transaction.atomic():
            result = movies_upsert_from_tmdb(details=details)
            result.add(failures)
            return result, _chunk_record(run_id, index, result)

    result, complete = retrying_deadlocks(write)
    if complete:
        sync_run_finish(run_id=run_id)
    return result


def sync_chunk_fail(*, run_id: int, index: int, tmdb_ids: Sequence[int], error: object) -> None:
    """Count a chunk whose retries are exhausted as failed, so its run still closes."""
    result = UpsertResult()
    for tmdb_id in tmdb_ids:
        result.fail(tmdb_id, error)
    with transaction.atomic():
        complete = _chunk_record(run_id, index, result)
    if complete:
        sync_run_finish(run_id=run_id)


def _trending_entries_replace(run: SyncRun, synced_at: datetime) -> None:
    window = run.params["window"]
    pks = dict(Movie.objects.filter(tmdb_id__in=run.tmdb_ids).values_list("tmdb_id", "pk"))
    entries = [
        TrendingEntry(window=window, movie_id=pks[tid], rank=rank, synced_at=synced_at)
        for rank, tid in enumerate((t for t in run.tmdb_ids if t in pks), start=1)
    ]
    TrendingEntry.objects.filter(window=window).delete()
    TrendingEntry.objects.bulk_create(entries)


def sync_run_finish(*, run_id: int) -> SyncRun:
    """Close a run once: kind-specific final writes, status, lock release, cache bump."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.status != SyncRun.Status.RUNNING:
            return run
        now = timezone.now()
        if run.kind in (KIND_TRENDING_DAY, KIND_TRENDING_WEEK):
            _trending_entries_replace(run, now)
        stored = run.created + run.updated + run.unchanged
        if not run.failed:
            run.status = SyncRun.Status.SUCCEEDED
        elif stored:
            run.status = SyncRun.Status.PARTIAL
        else:
            run.status = SyncRun.Status.FAILED
        run.finished_at = now
        run.save(update_fields=["status", "finished_at"])
    lock_release(_lock_name(run.kind, run.params), str(run.pk))
    if run.created or run.updated or run.kind in (KIND_TRENDING_DAY, KIND_TRENDING_WEEK):
        transaction.on_commit(trending_cache_bump)
    return run


def sync_run_fail(*, run: SyncRun, error: object) -> None:
    """Fail a run that stopped with an error, keep the error as a sample, free its lock."""
    run.refresh_from_db()
    if run.status != SyncRun.Status.RUNNING:
        return
    run.status = SyncRun.Status.FAILED
    run.finished_at = timezone.now()
    sample = {"tmdb_id": None, "error": str(error)[:500] or type(error).__name__}
    run.error_samples = [*run.error_samples, sample][-MAX_ERROR_SAMPLES:]
    run.save(update_fields=["status", "finished_at", "error_samples"])
    lock_release(_lock_name(run.kind, run.params), str(run.pk))


def sync_run_abort(*, task_id: str, error: object) -> None:
    """Fail the running run of a coordinator task that gave up (retries exhausted)."""
    run = SyncRun.objects.filter(task_id=task_id, status=SyncRun.Status.RUNNING).first()
    if run is not None:
        sync_run_fail(run=run, error=error)


def sync_run_execute(
    run: SyncRun,
    collect: Callable[[], tuple[list[int], UpsertResult]],
    *,
    client: TmdbClient,
    dispatch: Dispatch | None,
    progress: Progress | None,
) -> SyncRun:
    """Plan (unless resuming) and run or dispatch the chunks of a running run."""
    if run.status != SyncRun.Status.RUNNING:
        return run
    if run.chunks_total == 0 and not run.tmdb_ids:
        try:
            tmdb_ids, failures = collect()
        except Exception as exc:
            if dispatch is None or not isinstance(exc, TRANSIENT_ERRORS):
                sync_run_fail(run=run, error=exc)
            raise
        sync_run_plan(run=run, tmdb_ids=tmdb_ids, failures=failures)
    pending = sync_run_pending_chunks(run=run)
    if not pending:
        return sync_run_finish(run_id=run.pk)
    if dispatch is not None:
        dispatch(run.pk, pending)
        run.refresh_from_db()
        return run
    total = len(run.tmdb_ids)
    done = total - sum(len(ids) for _, ids in pending)
    if progress:
        progress(done, total)
    # In-process: fetch the next chunk while this one is written (HTTP and PostgreSQL overlap).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tmdb-prefetch") as prefetcher:

        def prefetch(ids: list[int]) -> Any:
            return prefetcher.submit(movie_details_fetch, client=client, tmdb_ids=ids)

        upcoming = prefetch(pending[0][1])
        for position, (index, ids) in enumerate(pending):
            try:
                fetched = upcoming.result()
                if position + 1 < len(pending):
                    upcoming = prefetch(pending[position + 1][1])
                sync_chunk_run(run_id=run.pk, index=index, tmdb_ids=ids, fetched=fetched)
            except Exception as exc:
                upcoming.cancel()
                sync_run_fail(run=run, error=exc)
                raise
            done += len(ids)
            if progress:
                progress(done, total)
    run.refresh_from_db()
    return run


def tmdb_ids_from_pages(pages: Iterable[Any]) -> tuple[list[int], UpsertResult]:
    ids: list[int] = []
    failures = UpsertResult()
    for page in pages:
        ids.extend(movie.id for movie in page.results)
        for error in page.errors:
            failures.fail(None, error)
    return list(dict.fromkeys(ids)), failures
