import contextlib

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_service(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "redis", "broker", "model"} <= set(body["checks"])
    assert all(body["checks"][name]["ok"] for name in ("database", "redis", "broker"))
    assert body["checks"]["model"]["version"] is None


def test_healthz_names_the_active_model(client):
    from recs.models import ModelVersion

    version = ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE)
    body = client.get("/healthz").json()
    assert body["checks"]["model"]["version"] == version.pk


def test_healthz_is_503_when_redis_is_down(client, settings):
    from django_redis import get_redis_connection

    get_redis_connection("default").connection_pool.disconnect()
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    from django.core.cache import caches

    caches._settings = None  # rebuild cache handlers from the overridden settings
    with contextlib.suppress(AttributeError):
        del caches._connections.default
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_healthz_is_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
