"""The broker down or hung while a write asks for follow-up work (issue 11, faults).

Before: ``syncTmdb`` published its jobs in a commit hook with kombu's defaults, so a refused
broker cost the request 6 s (19 s with the result backend on the same Redis) of connection
retries and then failed it, after the write had committed. Now the jobs go through the outbox
(``movierec/outbox.py``): the write succeeds within the publish timeout, the jobs wait in
PostgreSQL, and once the broker is back the catch-up beat sends
(``tasks.outbox.outbox_flush``) publishes them and a real worker runs them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from celery import Celery
from kombu import Connection

from movierec.models import OutboxMessage
from movies.models import SyncRun
from tests.hardening.conftest import (
    ROOT,
    LiveServer,
    OwnRedis,
    _wait,
    server_env,
    started_redis,
)
from tests.movies.sync_fixtures import _sync_server, sync_catalogue  # noqa: F401
from tests.users.conftest import STRONG_PASSWORD
from users.models import User

pytestmark = [pytest.mark.worker, pytest.mark.slow]

SYNC = """mutation { syncTmdb(kinds: [GENRES]) { jobs { kind taskId } } }"""
# The web process gives a publish CELERY_BROKER_PUBLISH_TIMEOUT (0.5 s); a request that
# enqueues must stay well inside this, connection retries included.
BUDGET = 1.5


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    """A Redis of its own as the broker, so stopping it leaves the cache (own_redis) up."""
    yield from started_redis(tmp_path_factory, "broker")


@pytest.fixture(scope="module")
def env(
    test_database_url: str,
    own_redis: OwnRedis,
    broker: OwnRedis,
    _sync_server: Any,  # noqa: F811
) -> dict[str, str]:
    env = server_env(own_redis.url, broker.broker_url, test_database_url, REDIS_BREAKER_SECONDS="1")
    env.update(
        CELERY_RESULT_BACKEND=own_redis.broker_url,
        TMDB_API_URL=_sync_server.base_url,
        TMDB_READ_TOKEN="dev-token",
        TMDB_API_KEY="",
        TMDB_RATE_LIMIT="0",
    )
    return env


@pytest.fixture(scope="module")
def web(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(env, tmp_path_factory.mktemp("gunicorn-broker") / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(env: dict[str, str], tmp_path: Any) -> Iterator[Any]:
    """Starts a Celery worker on demand (the catch-up runs on it, with no grace period)."""
    procs: list[subprocess.Popen] = []
    log = tmp_path / "worker.log"

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "movierec", "worker", "--pool", "solo",
             "-Q", "default,sync", "-n", "outbox@%h", "--without-mingle", "--without-gossip",
             "--without-heartbeat", "--loglevel", "INFO"],
            cwd=ROOT, env={**env, "OUTBOX_GRACE_SECONDS": "0"},
            stdout=subprocess.DEVNULL, stderr=open(log, "wb"),  # noqa: SIM115
        )  # fmt: skip
        procs.append(proc)
        return proc

    start.log = log  # type: ignore[attr-defined]
    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture
def staff_token(web: LiveServer, broker: OwnRedis, transactional_db: Any) -> str:
    if broker.proc is None or broker.proc.poll() is not None:
        broker.start()
    broker.resume()
    User.objects.create_user("ops", "ops@example.com", STRONG_PASSWORD, is_staff=True)
    body = web.graphql(
        "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access } }",
        {"u": "ops", "p": STRONG_PASSWORD},
    ).json()
    return body["data"]["tokenAuth"]["access"]


def _enqueue(web: LiveServer, token: str) -> tuple[str, float]:
    started = time.perf_counter()
    response = web.graphql(SYNC, token=token)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    (job,) = body["data"]["syncTmdb"]["jobs"]
    assert job["kind"] == "GENRES"
    return job["taskId"], elapsed


def _catch_up(broker: OwnRedis) -> None:
    """What beat does every minute: send the catch-up task to the workers."""
    with Connection(broker.broker_url) as connection:
        Celery().send_task("tasks.outbox.outbox_flush", queue="default", connection=connection)


def _runs_done(task_ids: set[str]) -> bool:
    done = SyncRun.objects.filter(task_id__in=task_ids).exclude(status=SyncRun.Status.RUNNING)
    return done.count() == len(task_ids)


def test_a_write_succeeds_with_the_broker_down_and_its_work_runs_later(
    web: LiveServer, broker: OwnRedis, staff_token: str, worker: Any
) -> None:
    broker.kill()  # refused at once

    task_ids = set()
    for _ in range(2):
        task_id, elapsed = _enqueue(web, staff_token)
        assert elapsed < BUDGET, elapsed
        task_ids.add(task_id)

    pending = {m.task_id: m for m in OutboxMessage.objects.all()}
    assert set(pending) == task_ids
    assert all(m.task == "tasks.sync.genres_sync" for m in pending.values())
    assert not SyncRun.objects.exists()
    metrics = requests.get(f"{web.url}/metrics", timeout=10).text
    assert re.search(r"^movierec_outbox_pending 2\.0$", metrics, re.M), metrics[-2000:]

    broker.start()
    worker()
    _catch_up(broker)
    _wait(lambda: _runs_done(task_ids), 60, f"the jobs to run\n{worker.log.read_text()[-3000:]}")

    statuses = SyncRun.objects.filter(task_id__in=task_ids).values_list("status", flat=True)
    assert set(statuses) == {SyncRun.Status.SUCCEEDED}
    assert not OutboxMessage.objects.exists()


def test_a_hung_broker_costs_one_publish_timeout_then_none(
    web: LiveServer, broker: OwnRedis, staff_token: str, worker: Any
) -> None:
    broker.hang()  # SIGSTOP: connections are accepted, nothing answers
    try:
        first, elapsed_first = _enqueue(web, staff_token)
        second, elapsed_second = _enqueue(web, staff_token)
    finally:
        broker.resume()

    assert elapsed_first < BUDGET, elapsed_first
    assert elapsed_second < BUDGET, elapsed_second
    assert set(OutboxMessage.objects.values_list("task_id", flat=True)) == {first, second}
    health = requests.get(f"{web.url}/readyz", timeout=10)
    assert health.status_code == 200  # the broker is optional for serving

    worker()
    _catch_up(broker)
    _wait(lambda: _runs_done({first, second}), 60, "the jobs to run")
    assert not OutboxMessage.objects.exists()


def test_with_the_broker_up_the_commit_hook_publishes_at_once(
    web: LiveServer, broker: OwnRedis, staff_token: str, worker: Any
) -> None:
    worker()
    task_id, _ = _enqueue(web, staff_token)

    _wait(lambda: _runs_done({task_id}), 60, "the job to run")
    assert SyncRun.objects.get(task_id=task_id).status == SyncRun.Status.SUCCEEDED
    assert not OutboxMessage.objects.exists()


def _train_async(env: dict[str, str]) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "train_model", "--async"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, elapsed


def test_train_model_async_keeps_its_request_in_the_outbox_while_the_broker_is_down(
    env: dict[str, str], broker: OwnRedis, staff_token: str
) -> None:
    broker.kill()
    try:
        out, _ = _train_async(env)
        (message,) = OutboxMessage.objects.all()
        assert message.task == "tasks.training.recs_model_train"
        assert message.kwargs == {"tune": False}
        assert f"training task {message.task_id} waits in the outbox" in out, out
    finally:
        broker.start()

    out, _ = _train_async(env)
    assert "queued training task" in out, out
    assert OutboxMessage.objects.count() == 1  # only the one still waiting for the catch-up
