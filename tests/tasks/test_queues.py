"""Sync and ML work go to separate queues, and separate worker pools consume them.

A training (minutes of CPU) must never wait behind a burst of sync chunks, nor delay them: the
routes send every ``tasks.training.*`` task to ``ml`` and every ``tasks.sync.*`` task to
``sync``, and the deployment runs one pool per queue. (tests/recs/test_scaleout.py checks the
same with two real worker processes: the training lands on the ``ml`` one.)
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from movierec.celery import app

ROOT = Path(__file__).resolve().parents[2]
POOLS = {"tasks.training.": "ml", "tasks.sync.": "sync"}


def _queue(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def _our_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if name.startswith(tuple(POOLS)))


def test_every_task_is_routed_to_its_pool_queue() -> None:
    names = _our_tasks()
    assert any(n.startswith("tasks.training.") for n in names)
    assert any(n.startswith("tasks.sync.") for n in names)
    for name in names:
        wanted = next(queue for prefix, queue in POOLS.items() if name.startswith(prefix))
        assert _queue(name) == wanted, name


def test_an_unrouted_task_goes_to_the_default_queue_not_a_pool() -> None:
    assert _queue("tests.core.add") == settings.CELERY_TASK_DEFAULT_QUEUE == "default"


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_scheduled_jobs_are_routed_like_the_tasks_they_run(entry: str) -> None:
    job = settings.CELERY_BEAT_SCHEDULE[entry]
    queue = job.get("options", {}).get("queue") or _queue(job["task"])
    expected = next((q for prefix, q in POOLS.items() if job["task"].startswith(prefix)), "default")
    assert queue == expected


def _consumed_queues() -> dict[str, set[str]]:
    """Worker service -> the queues its ``celery worker -Q`` consumes (docker-compose.yml)."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    pools: dict[str, set[str]] = {}
    for name, service in services.items():
        command = service.get("command") or ""
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if argv[:1] != ["celery"] or "worker" not in argv:
            continue
        pools[name] = set(argv[argv.index("-Q") + 1].split(",")) if "-Q" in argv else {"default"}
    return pools


def test_the_deployment_runs_one_worker_pool_per_queue() -> None:
    pools = _consumed_queues()
    ml = [name for name, queues in pools.items() if "ml" in queues]
    sync = [name for name, queues in pools.items() if "sync" in queues]
    assert len(ml) == 1 and pools[ml[0]] == {"ml"}, pools  # the ml pool does nothing else
    assert sync and not set(sync) & set(ml), pools
    assert any("default" in queues for queues in pools.values()), pools
