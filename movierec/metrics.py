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
from collections.abc import Callable, Iterable, Iterator
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


#: Gauges apps add (``register_gauges``), read at scrape time: recs' model and training
#: facts, movies' sync runs. The core imports no app.
_app_gauges: list[Callable[[], Iterable[GaugeMetricFamily]]] = []


def register_gauges(producer: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
    """Add a scrape-time producer of gauges; apps call it from ``AppConfig.ready()``."""
    if producer not in _app_gauges:
        _app_gauges.append(producer)


class DeploymentCollector(Collector):
    """App gauges and the Celery queue depth, read when scraped (never cached)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for producer in list(_app_gauges):
            try:
                yield from list(producer())
            except Exception as exc:  # a scrape must not fail because the database is down
                logger.warning("metrics.gauges_unavailable", error=type(exc).__name__)
        depth = GaugeMetricFamily(
            "movierec_celery_queue_depth", "Messages waiting per Celery queue.", labels=["queue"]
        )
        try:
            for queue, count in _queue_depths().items():
                depth.add_metric([queue], count)
        except Exception as exc:
            logger.warning("metrics.broker_unavailable", error=type(exc).__name__)
        yield depth


def _outbox_gauges() -> Iterator[GaugeMetricFamily]:
    from movierec.outbox import outbox_pending

    yield GaugeMetricFamily(
        "movierec_outbox_pending",
        "Follow-up tasks kept in PostgreSQL until the broker takes them.",
        value=outbox_pending(),
    )


_collector = DeploymentCollector()
REGISTRY.register(_collector)  # collects once, now: before any producer that reads the database
register_gauges(_outbox_gauges)


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
