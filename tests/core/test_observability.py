"""/metrics access rules, the Redis circuit breaker, and the rollback command."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django_redis import get_redis_connection
from redis.exceptions import ConnectionError as RedisConnectionError

from movierec.breaker import REDIS_BREAKER, CircuitBreaker
from recs.models import ModelVersion

pytestmark = pytest.mark.django_db


def test_metrics_answer_loopback_and_hide_from_others(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


def test_metrics_token_is_required_when_set(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    response = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret"
    )
    assert response.status_code == 200
    assert b"movierec_celery_queue_depth" in response.content


def test_breaker_opens_then_lets_one_probe_through():
    breaker = CircuitBreaker("test", reset_seconds=0.2)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.is_open and not breaker.allow()
    time.sleep(0.25)
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.record_success()
    assert breaker.allow() and not breaker.is_open


def test_an_open_breaker_fails_redis_calls_at_once(settings):
    settings.REDIS_BREAKER_SECONDS = 5
    client = get_redis_connection("default")
    client.ping()
    REDIS_BREAKER.record_failure()
    try:
        started = time.perf_counter()
        with pytest.raises(RedisConnectionError):
            client.ping()
        assert time.perf_counter() - started < 0.05
    finally:
        REDIS_BREAKER.reset()
    assert client.ping()


def test_activate_model_rolls_back_to_a_verified_version(capsys):
    with pytest.raises(Exception, match="no model version"):
        call_command("activate_model", "999999")
    version = ModelVersion.objects.create(status=ModelVersion.Status.RETIRED, artifact_path="x")
    with pytest.raises(Exception, match="not loadable"):
        call_command("activate_model", str(version.pk))
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.RETIRED
