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
