"""recs.services on a planted-taste dataset in the database: train, gate, activate, fail."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from recs import artifact_store, services
from recs.engine.als import AlsParams
from recs.engine.hybrid import BlendParams, HybridParams
from recs.engine.matrix import KIND_PLAYLIST, KIND_RATING
from recs.engine.tune import POPULARITY_PENALTIES
from recs.extract import feedback_count_since, interactions_extract
from recs.models import ModelVersion, TuningRun
from tests.factories import (
    MovieFactory,
    PlaylistFactory,
    PlaylistItemFactory,
    RatingFactory,
    UserFactory,
)

METRIC_KEYS = {"precision@10", "recall@10", "ndcg@10", "map@10", "coverage", "test_users"}


def _train_active(django_capture_on_commit_callbacks) -> ModelVersion:
    with django_capture_on_commit_callbacks(execute=True):
        return services.recs_model_train()


def _als_only(**als: object) -> HybridParams:
    return HybridParams(als=AlsParams(**als), blend=BlendParams(als_weight=1.0))


def test_extract_reads_ratings_and_shared_playlists_only(db):
    user, other = UserFactory(), UserFactory()
    a, b, c, d = MovieFactory(), MovieFactory(), MovieFactory(), MovieFactory()
    RatingFactory(user=user, movie=a, score=Decimal("4.5"))
    RatingFactory(user=other, movie=a, score=Decimal("1.0"))
    # Private signals never reach training (they shape only their owner's own lists).
    user.favorites.create(movie=b)
    other.watchlist.create(movie=c)
    PlaylistItemFactory(playlist=PlaylistFactory(owner=other, visibility="PRIVATE"), movie=d)
    user.not_interested.create(movie=d)
    other.not_interested.create(movie=a)
    mine = PlaylistFactory(owner=user, visibility="PUBLIC")
    also_mine = PlaylistFactory(owner=user, visibility="UNLISTED")
    PlaylistItemFactory(playlist=mine, movie=c, position=0)
    PlaylistItemFactory(playlist=also_mine, movie=c, position=0)  # same film twice: one row

    extracted = interactions_extract()
    rows = extracted.interactions
    got = sorted(
        zip(
            rows.user_ids.tolist(),
            rows.item_ids.tolist(),
            rows.scores.tolist(),
            rows.kinds.tolist(),
            strict=True,
        )
    )
    assert got == sorted(
        [
            (user.pk, a.pk, 4.5, KIND_RATING),
            (other.pk, a.pk, 1.0, KIND_RATING),
            (user.pk, c.pk, 0.0, KIND_PLAYLIST),
        ]
    )
    assert rows.user_ids.dtype == np.int64 and rows.scores.dtype == np.float32
    assert np.all(rows.timestamps <= extracted.now)
    assert np.all(rows.timestamps > extracted.now - 3600)
    assert extracted.counts() == {
        "interactions": 3, "ratings": 2, "favorites": 0, "watchlist": 0, "playlist_items": 1,
        "users": 2, "movies": 2,
    }  # fmt: skip


def test_extract_of_an_empty_database_is_empty(db):
    assert len(interactions_extract().interactions) == 0


def test_trained_model_beats_popularity_and_is_activated(
    planted, django_capture_on_commit_callbacks
):
    version = _train_active(django_capture_on_commit_callbacks)

    assert version.status == ModelVersion.Status.ACTIVE
    assert version.activated_at is not None
    assert set(version.metrics) == METRIC_KEYS | {"components", "reliability"}
    assert set(version.baseline_metrics) == METRIC_KEYS
    # Each component the served blend uses, ranked alone on the same split.
    params = version.params["blend"]
    expected = {"als"} | ({"ease"} if params["als_weight"] < 1 else set())
    assert set(version.metrics["components"]) == expected | (
        {"cooc"} if params["cooc_weight"] else set()
    )
    assert len(version.metrics["reliability"]) == 10
    assert version.metrics["ndcg@10"] >= 1.3 * version.baseline_metrics["ndcg@10"]
    assert version.note.startswith("ndcg@10 ")
    assert "beats popularity" in version.note
    assert {"extract", "tune", "fit", "evaluate", "calibrate", "refit", "publish"} <= set(
        version.timings
    )
    assert (
        version.data_counts["interactions"] == 13_250
    )  # ratings only: planted playlists are private
    # The first training tunes (no tuning run yet) and keeps the choice with the version.
    run = TuningRun.objects.get()
    assert version.tuning_run == run and version.params == run.best_params
    assert version.validation["reason"] == "no tuning run yet"
    assert version.validation["ndcg@10"] == run.best_ndcg
    assert version.data_cutoff is not None
    assert cache.get(services.keys.ACTIVE_VERSION) == version.pk

    model = artifact_store.artifact_load(version.artifact_path)
    assert not version.artifact_path.startswith("/")
    assert set(model.item_index.to_array().tolist()) == set(planted.movie_pks.tolist())
    assert set(model.user_index.to_array().tolist()) == set(planted.user_pks.tolist())


def test_model_that_loses_to_popularity_is_rejected_and_the_old_one_keeps_serving(
    planted, django_capture_on_commit_callbacks
):
    good = _train_active(django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        bad = services.recs_model_train(params=_als_only(factors=1, iterations=1))

    assert bad.status == ModelVersion.Status.REJECTED
    assert "does not beat the popularity baseline" in bad.note
    assert bad.metrics["ndcg@10"] < bad.baseline_metrics["ndcg@10"]
    good.refresh_from_db()
    assert good.status == ModelVersion.Status.ACTIVE
    assert services.recs_model_active() == good
    assert cache.get(services.keys.ACTIVE_VERSION) == good.pk


def test_model_too_far_below_the_active_one_is_rejected(
    planted, django_capture_on_commit_callbacks
):
    good = _train_active(django_capture_on_commit_callbacks)

    weaker = services.recs_model_train(params=_als_only(factors=4, regularization=200.0))

    assert weaker.metrics["ndcg@10"] > weaker.baseline_metrics["ndcg@10"]  # beats popularity
    assert weaker.status == ModelVersion.Status.REJECTED
    assert f"more than 5% below the active v{good.pk}" in weaker.note
    assert services.recs_model_active() == good


def test_equal_retrain_replaces_the_active_model(planted, django_capture_on_commit_callbacks):
    first = _train_active(django_capture_on_commit_callbacks)
    second = _train_active(django_capture_on_commit_callbacks)

    first.refresh_from_db()
    assert second.status == ModelVersion.Status.ACTIVE
    assert first.status == ModelVersion.Status.RETIRED
    assert f"within 5% of active v{first.pk}" in second.note
    assert cache.get(services.keys.ACTIVE_VERSION) == second.pk
    assert second.artifact_path != first.artifact_path


def test_failed_training_leaves_the_active_model_untouched(
    planted, settings, tmp_path, django_capture_on_commit_callbacks
):
    good = _train_active(django_capture_on_commit_callbacks)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("storage went away")
    # Publishing cannot create the artifact directory.
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker)},
        },
    }

    with pytest.raises(OSError):
        services.recs_model_train()

    failed = ModelVersion.objects.exclude(pk=good.pk).get()
    assert failed.status == ModelVersion.Status.FAILED
    assert "not-a-directory" in failed.error
    assert failed.artifact_path == ""
    assert {"extract", "fit", "evaluate"} <= set(failed.timings)
    good.refresh_from_db()
    assert good.status == ModelVersion.Status.ACTIVE
    assert cache.get(services.keys.ACTIVE_VERSION) == good.pk


def test_training_on_too_little_data_fails_with_the_reason(db, model_dir):
    RatingFactory()

    with pytest.raises(ValidationError, match="only 1 interactions"):
        services.recs_model_train()

    version = ModelVersion.objects.get()
    assert version.status == ModelVersion.Status.FAILED
    assert "RECS_MIN_TRAIN_INTERACTIONS" in version.error
    assert services.recs_model_active() is None


def test_retired_model_can_be_activated_again_but_a_failed_one_cannot(
    planted, django_capture_on_commit_callbacks
):
    first = _train_active(django_capture_on_commit_callbacks)
    second = _train_active(django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        services.recs_model_activate(first)
    assert services.recs_model_active() == first
    second.refresh_from_db()
    assert second.status == ModelVersion.Status.RETIRED
    assert cache.get(services.keys.ACTIVE_VERSION) == first.pk

    broken = ModelVersion.objects.create(status=ModelVersion.Status.FAILED, error="boom")
    with pytest.raises(ValidationError):
        services.recs_model_activate(broken)
    assert services.recs_model_active() == first


def test_damaged_artifact_is_never_activated(planted, settings):
    version = services.recs_model_train(promote=False)
    (settings.RECS_MODEL_DIR / version.artifact_path / "item_factors.npy").write_bytes(b"bad")

    with pytest.raises(ValidationError, match="not loadable"):
        services.recs_model_activate(version)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.READY
    assert services.recs_model_active() is None


def test_abandoned_training_rows_are_marked_failed(planted, settings):
    stale = ModelVersion.objects.create(status=ModelVersion.Status.TRAINING)
    ModelVersion.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.RECS_TRAIN_LOCK_TTL + 60)
    )

    services.recs_model_train()

    stale.refresh_from_db()
    assert stale.status == ModelVersion.Status.FAILED
    assert stale.error.startswith("abandoned")


def test_retrain_waits_for_enough_new_feedback(
    planted, settings, django_capture_on_commit_callbacks
):
    settings.RECS_RETRAIN_MIN_NEW_FEEDBACK = 3
    active = _train_active(django_capture_on_commit_callbacks)

    waiting = services.recs_retrain_if_needed()
    assert waiting.version is None
    assert waiting.new_feedback == 0
    assert waiting.reason == f"0 new interactions since v{active.pk}; waiting for 3"

    newcomer = UserFactory()
    for movie_pk in planted.movie_pks[:3].tolist():
        RatingFactory(user=newcomer, movie_id=movie_pk, score=Decimal("5.0"))
    assert feedback_count_since(active.data_cutoff) == 3

    with django_capture_on_commit_callbacks(execute=True):
        decision = services.recs_retrain_if_needed()
    assert decision.new_feedback == 3
    assert decision.version is not None and decision.version.pk != active.pk
    assert decision.version.status == ModelVersion.Status.ACTIVE
    assert decision.version.data_counts["interactions"] == 13_253


def test_tuning_stores_the_winner_as_the_training_default(planted, settings):
    assert services.recs_params_default().als.factors == 64

    run = services.recs_tune(max_trials=2)

    assert TuningRun.objects.get() == run
    stages = [t["stage"] for t in run.trials]
    assert stages.count("als") == 2 and stages.count("ease") == 5
    blends = [t for t in run.trials if t["stage"] == "blend"]
    best = max(t["ndcg@10"] for t in blends)
    # The winner: the widest coverage within RECS_TUNE_NDCG_TOLERANCE of the best NDCG.
    tolerance = settings.RECS_TUNE_NDCG_TOLERANCE
    near = [t for t in blends if t["ndcg@10"] >= best * (1 - tolerance)]
    assert run.best_ndcg == run.validation["ndcg@10"] >= best * (1 - tolerance)
    assert run.validation["coverage"] == max(t["coverage"] for t in near)
    assert run.validation["best_ndcg@10"] == best
    assert services.recs_params_default().to_dict()["blend"] == run.best_params["blend"]
    # Unchanged data: the next training reuses the run instead of tuning again.
    version = services.recs_model_train()
    assert version.params == run.best_params and version.tuning_run == run
    assert "tune" not in version.timings and TuningRun.objects.count() == 1

    settings.RECS_USE_TUNED_PARAMS = False
    assert services.recs_params_default().als.factors == 64


def test_training_retunes_when_the_data_changed_materially_or_when_asked(planted, settings):
    first = services.recs_model_train()
    assert first.validation["reason"] == "no tuning run yet"
    assert services.recs_tuning_needed(first.data_counts) is None
    grown = {**first.data_counts, "users": int(first.data_counts["users"] * 1.3)}
    assert services.recs_tuning_needed(grown).startswith("users changed from 300 to 390")

    version = services.recs_model_train(tune=True)
    assert TuningRun.objects.count() == 2
    assert version.validation["reason"] == "asked (--tune)"
    assert version.params == TuningRun.objects.first().best_params
    assert "tune" in version.timings


def test_the_novelty_setting_replaces_the_tuned_popularity_penalty(planted, settings):
    settings.RECS_POPULARITY_PENALTY = 0.3
    version = services.recs_model_train(promote=False)
    assert version.params["blend"]["popularity_penalty"] == 0.3
    # The tuning run keeps what validation chose (0.3 is not on its grid).
    tuned = TuningRun.objects.get().best_params["blend"]["popularity_penalty"]
    assert tuned in POPULARITY_PENALTIES
    model = artifact_store.artifact_load(version.artifact_path)
    assert model.params.blend.popularity_penalty == 0.3


def test_a_held_training_lock_stops_the_service(planted):
    from movierec.locks import job_lock

    with job_lock(services.TRAIN_LOCK, timeout=60) as held:
        assert held
        with pytest.raises(services.TrainingLocked):
            services.recs_model_train()
    assert not ModelVersion.objects.exists()


def test_the_tested_sample_of_users_moves_with_each_version_only_when_sampled(db, settings):
    from recs.services import _split_seed

    settings.RECS_EVAL_MAX_USERS = 100
    small = [ModelVersion.objects.create(data_counts={"users": 100}) for _ in range(2)]
    big = [ModelVersion.objects.create(data_counts={"users": 101}) for _ in range(2)]

    assert {_split_seed(v) for v in small} == {settings.RECS_SPLIT_SEED}
    assert len({_split_seed(v) for v in big} | {settings.RECS_SPLIT_SEED}) == 3
