"""Training, evaluation, promotion and activation of recommendation models.

Storage contract with the serving side (``recs.selectors``): the single ``ModelVersion`` with
status ``active`` is served; its ``artifact_path`` is relative to ``settings.RECS_MODEL_DIR``
and loads with ``recs.engine.artifacts.load``; item ids are Movie pks and user ids User pks.
Activation is one transaction and, on commit, sets the cache key ``recs:active_version`` to
the new pk so serving processes hot-reload. A failed training never touches the active row.
"""

from __future__ import annotations

import shutil
import time
import traceback
import uuid
import zlib
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from recs.engine import artifacts
from recs.engine.als import AlsModel, AlsParams
from recs.engine.evaluate import Metrics, compare, evaluate_model, evaluate_popularity
from recs.engine.matrix import ConfidenceWeights
from recs.engine.pipeline import run as pipeline_run
from recs.engine.progress import Progress, Timings, report
from recs.engine.split import holdout_split
from recs.engine.tune import DEFAULT_GRID
from recs.engine.tune import tune as engine_tune
from recs.extract import Extracted, feedback_count_since, interactions_extract
from recs.models import ModelVersion, TuningRun

log = structlog.get_logger(__name__)

ACTIVE_VERSION_CACHE_KEY = "recs:active_version"
#: The ``movierec.locks.job_lock`` one training at a time holds (tasks and the command).
TRAIN_LOCK = "recs-train"
TUNED_FIELDS = ("factors", "regularization", "alpha")
_ACTIVATION_LOCK = zlib.crc32(b"recs.model_activate")  # pg advisory lock key


# --------------------------------------------------------------------------- defaults


def recs_weights_default() -> ConfidenceWeights:
    """Confidence weights from the RECS_WEIGHT_* settings."""
    return ConfidenceWeights(
        rating_threshold=settings.RECS_WEIGHT_RATING_THRESHOLD,
        favorite=settings.RECS_WEIGHT_FAVORITE,
        watchlist=settings.RECS_WEIGHT_WATCHLIST,
        playlist=settings.RECS_WEIGHT_PLAYLIST,
        half_life_days=settings.RECS_HALF_LIFE_DAYS,
    )


def recs_params_default() -> AlsParams:
    """RECS_* settings, with the newest tuning run's winner on top (if enabled).

    Tuning only searches factors / regularization / alpha, so only those are taken from it.
    """
    params = AlsParams(
        factors=settings.RECS_FACTORS,
        regularization=settings.RECS_REGULARIZATION,
        alpha=settings.RECS_ALPHA,
        iterations=settings.RECS_ITERATIONS,
        num_threads=settings.RECS_NUM_THREADS,
    )
    if settings.RECS_USE_TUNED_PARAMS:
        tuned = TuningRun.objects.order_by("-created_at", "-id").first()
        if tuned is not None:
            winner = {k: tuned.best_params[k] for k in TUNED_FIELDS if k in tuned.best_params}
            params = replace(params, **winner)
    return params


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


def _abandoned_mark_failed() -> int:
    """Rows left in ``training`` by a killed worker, past the hard time limit, become failed."""
    stale = timezone.now() - timedelta(seconds=settings.RECS_TRAIN_LOCK_TIMEOUT)
    return ModelVersion.objects.filter(
        status=ModelVersion.Status.TRAINING, created_at__lt=stale
    ).update(
        status=ModelVersion.Status.FAILED,
        error="abandoned: the training process died before finishing",
        finished_at=timezone.now(),
    )


def recs_model_train(
    *, params: AlsParams | None = None, tune: bool = False, progress: Progress | None = None
) -> ModelVersion:
    """Extract -> build -> split -> fit -> evaluate -> publish a new version (status ready).

    The version is not activated here (see ``recs_model_promote_if_better``). Artifacts go to
    a fresh directory; on any error (including a Celery soft time limit) the row becomes
    ``failed`` with the error, the partial artifact is removed and the exception re-raised.
    """
    _abandoned_mark_failed()
    version = ModelVersion.objects.create(status=ModelVersion.Status.TRAINING)
    artifact: Path | None = None
    timings = Timings()
    try:
        with timings.stage("extract"):
            extracted = interactions_extract()
            report(progress, "extract", 1, 1)
        _require_enough(extracted)
        version.data_cutoff = extracted.cutoff
        version.data_counts = extracted.counts()
        if tune:
            with timings.stage("tune"):
                run = _tune(extracted, params=params, progress=progress)
            params = AlsParams.from_dict(run.best_params)
        params = params or recs_params_default()
        version.params = params.to_dict()
        version.save(update_fields=["data_cutoff", "data_counts", "params"])

        result = pipeline_run(
            extracted.interactions,
            params,
            weights=recs_weights_default(),
            now=extracted.now,
            test_fraction=settings.RECS_TEST_FRACTION,
            seed=settings.RECS_SPLIT_SEED,
            k=settings.RECS_EVAL_K,
            progress=progress,
        )
        # The engine times build, split, fit, evaluate and the refit on all rows (part of fit).
        engine = result.timings
        for name in ("build", "split", "fit", "evaluate"):
            timings.seconds[name] = engine.get(name, 0.0)
        timings.seconds["fit"] += engine.get("refit", 0.0)

        with timings.stage("publish"):
            relative = f"v{version.pk}-{timezone.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
            version.metrics = _metrics_dict(result.metrics)
            version.baseline_metrics = _metrics_dict(result.baseline)
            version.data_counts = {
                **version.data_counts,
                "train_interactions": len(result.split.train),
                "test_ratings": result.split.n_test,
                "model_users": result.model.n_users,
                "model_movies": result.model.n_items,
            }
            artifact = artifacts.save(
                result.model,
                Path(settings.RECS_MODEL_DIR) / relative,
                meta={
                    "version": version.pk,
                    "metrics": version.metrics,
                    "baseline_metrics": version.baseline_metrics,
                    "data_counts": version.data_counts,
                    "data_cutoff": extracted.cutoff.isoformat(),
                },
            )
            version.artifact_path = relative
            version.status = ModelVersion.Status.READY
            version.finished_at = timezone.now()
            version.timings = {}
            version.save()
        version.timings = {k: round(v, 4) for k, v in timings.seconds.items()}
        version.save(update_fields=["timings"])
    except BaseException as exc:
        if artifact is not None:
            shutil.rmtree(artifact, ignore_errors=True)
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.FAILED,
            error="".join(traceback.format_exception_only(exc)).strip()[:5000],
            artifact_path="",
            timings={k: round(v, 4) for k, v in timings.seconds.items()},
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
            artifacts.load(Path(settings.RECS_MODEL_DIR) / locked.artifact_path)
        except (artifacts.ArtifactError, OSError) as exc:
            raise ValidationError({"artifact_path": f"artifact is not loadable: {exc}"}) from exc
        now = timezone.now()
        ModelVersion.objects.active().update(status=ModelVersion.Status.RETIRED)
        locked.status = ModelVersion.Status.ACTIVE
        locked.activated_at = now
        locked.full_clean()
        locked.save(update_fields=["status", "activated_at"])
        pk = locked.pk
        transaction.on_commit(lambda: cache.set(ACTIVE_VERSION_CACHE_KEY, pk, timeout=None))
    log.info("recs.model.activated", version=locked.pk)
    version.refresh_from_db()
    return version


def recs_model_active() -> ModelVersion | None:
    return ModelVersion.objects.active().first()


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    note: str


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


def recs_model_train_and_promote(
    *, params: AlsParams | None = None, tune: bool = False, progress: Progress | None = None
) -> ModelVersion:
    """What the task, the command and the schedule run: train, then gate."""
    version = recs_model_train(params=params, tune=tune, progress=progress)
    return recs_model_promote_if_better(version)


# --------------------------------------------------------------------------- retraining


@dataclass(frozen=True)
class RetrainDecision:
    version: ModelVersion | None  # the version trained now, if any
    new_feedback: int
    reason: str


def recs_retrain_if_needed(*, progress: Progress | None = None) -> RetrainDecision:
    """Retrain when enough feedback arrived since the newest evaluated version's cutoff.

    The reference is the newest active, ready, rejected or retired version, not only the
    active one: a rejected retrain on the same data is not retried every hour.
    """
    reference = (
        ModelVersion.objects.exclude(
            status__in=[ModelVersion.Status.FAILED, ModelVersion.Status.TRAINING]
        )
        .exclude(data_cutoff=None)
        .order_by("-data_cutoff")
        .first()
    )
    if reference is None:
        version = recs_model_train_and_promote(progress=progress)
        return RetrainDecision(version, 0, "no trained model yet")
    new = feedback_count_since(reference.data_cutoff)
    threshold = settings.RECS_RETRAIN_MIN_NEW_FEEDBACK
    if new < threshold:
        return RetrainDecision(
            None, new, f"{new} new interactions since v{reference.pk}; waiting for {threshold}"
        )
    version = recs_model_train_and_promote(progress=progress)
    return RetrainDecision(version, new, f"{new} new interactions since v{reference.pk}")


# --------------------------------------------------------------------------- tuning


def _tune(
    extracted: Extracted,
    *,
    params: AlsParams | None = None,
    grid: dict[str, list[Any]] | None = None,
    max_trials: int | None = None,
    progress: Progress | None = None,
) -> TuningRun:
    started = time.perf_counter()
    split = holdout_split(
        extracted.interactions,
        fraction=settings.RECS_TEST_FRACTION,
        seed=settings.RECS_SPLIT_SEED,
    )
    # Tune on the training part of the same split training evaluates on: test stays unseen.
    result = engine_tune(
        split.train,
        grid or DEFAULT_GRID,
        base=params or recs_params_default(),
        weights=recs_weights_default(),
        now=extracted.now,
        validation_fraction=settings.RECS_TEST_FRACTION,
        max_trials=max_trials or settings.RECS_TUNE_MAX_TRIALS,
        k=settings.RECS_EVAL_K,
        progress=progress,
    )
    return TuningRun.objects.create(
        best_params=result.best_params.to_dict(),
        best_ndcg=result.best_ndcg,
        trials=result.table,
        data_counts=extracted.counts(),
        seconds=time.perf_counter() - started,
    )


def recs_tune(
    *,
    grid: dict[str, list[Any]] | None = None,
    max_trials: int | None = None,
    progress: Progress | None = None,
) -> TuningRun:
    """Grid-search ALS hyper-parameters on the current data and store the winner.

    ``max_trials`` defaults to RECS_TUNE_MAX_TRIALS (a seeded random subset of a larger
    grid). The stored run becomes the training default (``recs_params_default``) for the tuned
    fields, so the nightly retrain picks it up without a deploy.
    """
    extracted = interactions_extract()
    _require_enough(extracted)
    return _tune(extracted, grid=grid, max_trials=max_trials, progress=progress)


# --------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    """Fresh offline comparison of the active model's recipe against popularity."""

    version: ModelVersion
    model: dict[str, float | int]
    baseline: dict[str, float | int]
    comparison: dict[str, dict[str, float]]
    data_counts: dict[str, int]
    seed: int
    seconds: float


def recs_model_evaluate(
    *,
    version: ModelVersion | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Re-evaluate a version (default: the active one) on a fresh split of the current data.

    The served artifact was refit on every row, so scoring it on any holdout of today's data
    would grade it on its own training answers. Instead its exact parameters and weights are
    fitted on the train part of a new split and compared with popularity on the test part.
    """
    from recs.engine.als import train as engine_train

    version = version or recs_model_active()
    if version is None:
        raise ModelVersion.DoesNotExist("no active model")
    started = time.perf_counter()
    served: AlsModel = artifacts.load(Path(settings.RECS_MODEL_DIR) / version.artifact_path)
    extracted = interactions_extract()
    _require_enough(extracted)
    seed = int(time.time()) % 1_000_000 if seed is None else seed
    rows = extracted.interactions
    full = rows.to_matrix(served.weights, now=extracted.now)
    split = holdout_split(rows, fraction=settings.RECS_TEST_FRACTION, seed=seed)
    train_matrix = split.train.to_matrix(
        served.weights, now=extracted.now, user_index=full.user_index, item_index=full.item_index
    )
    model = engine_train(train_matrix, served.params, progress=progress)
    k = settings.RECS_EVAL_K
    metrics = evaluate_model(model, train_matrix, split, k, progress=progress)
    baseline = evaluate_popularity(train_matrix, split, k)
    return Evaluation(
        version=version,
        model=_metrics_dict(metrics),
        baseline=_metrics_dict(baseline),
        comparison=compare(metrics, baseline),
        data_counts=extracted.counts(),
        seed=seed,
        seconds=time.perf_counter() - started,
    )
