"""Structured logs, Prometheus metrics, liveness/readiness, and the model-artifact fault."""

from __future__ import annotations

import json
import shutil
import uuid

import requests

from recs.models import ModelVersion
from tests.conftest import access_token_for
from tests.factories import MovieFactory, UserFactory
from tests.hardening.conftest import LiveServer


def _lines_for(server: LiveServer, request_id: str) -> list[dict]:
    lines = []
    for line in server.log_lines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("request_id") == request_id:
            lines.append(record)
    return lines


def test_every_log_line_of_a_request_carries_request_viewer_and_operation(server: LiveServer):
    user = UserFactory()
    request_id = uuid.uuid4().hex
    response = server.graphql(
        "query MyProfile { me { username } }",
        token=access_token_for(user),
        operationName="MyProfile",
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id

    lines = _lines_for(server, request_id)
    assert any(line["event"] == "request.finished" for line in lines), lines
    for line in lines:
        assert line["viewer_id"] == user.pk, line
        assert line["operation"] == "MyProfile", line
        assert "timestamp" in line and "level" in line

    anonymous = server.graphql("{ __typename }")
    rid = anonymous.headers["X-Request-ID"]
    (finished,) = [x for x in _lines_for(server, rid) if x["event"] == "request.finished"]
    assert finished["viewer_id"] is None and finished["status"] == 200


def test_metrics_cover_latency_errors_cache_model_and_queues(server: LiveServer):
    MovieFactory.create_batch(3)
    version = ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE)
    user = UserFactory()
    token = access_token_for(user)
    for _ in range(2):
        server.graphql("query Recs { recommendations(first: 3) { movie { id } } }", token=token)
    server.graphql('{ movie(id: "nonsense") { id } }')
    server.graphql("{ me { id } }", token="not-a-token")

    text = requests.get(f"{server.url}/metrics", timeout=10).text

    assert 'movierec_graphql_request_seconds_count{operation="query:recommendations"}' in text
    assert 'movierec_graphql_errors_total{code="UNAUTHENTICATED"}' in text
    assert 'movierec_cache_requests_total{result="hit"}' in text
    assert 'movierec_cache_requests_total{result="miss"}' in text
    assert f"movierec_model_active_version {float(version.pk)}" in text
    assert "movierec_model_active_age_seconds" in text
    assert 'movierec_celery_queue_depth{queue="ml"} 0.0' in text
    assert "movierec_rate_limit_rejections_total" in text


def test_liveness_and_readiness_are_separate(server: LiveServer, own_redis):
    assert requests.get(f"{server.url}/livez", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{server.url}/readyz", timeout=10)
    assert (ready.status_code, ready.json()["status"]) == (200, "ok")

    own_redis.kill()
    ready = requests.get(f"{server.url}/readyz", timeout=10)
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
    health = requests.get(f"{server.url}/healthz", timeout=10)
    assert health.status_code == 503
    assert "Error" not in health.text and "sock" not in health.text
    assert requests.get(f"{server.url}/livez", timeout=5).status_code == 200


def test_a_missing_model_artifact_serves_the_fallback_and_health_says_so(
    server: LiveServer, settings, tmp_path
):
    """The active row points at an artifact that is gone (or corrupt): recommendations still
    answer (popularity fallback) and readiness reports the degraded model."""
    MovieFactory.create_batch(5)
    ModelVersion.objects.create(
        status=ModelVersion.Status.ACTIVE, artifact_path=f"missing-{uuid.uuid4().hex}"
    )
    token = access_token_for(UserFactory())

    body = server.graphql("{ recommendations(first: 3) { movie { id } } }", token=token).json()
    assert "errors" not in body, body
    assert len(body["data"]["recommendations"]) == 3

    ready = requests.get(f"{server.url}/readyz", timeout=10).json()
    assert ready["status"] == "degraded"
    assert ready["checks"]["model"]["degraded"] is True
    assert "fallback" in ready["checks"]["model"]["note"]
    shutil.rmtree(tmp_path, ignore_errors=True)
