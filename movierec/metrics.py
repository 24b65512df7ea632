"""Prometheus metrics: request-path counters in this process, the rest read at scrape time.

Counters and histograms recorded while serving (latency by operation, errors by code, cache
hits and misses, rate-limit rejections, breaker transitions) live in each web process; with
several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` so ``/metrics`` sums them all.
Facts that other processes produce (the active model and its age, training and sync runs,
Celery queue depth) are read from PostgreSQL and the broker when Prometheus scrapes, so one
scrape of any web process sees the whole deployment.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

logger = structlog.get_logger(__name__)

REQUEST_SECONDS = Histogram(
    "movierec_graphql_request_seconds",
    "GraphQL request latency by operation (type:first root field).",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ERRORS = Counter(
    "movierec_graphql_errors_total", "Errors returned to clients, by contract code.", ["code"]
)
CACHE_REQUESTS = Counter(
    "movierec_cache_requests_total", "Cache reads by result (hit, miss, error).", ["result"]
)
RATE_LIMITED = Counter(
    "movierec_rate_limit_rejections_total", "Requests refused by a rate limit.", ["scope"]
)
BREAKER_TRANSITIONS = Counter(
    "movierec_breaker_transitions_total", "Circuit breaker state changes.", ["dependency", "state"]
)
DEPENDENCY_UNAVAILABLE = Counter(
    "movierec_dependency_unavailable_total",
    "Requests answered 503 because a dependency was down.",
    ["dependency"],
)

QUEUES = ("default", "sync", "ml")


def _queue_depths() -> dict[str, int]:
    from kombu import Connection

    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=1,
        transport_options={"socket_timeout": 1, "socket_connect_timeout": 1},
    ) as conn:
        client = conn.default_channel.client
        return {queue: int(client.llen(queue)) for queue in QUEUES}


class DeploymentCollector(Collector):
    """Model, training, sync and queue gauges, read when scraped (never cached)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count
        from django.utils import timezone

        from movies.models import SyncRun
        from recs.models import ModelVersion

        now = timezone.now()
        try:
            active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
            version = GaugeMetricFamily(
                "movierec_model_active_version", "Id of the serving model (0: fallback)."
            )
            version.add_metric([], active.pk if active else 0)
            yield version
            age = GaugeMetricFamily(
                "movierec_model_active_age_seconds", "Seconds since the serving model trained."
            )
            trained = active and (active.finished_at or active.created_at)
            age.add_metric([], (now - trained).total_seconds() if trained else 0.0)
            yield age

            training = GaugeMetricFamily(
                "movierec_training_runs", "Model versions by status.", labels=["status"]
            )
            for row in ModelVersion.objects.values("status").annotate(n=Count("id")):
                training.add_metric([row["status"]], row["n"])
            yield training
            last_training = GaugeMetricFamily(
                "movierec_training_last_duration_seconds",
                "Duration of the latest finished training.",
                labels=["status"],
            )
            done = ModelVersion.objects.exclude(finished_at=None).order_by("-finished_at").first()
            if done is not None:
                seconds = (done.finished_at - done.created_at).total_seconds()
                last_training.add_metric([done.status], seconds)
            yield last_training

            runs = GaugeMetricFamily(
                "movierec_sync_runs", "Sync runs by kind and status.", labels=["kind", "status"]
            )
            for row in SyncRun.objects.values("kind", "status").annotate(n=Count("id")):
                runs.add_metric([row["kind"], row["status"]], row["n"])
            yield runs
            last_sync = GaugeMetricFamily(
                "movierec_sync_last_duration_seconds",
                "Duration of the latest finished sync run of each kind.",
                labels=["kind", "status"],
            )
            latest = (
                SyncRun.objects.exclude(finished_at=None)
                .order_by("kind", "-finished_at")
                .distinct("kind")
            )
            for run in latest:
                seconds = (run.finished_at - run.started_at).total_seconds()
                last_sync.add_metric([run.kind, run.status], seconds)
            yield last_sync
        except Exception as exc:  # a scrape must not fail because the database is down
            logger.warning("metrics.database_unavailable", error=type(exc).__name__)
        depth = GaugeMetricFamily(
            "movierec_celery_queue_depth", "Messages waiting per Celery queue.", labels=["queue"]
        )
        try:
            for queue, count in _queue_depths().items():
                depth.add_metric([queue], count)
        except Exception as exc:
            logger.warning("metrics.broker_unavailable", error=type(exc).__name__)
        yield depth


_collector = DeploymentCollector()
REGISTRY.register(_collector)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        return request.META.get("HTTP_AUTHORIZATION", "") == f"Bearer {token}"
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in settings.METRICS_ALLOWED_NETWORKS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: with ``METRICS_TOKEN`` set, a matching Bearer token is required;
    without it only ``METRICS_ALLOWED_NETWORKS`` (loopback by default) may scrape."""
    if not _allowed(request):
        return HttpResponse(status=404)
    registry: Any = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
