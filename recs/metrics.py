"""Scrape-time gauges of the model and training (registered with movierec.metrics)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from recs.models import ModelVersion
from recs.services import recs_model_active


def model_gauges() -> Iterator[GaugeMetricFamily]:
    """The serving model and its age, versions by status, and the latest training's duration."""
    active = recs_model_active()
    version = GaugeMetricFamily(
        "movierec_model_active_version", "Id of the serving model (0: fallback)."
    )
    version.add_metric([], active.pk if active else 0)
    yield version
    age = GaugeMetricFamily(
        "movierec_model_active_age_seconds", "Seconds since the serving model trained."
    )
    trained = active and (active.finished_at or active.created_at)
    age.add_metric([], (timezone.now() - trained).total_seconds() if trained else 0.0)
    yield age
    runs = GaugeMetricFamily(
        "movierec_training_runs", "Model versions by status.", labels=["status"]
    )
    for row in ModelVersion.objects.values("status").annotate(n=Count("id")):
        runs.add_metric([row["status"]], row["n"])
    yield runs
    last = GaugeMetricFamily(
        "movierec_training_last_duration_seconds",
        "Duration of the latest finished training.",
        labels=["status"],
    )
    done = ModelVersion.objects.exclude(finished_at=None).order_by("-finished_at").first()
    if done is not None:
        last.add_metric([done.status], (done.finished_at - done.created_at).total_seconds())
    yield last
