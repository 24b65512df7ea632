"""Training tasks: on a real worker through the real broker, with the Redis lock."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.cache import cache

from movierec.celery import app
from movierec.locks import job_lock, job_lock_held
from recs.keys import ACTIVE_VERSION
from recs.models import ModelVersion
from recs.services import TRAIN_LOCK
from tasks import training
from tasks.schedule import BEAT_SCHEDULE


@pytest.mark.worker
def test_train_task_on_a_real_worker_trains_and_activates(planted_committed, celery_worker):
    result = training.recs_model_train.delay().get(timeout=120)

    version = ModelVersion.objects.get()
    assert result == {"status": "active", "version": version.pk, "note": version.note}
    assert version.status == ModelVersion.Status.ACTIVE
    assert version.metrics["ndcg@10"] >= 1.3 * version.baseline_metrics["ndcg@10"]
    assert cache.get(ACTIVE_VERSION) == version.pk


@pytest.mark.worker
def test_concurrent_train_tasks_run_once(planted_committed, celery_worker):
    first = training.recs_model_train.delay()
    deadline = time.monotonic() + 30
    while not job_lock_held(TRAIN_LOCK):  # the first is training: now send the second
        assert time.monotonic() < deadline, "the first training never took the lock"
        time.sleep(0.01)
    second = training.recs_model_train.delay()

    results = [first.get(timeout=120), second.get(timeout=120)]

    assert sorted(r["status"] for r in results) == ["active", "skipped"]
    skipped = next(r for r in results if r["status"] == "skipped")
    assert skipped["reason"] == "another training holds the lock"
    assert ModelVersion.objects.count() == 1


def test_train_task_does_nothing_while_another_training_holds_the_lock(planted):
    with job_lock(TRAIN_LOCK, timeout=60) as held:
        assert held
        result = training.recs_model_train.delay().get()
        retrain = training.recs_retrain_if_needed.delay().get()

    assert result["status"] == retrain["status"] == "skipped"
    assert not ModelVersion.objects.exists()


def test_retrain_task_reports_when_no_retrain_is_needed(planted, settings):
    settings.RECS_RETRAIN_MIN_NEW_FEEDBACK = 10
    first = training.recs_retrain_if_needed.delay().get()
    assert first["status"] == "active"
    assert first["reason"] == "no trained model yet"

    again = training.recs_retrain_if_needed.delay().get()
    assert again == {
        "status": "not-needed",
        "version": None,
        "new_feedback": 0,
        "reason": f"0 new interactions since v{first['version']}; waiting for 10",
    }


def test_training_tasks_go_to_the_ml_queue_under_time_limits():
    for task in (training.recs_model_train, training.recs_retrain_if_needed):
        route = app.amqp.router.route({}, task.name)
        assert route["queue"].name == "ml"
        assert task.soft_time_limit == settings.RECS_TRAIN_SOFT_TIME_LIMIT
        assert task.time_limit == settings.RECS_TRAIN_TIME_LIMIT
        assert not task.acks_late


def test_schedule_has_the_nightly_and_hourly_training_entries():
    assert settings.CELERY_BEAT_SCHEDULE is BEAT_SCHEDULE
    nightly = BEAT_SCHEDULE["recs-retrain-nightly"]
    hourly = BEAT_SCHEDULE["recs-retrain-if-needed"]
    assert nightly["task"] == training.recs_model_train.name
    assert hourly["task"] == training.recs_retrain_if_needed.name
    assert nightly["schedule"].hour == {5} and nightly["schedule"].minute == {0}
    assert len(hourly["schedule"].hour) == 24 and hourly["schedule"].minute == {50}
