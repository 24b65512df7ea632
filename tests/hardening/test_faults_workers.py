"""A Celery worker SIGKILLed mid-training (issue 11, defect 6).

Before: the training lock kept its 2 h 10 min TTL, so no training could run for that long, and
the version stayed ``training`` forever. Now the lock has a short TTL renewed by a heartbeat:
it is free within the TTL of the kill, and the next run marks the version failed with the
reason, while the active model keeps serving. (A worker killed mid-sync is proven by
tests/tasks/test_sync.py::test_a_worker_killed_mid_run_loses_nothing.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from kombu import Connection

from recs.models import ModelVersion
from tests.hardening.conftest import ROOT, OwnRedis, database_url_for_tests, server_env
from tests.recs.training.conftest import model_dir, planted_committed  # noqa: F401

LOCK_KEY = "movierec:lock:recs-train"
LOCK_TTL = 3


def _wait_for(predicate: Any, timeout: float, what: str, logs: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    statuses = list(ModelVersion.objects.values_list("status", "error"))
    raise AssertionError(
        f"timed out waiting for {what}; versions {statuses}\n{logs() if logs else ''}"
    )


class Workers:
    def __init__(self, env: dict[str, str], log_dir: Any) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def logs(self) -> str:
        return "\n".join(p.read_text()[-6000:] for p in sorted(self.log_dir.glob("*.log")))

    def start(self, name: str, **extra_env: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "movierec", "worker", "--pool", "solo",
             "-Q", "ml", "-n", f"{name}@%h", "--without-mingle", "--without-gossip",
             "--without-heartbeat", "--loglevel", "INFO"],
            cwd=ROOT, env={**self.env, **extra_env},
            stdout=subprocess.DEVNULL, stderr=open(self.log_dir / f"{name}.log", "wb"),  # noqa: SIM115
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def workers(planted_committed, own_redis: OwnRedis, tmp_path) -> Iterator[Workers]:  # noqa: F811
    env = server_env(
        own_redis.url,
        own_redis.broker_url,
        database_url_for_tests(),
        RECS_MODEL_DIR=str(tmp_path),
        RECS_TRAIN_LOCK_TTL=str(LOCK_TTL),
        RECS_TRAIN_LOCK_HEARTBEAT="0.5",
        RECS_USE_TUNED_PARAMS="false",
    )
    (tmp_path / "logs").mkdir()
    group = Workers(env, tmp_path / "logs")
    yield group
    group.stop_all()


@pytest.mark.worker
@pytest.mark.slow
def test_a_worker_killed_mid_training_frees_the_lock_and_fails_the_version(
    workers: Workers, own_redis: OwnRedis
):
    lock = own_redis.client()

    def send(name: str) -> None:
        # An explicit connection: Celery prefers $CELERY_BROKER_URL (the shared broker here).
        with Connection(own_redis.broker_url) as connection:
            Celery().send_task(name, kwargs={}, queue="ml", connection=connection)

    first = workers.start("first")
    send("tasks.training.recs_model_train")
    active = _wait_for(
        lambda: ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first(),
        120,
        "a first active model",
        workers.logs,
    )
    first.kill()
    first.wait(10)

    # A slow training (many iterations) on a second worker, SIGKILLed while it holds the lock.
    slow = workers.start("slow", RECS_ITERATIONS="200000")
    send("tasks.training.recs_model_train")
    training = _wait_for(
        lambda: ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).first(),
        60,
        "the slow training to start",
    )
    _wait_for(lambda: lock.exists(LOCK_KEY), 10, "the training lock")
    time.sleep(2 * LOCK_TTL)  # outlives the TTL only because the heartbeat renews it
    assert lock.exists(LOCK_KEY), (
        "the heartbeat did not keep the lock",
        list(ModelVersion.objects.values_list("status", "error")),
        workers.logs(),
    )
    slow.send_signal(signal.SIGKILL)
    slow.wait(10)
    killed_at = time.monotonic()
    _wait_for(lambda: not lock.exists(LOCK_KEY), LOCK_TTL + 5, "the lock to expire")
    assert time.monotonic() - killed_at <= LOCK_TTL + 1

    # The next run (the hourly check) finds the lock free and fails the abandoned version.
    workers.start("next")
    send("tasks.training.recs_retrain_if_needed")
    training = _wait_for(
        lambda: ModelVersion.objects.filter(
            pk=training.pk, status=ModelVersion.Status.FAILED
        ).first(),
        60,
        "the abandoned version to be marked failed",
    )
    assert training.error.startswith("abandoned")
    assert "heartbeat" in training.error
    active.refresh_from_db()
    assert active.status == ModelVersion.Status.ACTIVE
    assert ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).get() == active
