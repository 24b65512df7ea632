"""Training, evaluation, promotion and activation of recommendation models.

One training path: :func:`recs_model_train` takes the training lock, extracts, re-tunes when
the data changed materially (or when asked), runs the engine recipe (split, fit, evaluate,
calibrate, refit), publishes the artifact to ``storages["models"]`` and applies the promotion
gate. The Celery task, ``manage.py train_model`` and the benchmarks all call it;
``recs_model_evaluate`` runs the same recipe without publishing.

Storage contract with serving (``recs.serving.registry``): the single ``ModelVersion`` with status
``active`` is served; its ``artifact_path`` is relative to the models storage. Activation is
one transaction and, on commit, sets ``recs.keys.ACTIVE_VERSION`` so serving processes
hot-reload. A failed training never touches the active row.

:func:`trending_refresh` keeps the trending lists in the cache for the read path.
"""

from __future__ import annotations

import time
import traceback
import uuid
import zlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from movierec.locks import job_lock
from recs import artifact_store, keys
from recs.engine import recipe
from recs.engine.als import AlsParams
from recs.engine.artifacts import ArtifactError
from recs.engine.ease import EaseParams
from recs.engine.evaluate import Metrics
from recs.engine.hybrid import HybridParams
from recs.engine.matrix import ConfidenceWeights
from recs.engine.progress import Progress
from recs.extract import Extracted, feedback_count_since, interactions_extract
from recs.models import ModelVersion, TuningRun

log = structlog.get_logger(__name__)

#: The Redis lock every training holds (task, command, retrain): one at a time.
TRAIN_LOCK = "recs-train"
_ACTIVATION_LOCK = zlib.crc32(b"recs.model_activate")  # pg advisory lock key


class TrainingLocked(Exception):
    """Another process holds the training lock; nothing was done."""


# --------------------------------------------------------------------------- defaults


def recs_weights_default() -> ConfidenceWeights:
    """Confidence weights from the RECS_WEIGHT_* settings."""
    return ConfidenceWeights(
        rating_threshold=settings.RECS_WEIGHT_RATING_THRESHOLD,
        favorite=settings.RECS_WEIGHT_FAVORITE,
        watchlist=settings.RECS_WEIGHT_WATCHLIST,
        playlist=settings.RECS_WEIGHT_PLAYLIST,
        not_interested=settings.RECS_WEIGHT_NOT_INTERESTED,
        half_life_days=settings.RECS_HALF_LIFE_DAYS,
    )


def _settings_params() -> HybridParams:
    return HybridParams(
        als=AlsParams(
            factors=settings.RECS_FACTORS,
            regularization=settings.RECS_REGULARIZATION,
            alpha=settings.RECS_ALPHA,
            iterations=settings.RECS_ITERATIONS,
            num_threads=settings.RECS_NUM_THREADS,
        ),
        ease=EaseParams(max_items=settings.RECS_EASE_MAX_ITEMS),
    )


def _latest_tuning() -> TuningRun | None:
    run = TuningRun.objects.order_by("-created_at", "-id").first()
    # Runs from before the hybrid hold ALS-only parameters: they cannot seed the blend.
    return run if run is not None and "blend" in run.best_params else None


def recs_params_default() -> HybridParams:
    """The newest tuning run's winner (if ``RECS_USE_TUNED_PARAMS``), else RECS_* settings."""
    params = _settings_params()
    run = _latest_tuning() if settings.RECS_USE_TUNED_PARAMS else None
    if run is None:
        return params
    tuned = HybridParams.from_dict(run.best_params)
    # Threads are a property of the machine, not of the data.
    als = AlsParams.from_dict({**tuned.als.to_dict(), "num_threads": settings.RECS_NUM_THREADS})
    return HybridParams(als=als, ease=tuned.ease, blend=tuned.blend)


def recs_tuning_needed(counts: dict[str, int]) -> str | None:
    """Why the data changed materially since the last tuning run, or None when it did not."""
    run = _latest_tuning()
    if run is None:
        return "no tuning run yet"
    limit = settings.RECS_RETUNE_CHANGE
    for name in ("interactions", "users", "movies"):
        before, now = run.data_counts.get(name, 0), counts.get(name, 0)
        if not before or abs(now - before) / before > limit:
            return f"{name} changed from {before} to {now} since tuning run {run.pk}"
    return None


def _metrics_dict(metrics: Metrics) -> dict[str, float | int]:
    k = metrics.k
    return {
        f"precision@{k}": metrics.precision,
        f"recall@{k}": metrics.recall,
        f"ndcg@{k}": metrics.ndcg,
        f"map@{k}": metrics.map,
        "coverage": metrics.coverage,
        "test_users": metrics.n_users,
    }


def _ndcg_key() -> str:
    return f"ndcg@{settings.RECS_EVAL_K}"


def _require_enough(extracted: Extracted) -> None:
    n = len(extracted.interactions)
    if n < settings.RECS_MIN_TRAIN_INTERACTIONS:
        raise ValidationError(
            f"only {n} interactions; training needs at least "
            f"{settings.RECS_MIN_TRAIN_INTERACTIONS} (RECS_MIN_TRAIN_INTERACTIONS)"
        )


# --------------------------------------------------------------------------- training


def recs_abandoned_trainings_fail() -> int:
    """Rows left in ``training`` by a killed worker become ``failed``, with the reason.

    Called by the holder of the training lock: that lock is renewed by a heartbeat and
    expires ``RECS_TRAIN_LOCK_TTL`` seconds after its holder dies, so while we hold it any
    other ``training`` row older than that TTL has no live process behind it.
    """
    stale = timezone.now() - timedelta(seconds=settings.RECS_TRAIN_LOCK_TTL)
    return ModelVersion.objects.filter(
        status=ModelVersion.Status.TRAINING, created_at__lt=stale
    ).update(
        status=ModelVersion.Status.FAILED,
        error=(
            "abandoned: the training process died before finishing (its lock heartbeat stopped)"
        ),
        finished_at=timezone.now(),
    )


def _tuning_store(result: recipe.RecipeResult, extracted: Extracted, seconds: float) -> TuningRun:
    assert result.tuning is not None
    return TuningRun.objects.create(
        best_params=result.tuning.best.to_dict(),
        best_ndcg=result.tuning.validation[_ndcg_key()],
        validation=result.tuning.validation,
        trials=result.tuning.table,
        data_counts=extracted.counts(),
        seconds=seconds,
    )


def _train_lock() -> AbstractContextManager[bool]:
    """The one training lock: a short TTL renewed by a heartbeat while its holder lives."""
    return job_lock(
        TRAIN_LOCK,
        timeout=settings.RECS_TRAIN_LOCK_TTL,
        heartbeat=settings.RECS_TRAIN_LOCK_HEARTBEAT,
    )


def recs_model_train(
    *,
    params: HybridParams | None = None,
    tune: bool = False,
    promote: bool = True,
    progress: Progress | None = None,
) -> ModelVersion:
    """Extract -> (tune) -> fit -> evaluate -> calibrate -> refit -> publish -> gate.

    Holds the training lock for the whole run (``TrainingLocked`` if another process has it).
    Tunes first when ``tune`` is set or the data changed materially since the last tuning
    run (``recs_tuning_needed``). With ``promote`` the version is activated if it passes
    the gate (``recs_model_promote_if_better``), else it stays ``ready``. On any error
    (including a Celery soft time limit) the row becomes ``failed`` with the error, the
    partial artifact is removed and the exception re-raised.
    """
    with _train_lock() as mine:
        if not mine:
            raise TrainingLocked("another training holds the lock")
        version = _train_locked(params=params, tune=tune, progress=progress)
    if promote:
        version = recs_model_promote_if_better(version)
    return version


def _train_locked(
    *, params: HybridParams | None, tune: bool, progress: Progress | None
) -> ModelVersion:
    recs_abandoned_trainings_fail()
    version = ModelVersion.objects.create(status=ModelVersion.Status.TRAINING)
    relative: str | None = None
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        extracted = interactions_extract()
        timings["extract"] = time.perf_counter() - started
        _require_enough(extracted)
        version.data_cutoff = extracted.cutoff
        version.data_counts = extracted.counts()
        reason = "asked (--tune)" if tune else None
        if params is None and reason is None:
            reason = recs_tuning_needed(version.data_counts)
        params = params or recs_params_default()
        version.params = params.to_dict()
        version.save(update_fields=["data_cutoff", "data_counts", "params"])

        result = recipe.run(
            extracted.interactions,
            params,
            weights=recs_weights_default(),
            now=extracted.now,
            seed=_split_seed(version),
            test_fraction=settings.RECS_TEST_FRACTION,
            k=settings.RECS_EVAL_K,
            tune_first=reason is not None,
            max_trials=settings.RECS_TUNE_MAX_TRIALS,
            max_test_users=settings.RECS_EVAL_MAX_USERS,
            refit_min_heldout=settings.RECS_REFIT_MIN_HELDOUT,
            popularity_penalty=settings.RECS_POPULARITY_PENALTY,
            ndcg_tolerance=settings.RECS_TUNE_NDCG_TOLERANCE,
            unused_components=False,
            progress=progress,
        )
        timings.update(result.timings)
        if result.tuning is not None:
            version.tuning_run = _tuning_store(result, extracted, timings["tune"])
            version.validation = {**result.tuning.validation, "reason": reason}
        else:
            run = _latest_tuning()
            version.tuning_run = run
            version.validation = dict(run.validation) if run is not None else {}

        publish = time.perf_counter()
        relative = f"v{version.pk}-{timezone.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        version.params = result.params.to_dict()
        version.metrics = {
            **_metrics_dict(result.metrics),
            "components": {name: _metrics_dict(m) for name, m in result.components.items()},
            "reliability": result.reliability,
        }
        version.baseline_metrics = _metrics_dict(result.baseline)
        version.data_counts = {
            **version.data_counts,
            **{k: v for k, v in result.counts.items() if k.startswith(("train", "test"))},
            "model_users": result.model.n_users,
            "model_movies": result.model.n_items,
            "ease_movies": int(result.model.ease.items.size) if result.model.ease else 0,
            # Rows the served model was fit on: every row, or the train part when the
            # held-out sliver was too small to be worth a refit (recs.engine.recipe.run).
            "served_rows": result.counts[
                "interactions" if result.extra["refit"] else "train_interactions"
            ],
        }
        artifact_store.artifact_save(
            result.model,
            relative,
            meta={
                "version": version.pk,
                "metrics": version.metrics,
                "baseline_metrics": version.baseline_metrics,
                "data_counts": version.data_counts,
                "data_cutoff": extracted.cutoff.isoformat(),
            },
        )
        timings["publish"] = time.perf_counter() - publish
        version.artifact_path = relative
        version.status = ModelVersion.Status.READY
        version.finished_at = timezone.now()
        version.timings = {k: round(v, 4) for k, v in timings.items()}
        version.save()
    except BaseException as exc:
        if relative is not None:
            artifact_store.artifact_delete(relative)
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.FAILED,
            error="".join(traceback.format_exception_only(exc)).strip()[:5000],
            artifact_path="",
            timings={k: round(v, 4) for k, v in timings.items()},
            finished_at=timezone.now(),
        )
        log.warning("recs.train.failed", version=version.pk, error=str(exc))
        raise
    log.info("recs.train.done", version=version.pk, metrics=version.metrics)
    return version


# --------------------------------------------------------------------------- activation


def recs_model_activate(version: ModelVersion) -> ModelVersion:
    """Make ``version`` the served model: old active -> retired, this one -> active.

    One transaction under an advisory lock (concurrent activations serialise); the artifact
    is loaded and checksum-verified first, so a damaged one can never go live. On commit the
    cache key ``recs:active_version`` is set to the new pk for serving processes to reload.
    Retired and rejected versions may be activated again (rollback / operator override).
    """
    allowed = {
        ModelVersion.Status.READY,
        ModelVersion.Status.RETIRED,
        ModelVersion.Status.REJECTED,
        ModelVersion.Status.ACTIVE,
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ACTIVATION_LOCK])
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status not in allowed:
            raise ValidationError({"status": f"a {locked.status} model cannot be activated"})
        if locked.status == ModelVersion.Status.ACTIVE:
            return locked
        try:
            artifact_store.artifact_load(locked.artifact_path)
        except (ArtifactError, OSError) as exc:
            raise ValidationError({"artifact_path": f"artifact is not loadable: {exc}"}) from exc
        now = timezone.now()
        ModelVersion.objects.active().update(status=ModelVersion.Status.RETIRED)
        locked.status = ModelVersion.Status.ACTIVE
        locked.activated_at = now
        locked.full_clean()
        locked.save(update_fields=["status", "activated_at"])
        pk = locked.pk
        transaction.on_commit(lambda: cache.set(keys.ACTIVE_VERSION, pk, timeout=None))
    log.info("recs.model.activated", version=locked.pk)
    version.refresh_from_db()
    return version


def recs_model_active() -> ModelVersion | None:
    """The version serving now, from the database: the one "active model" query (serving,
    health and metrics all ask here)."""
    return ModelVersion.objects.active().first()


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    note: str


def _split_seed(version: ModelVersion) -> int:
    """The holdout seed of a training.

    When only a sample of users is tested the evaluated model may be served without a refit
    (``RECS_REFIT_MIN_HELDOUT``), so the sample moves with each version: no user's held-out
    ratings stay out of the item-side structures for good. Small data keeps one seed, so
    successive versions are judged on the same split.
    """
    if version.data_counts.get("users", 0) > settings.RECS_EVAL_MAX_USERS:
        return settings.RECS_SPLIT_SEED + version.pk
    return settings.RECS_SPLIT_SEED


def recs_gate_check(version: ModelVersion, active: ModelVersion | None) -> GateDecision:
    """The promotion rule, without side effects.

    1. NDCG@10 must beat the popularity baseline of the same split (times
       RECS_MIN_BASELINE_LIFT). 2. It may not fall more than RECS_PROMOTION_MARGIN (relative)
       below the active model's NDCG@10 as recorded at its own training (a different split of
       older data, hence a margin rather than a strict comparison).
    """
    key = _ndcg_key()
    ndcg = float(version.metrics.get(key, 0.0))
    baseline = float(version.baseline_metrics.get(key, 0.0))
    lift = settings.RECS_MIN_BASELINE_LIFT
    lift_text = f"{ndcg / baseline:.2f}x" if baseline else "no baseline hits"
    if not ndcg > baseline * lift:
        need = f" x {lift:g}" if lift != 1.0 else ""
        return GateDecision(
            False,
            f"{key} {ndcg:.4f} does not beat the popularity baseline {baseline:.4f}{need} "
            f"({lift_text})",
        )
    note = f"{key} {ndcg:.4f} beats popularity {baseline:.4f} ({lift_text})"
    if active is not None and active.pk != version.pk:
        current = float(active.metrics.get(key, 0.0))
        floor = current * (1.0 - settings.RECS_PROMOTION_MARGIN)
        if ndcg < floor:
            return GateDecision(
                False,
                f"{note}, but is more than {settings.RECS_PROMOTION_MARGIN:.0%} below the "
                f"active v{active.pk} ({current:.4f}; floor {floor:.4f})",
            )
        note += f" and is within {settings.RECS_PROMOTION_MARGIN:.0%} of active v{active.pk} "
        note += f"({current:.4f})"
    return GateDecision(True, note)


def recs_model_promote_if_better(version: ModelVersion) -> ModelVersion:
    """Activate ``version`` if it passes the gate, else mark it rejected; ``note`` says why."""
    version.refresh_from_db()
    if version.status != ModelVersion.Status.READY:
        raise ValidationError({"status": f"only ready models are promoted, not {version.status}"})
    decision = recs_gate_check(version, recs_model_active())
    version.note = decision.note
    if not decision.promote:
        version.status = ModelVersion.Status.REJECTED
        version.save(update_fields=["status", "note"])
        log.info("recs.model.rejected", version=version.pk, note=decision.note)
        return version
    version.save(update_fields=["note"])
    return recs_model_activate(version)


# --------------------------------------------------------------------------- retraining


@dataclass(frozen=True)
class RetrainDecision:
    version: ModelVersion | None  # the version trained now, if any
    new_feedback: int
    reason: str


def recs_retrain_if_needed(*, progress: Progress | None = None) -> RetrainDecision:
    """Retrain when enough feedback arrived since the newest evaluated version's cutoff.

    The reference is the newest active, ready, rejected or retired version, not only the
    active one: a rejected retrain on the same data is not retried every hour. Rows a killed
    trainer left in ``training`` are marked failed first, under the lock, even when no
    retrain is due.
    """
    with _train_lock() as mine:
        if not mine:
            raise TrainingLocked("another training holds the lock")
        recs_abandoned_trainings_fail()
    reference = (
        ModelVersion.objects.exclude(
            status__in=[ModelVersion.Status.FAILED, ModelVersion.Status.TRAINING]
        )
        .exclude(data_cutoff=None)
        .order_by("-data_cutoff")
        .first()
    )
    if reference is None:
        version = recs_model_train(progress=progress)
        return RetrainDecision(version, 0, "no trained model yet")
    new = feedback_count_since(reference.data_cutoff)
    threshold = settings.RECS_RETRAIN_MIN_NEW_FEEDBACK
    if new < threshold:
        return RetrainDecision(
            None, new, f"{new} new interactions since v{reference.pk}; waiting for {threshold}"
        )
    version = recs_model_train(progress=progress)
    return RetrainDecision(version, new, f"{new} new interactions since v{reference.pk}")


# --------------------------------------------------------------------------- tuning


def recs_tune(
    *,
    als_grid: dict[str, list[Any]] | None = None,
    max_trials: int | None = None,
    progress: Progress | None = None,
) -> TuningRun:
    """Tune the hybrid on a validation split of the current data's training part and store
    the winner, which becomes the training default (``recs_params_default``)."""
    extracted = interactions_extract()
    _require_enough(extracted)
    started = time.perf_counter()
    result = recipe.tune_only(
        extracted.interactions,
        _settings_params(),
        weights=recs_weights_default(),
        now=extracted.now,
        seed=settings.RECS_SPLIT_SEED,
        test_fraction=settings.RECS_TEST_FRACTION,
        k=settings.RECS_EVAL_K,
        max_trials=max_trials or settings.RECS_TUNE_MAX_TRIALS,
        als_grid=als_grid,
        ndcg_tolerance=settings.RECS_TUNE_NDCG_TOLERANCE,
        progress=progress,
    )
    return _tuning_store(result, extracted, time.perf_counter() - started)


# --------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    """The recipe of one version re-run on fresh splits of the current data."""

    version: ModelVersion
    seeds: list[int]
    rows: dict[str, list[dict[str, float | int]]]  # model name -> metrics per seed
    reliability: list[dict[str, float]]
    data_counts: dict[str, int]
    seconds: float


def recs_model_evaluate(
    *,
    version: ModelVersion | None = None,
    seeds: list[int] | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Re-run a version's recipe (default: the active one) on fresh splits of today's data.

    The served artifact was fit on (almost) every row, so scoring it on any holdout of today's
    data would grade it on its own answers; instead the training recipe (``recipe.run``, the
    same code as training) fits its exact parameters on each split's train part.
    """
    version = version or recs_model_active()
    if version is None:
        raise ModelVersion.DoesNotExist("no active model")
    started = time.perf_counter()
    extracted = interactions_extract()
    _require_enough(extracted)
    params = HybridParams.from_dict(version.params) if "blend" in version.params else None
    seeds = seeds or [int(time.time()) % 1_000_000]
    rows: dict[str, list[dict[str, float | int]]] = {}
    reliability: list[dict[str, float]] = []
    for seed in seeds:
        result = recipe.run(
            extracted.interactions,
            params or recs_params_default(),
            weights=recs_weights_default(),
            now=extracted.now,
            seed=seed,
            test_fraction=settings.RECS_TEST_FRACTION,
            k=settings.RECS_EVAL_K,
            refit=False,
            max_test_users=settings.RECS_EVAL_MAX_USERS,
            progress=progress,
        )
        rows.setdefault("popularity", []).append(_metrics_dict(result.baseline))
        for name, metrics in result.components.items():
            rows.setdefault(name, []).append(_metrics_dict(metrics))
        rows.setdefault("hybrid", []).append(_metrics_dict(result.metrics))
        reliability = result.reliability
    return Evaluation(
        version=version,
        seeds=seeds,
        rows=rows,
        reliability=reliability,
        data_counts=extracted.counts(),
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- trending


def trending_refresh(*, windows: tuple[str, ...] = ("day", "week")) -> dict[str, int]:
    """Compute each window's trending list into the cache (current version and the last-list
    fallback), so requests read it instead of aggregating the window's ratings themselves.

    Beat's ``trending-refresh`` runs it every 2 minutes, within ``TRENDING_CACHE_TTL``, so
    the list a TMDb sync's version bump leaves missing is back within that interval.
    Returns the length of each window's signal."""
    from recs import selectors, serving

    version = serving.trending_version()
    sizes: dict[str, int] = {}
    for window in windows:
        value = selectors.trending_compute(selectors.TrendWindow(window))
        selectors.trending_store(version, window, value)
        sizes[window] = len(value[0])
    log.info("recs.trending_refreshed", version=version, **sizes)
    return sizes
