"""The worker fixture runs tasks on a real worker through the real broker."""

import pytest

from movierec.celery import app
from movierec.locks import job_lock


@app.task(name="tests.core.add", bind=True)
def add(self, x: int, y: int) -> dict:
    return {"sum": x + y, "eager": bool(self.request.is_eager), "host": self.request.hostname}


@pytest.mark.worker
def test_task_runs_on_a_real_worker(celery_worker):
    result = add.delay(2, 3).get(timeout=20)
    assert result["sum"] == 5
    assert result["eager"] is False
    assert result["host"] and celery_worker.hostname.endswith(result["host"])


def test_job_lock_is_exclusive_until_released(db):
    with job_lock("unit", timeout=30) as first:
        assert first is True
        with job_lock("unit", timeout=30) as second:
            assert second is False
    with job_lock("unit", timeout=30) as again:
        assert again is True


def test_job_lock_held_reports_the_lock_without_taking_it(db):
    from movierec.locks import job_lock_held

    assert job_lock_held("probe") is False
    with job_lock("probe", timeout=30):
        assert job_lock_held("probe") is True
    assert job_lock_held("probe") is False


def test_the_heartbeat_takes_a_vanished_lock_back_and_reports_a_taken_one(db):
    from django_redis import get_redis_connection

    from movierec.locks import lock_acquire, lock_heartbeat

    redis = get_redis_connection("default")
    assert lock_acquire("beat", "mine", timeout=30)
    assert lock_heartbeat("beat", "mine", timeout=30) == "renewed"

    redis.delete("movierec:lock:beat")  # what a Redis restart or flush does
    assert lock_heartbeat("beat", "mine", timeout=30) == "retaken"
    assert redis.get("movierec:lock:beat") == b"mine"
    assert 0 < redis.ttl("movierec:lock:beat") <= 30

    redis.set("movierec:lock:beat", "theirs")  # expired during an outage, then taken
    assert lock_heartbeat("beat", "mine", timeout=30) == "lost"
    assert redis.get("movierec:lock:beat") == b"theirs"
    redis.delete("movierec:lock:beat")


def test_a_job_lock_flushed_away_mid_run_is_held_again_by_its_heartbeat(db):
    import threading

    from django_redis import get_redis_connection

    from movierec.locks import job_lock, lock_acquire

    redis = get_redis_connection("default")
    with job_lock("flushed", timeout=30, heartbeat=0.05) as held:
        assert held
        token = redis.get("movierec:lock:flushed")
        redis.delete("movierec:lock:flushed")
        retaken = threading.Event()
        for _ in range(200):  # the heartbeat runs every 0.05 s; give it up to 10 s
            if redis.get("movierec:lock:flushed") == token:
                retaken.set()
                break
            retaken.wait(0.05)
        assert retaken.is_set()
        assert not lock_acquire("flushed", "another", timeout=30)  # no second run
    assert redis.get("movierec:lock:flushed") is None
