"""Scrape-time gauges of TMDb sync runs (registered with movierec.metrics)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from movies.models import SyncRun


def sync_gauges() -> Iterator[GaugeMetricFamily]:
    """Runs by kind and status, and each kind's latest finished run's duration."""
    runs = GaugeMetricFamily(
        "movierec_sync_runs", "Sync runs by kind and status.", labels=["kind", "status"]
    )
    for row in SyncRun.objects.values("kind", "status").annotate(n=Count("id")):
        runs.add_metric([row["kind"], row["status"]], row["n"])
    yield runs
    last = GaugeMetricFamily(
        "movierec_sync_last_duration_seconds",
        "Duration of the latest finished sync run of each kind.",
        labels=["kind", "status"],
    )
    latest = (
        SyncRun.objects.exclude(finished_at=None).order_by("kind", "-finished_at").distinct("kind")
    )
    for run in latest:
        last.add_metric([run.kind, run.status], (run.finished_at - run.started_at).total_seconds())
    yield last
