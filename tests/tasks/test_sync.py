"""Sync tasks on real Celery workers, through the real broker, against the dev server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_celery_beat.models import PeriodicTask
from kombu import Connection

from movierec.celery import app
from movies.models import Credit, Movie, SyncRun
from movies.sync.jobs import sync_enqueue
from tasks import sync as sync_tasks
from tasks.schedule import BEAT_SCHEDULE
from tests.movies.sync_fixtures import CATALOGUE_SIZE, PAGES

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _finished_runs(kind: str, count: int = 1) -> list[SyncRun]:
    runs = list(SyncRun.objects.filter(kind=kind).exclude(status=SyncRun.Status.RUNNING))
    return runs if len(runs) >= count else []


@pytest.mark.worker
def test_full_sync_on_a_worker_then_nothing_changes(celery_worker, tmdb_server, sync_catalogue):
    sync_tasks.popular_sync.delay(pages=PAGES)
    (run,) = _wait_for(lambda: _finished_runs("popular"), 60, "the first run")

    assert (run.status, run.created, run.updated, run.unchanged, run.failed) == (
        SyncRun.Status.SUCCEEDED,
        CATALOGUE_SIZE,
        0,
        0,
        0,
    )
    assert run.task_id and run.chunks_total == len(run.chunks_done) == 6
    assert set(Movie.objects.values_list("tmdb_id", flat=True)) == set(sync_catalogue.movies)

    sync_tasks.popular_sync.delay(pages=PAGES)
    runs = _wait_for(lambda: _finished_runs("popular", 2), 60, "the second run")
    second = next(r for r in runs if r.pk != run.pk)
    assert (second.created, second.updated, second.unchanged) == (0, 0, CATALOGUE_SIZE)


@pytest.mark.worker
def test_faults_are_retried_on_the_worker(celery_worker, tmdb_server):
    tmdb_server.inject_faults(429, count=3, retry_after=1)
    tmdb_server.inject_faults(502, count=2)

    sync_tasks.popular_sync.delay(pages=PAGES)
    (run,) = _wait_for(lambda: _finished_runs("popular"), 60, "the run")

    assert (run.status, run.created, run.failed) == (SyncRun.Status.SUCCEEDED, CATALOGUE_SIZE, 0)
    assert tmdb_server.stats()["by_status"]["429"] == 3


@pytest.mark.worker
def test_concurrent_runs_on_workers_do_not_duplicate(celery_worker, tmdb_server):
    sync_tasks.popular_sync.delay(pages=PAGES)
    sync_tasks.popular_sync.delay(pages=PAGES)
    sync_tasks.trending_sync.delay(window="week", pages=3)

    runs = _wait_for(lambda: _finished_runs("popular", 2), 60, "both popular runs")
    _wait_for(lambda: _finished_runs("trending_week"), 60, "the trending run")

    assert {r.status for r in runs} <= {SyncRun.Status.SUCCEEDED, SyncRun.Status.SKIPPED}
    assert (
        sum(r.created for r in runs)
        + sum(r.created for r in SyncRun.objects.filter(kind="trending_week"))
        == CATALOGUE_SIZE
    )
    assert Movie.objects.count() == CATALOGUE_SIZE
    unique_roles = Credit.objects.values("movie", "person", "kind", "character", "job").distinct()
    assert unique_roles.count() == Credit.objects.count()


def _worker(name: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "movierec", "worker", "--pool", "solo",
         "-Q", "sync", "-n", f"{name}@%h", "--without-mingle", "--without-gossip",
         "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.worker
@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing(transactional_db, tmdb_server, settings):
    """SIGKILL a worker while it holds a chunk; a second worker gets the message redelivered
    after the (short, for this test) visibility timeout and the run completes exactly."""
    # kombu's own Redis client: it understands every broker URL form (redis+socket:// too).
    broker_connection = Connection(django_settings.CELERY_BROKER_URL)
    broker = broker_connection.default_channel.client
    app.control.purge()
    broker.delete("unacked", "unacked_index")
    tmdb_server.app.latency_ms = 60  # chunks take a moment, so the kill lands inside one
    db_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "movierec.settings.test",
        "DATABASE_URL": db_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "TMDB_API_URL": tmdb_server.base_url,
        "TMDB_READ_TOKEN": "dev-token",
        "TMDB_RATE_LIMIT": "0",
        "TMDB_SYNC_CHUNK_SIZE": "20",
        "TMDB_SYNC_THREADS": "4",
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    first = _worker("first", env)
    second = None
    try:
        sync_tasks.popular_sync.apply_async(kwargs={"pages": PAGES})
        run = _wait_for(
            lambda: SyncRun.objects.filter(kind="popular", chunks_total__gt=0).first(), 30, "plan"
        )
        _wait_for(lambda: len(SyncRun.objects.get(pk=run.pk).chunks_done) >= 2, 30, "2 chunks")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        in_flight = broker.hlen("unacked")
        done_at_kill = len(SyncRun.objects.get(pk=run.pk).chunks_done)
        assert in_flight == 1, "the killed worker held one unacknowledged chunk"
        assert done_at_kill < run.chunks_total

        second = _worker("second", env)
        _wait_for(
            lambda: SyncRun.objects.get(pk=run.pk).status != SyncRun.Status.RUNNING,
            40,
            "the second worker to finish the run",
        )
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(15)
        tmdb_server.app.latency_ms = 0
        app.conf.task_always_eager = True
        broker_connection.release()

    run.refresh_from_db()
    assert (run.status, run.created, run.updated, run.failed) == (
        SyncRun.Status.SUCCEEDED,
        CATALOGUE_SIZE,
        0,
        0,
    )
    assert sorted(run.chunks_done) == list(range(run.chunks_total)) == list(range(15))
    assert Movie.objects.count() == CATALOGUE_SIZE


def test_enqueue_runs_the_jobs_after_commit(
    db, tmdb_server, sync_catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        jobs = sync_enqueue(kinds=["genres", "popular"], tmdb_ids=[603], pages=1)

    assert [(j.kind, j.tmdb_id) for j in jobs] == [
        ("genres", None),
        ("popular", None),
        ("movie", 603),
    ]
    runs = {r.task_id: r for r in SyncRun.objects.all()}
    assert {j.task_id for j in jobs} == set(runs)
    assert {r.kind: r.status for r in runs.values()} == {
        "genres": SyncRun.Status.SUCCEEDED,
        "popular": SyncRun.Status.SUCCEEDED,
        "movie": SyncRun.Status.SUCCEEDED,
    }
    expected = set(sync_catalogue.popular_ids()[:20]) | {603}
    assert set(Movie.objects.values_list("tmdb_id", flat=True)) == expected


def test_tasks_are_late_acked_retried_and_routed_to_sync():
    for task in (
        sync_tasks.genres_sync,
        sync_tasks.trending_sync,
        sync_tasks.popular_sync,
        sync_tasks.movie_sync,
        sync_tasks.changes_sync,
        sync_tasks.stale_refresh,
        sync_tasks.movies_sync_chunk,
    ):
        assert task.acks_late and task.reject_on_worker_lost, task.name
        assert task.max_retries == 5 and task.time_limit == 600, task.name
        assert app.amqp.router.route({}, task.name)["queue"].name == "sync"
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > sync_tasks.SYNC_TASK_OPTIONS["time_limit"]


def test_beat_copies_the_default_schedule_into_the_database(transactional_db):
    from django_celery_beat.schedulers import DatabaseScheduler

    DatabaseScheduler(app=app)

    tasks = {t.name: t for t in PeriodicTask.objects.exclude(name="celery.backend_cleanup")}
    assert set(tasks) == set(BEAT_SCHEDULE)
    assert tasks["sync-trending-day"].task == "tasks.sync.trending_sync"
    assert tasks["sync-trending-day"].kwargs == '{"window": "day"}'
    assert (tasks["sync-trending-day"].crontab.minute, tasks["sync-trending-day"].crontab.hour) == (
        "5",
        "*",
    )
    assert (tasks["sync-changes"].crontab.hour, tasks["sync-changes"].crontab.minute) == ("3", "15")
    assert tasks["sync-genres"].crontab.day_of_week == "1"
