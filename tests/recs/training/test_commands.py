"""train_model, evaluate_model, tune_model, import_movielens; and the demo data."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from movies.models import Movie
from ratings.models import Rating
from recs.models import ModelVersion, TuningRun
from recs.movielens import movielens_fixture_write
from tests.factories import GenreFactory, MovieFactory, UserFactory


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, verbosity=0)
    return out.getvalue()


def test_train_model_prints_the_summary_and_activates(planted):
    output = _run("train_model")

    version = ModelVersion.objects.get()
    assert version.status == ModelVersion.Status.ACTIVE
    first = output.splitlines()[0]
    assert first.startswith(f"model v{version.pk} active: ndcg@10 ")
    for stage in ("extract", "tune", "fit", "evaluate", "calibrate", "refit", "publish"):
        assert re.search(rf"{stage} \d+\.\d\ds", first), stage
    assert f"{version.data_counts['interactions']} interactions" in first
    assert output.splitlines()[1].startswith("tuning: ")
    assert "'reason': 'no tuning run yet'" in output.splitlines()[1]
    assert output.splitlines()[2] == f"gate: {version.note}"


def test_train_model_while_another_training_runs_is_an_error(planted):
    from movierec.locks import job_lock
    from recs.services import TRAIN_LOCK

    with job_lock(TRAIN_LOCK, timeout=60), pytest.raises(CommandError, match="lock held"):
        _run("train_model")
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db(transaction=True)  # committed, as outside tests: the outbox publishes
def test_train_model_async_enqueues_the_task(planted):
    output = _run("train_model", "--async")  # eager under test settings: it also ran
    assert re.fullmatch(r"queued training task [0-9a-f-]+ on the ml queue\n", output)
    assert ModelVersion.objects.get().status == ModelVersion.Status.ACTIVE


def test_evaluate_model_prints_every_model_over_seeds(planted):
    _run("train_model")
    version = ModelVersion.objects.get()

    output = _run("evaluate_model", "--seed", "7", "--seeds", "2")

    lines = output.splitlines()
    assert lines[0].startswith(f"model v{version.pk} (active) params {{'als': ")
    assert "validation {" in lines[0] and "'ndcg@10': " in lines[0]
    count = version.data_counts["interactions"]
    assert lines[1].startswith(f"seeds [7, 8] over {count} interactions (300 users, 400 movies)")
    header = lines[2].split()
    assert header == ["model", "precision@10", "recall@10", "ndcg@10", "map@10", "coverage"]
    rows = {line.split()[0]: line for line in lines[4:9]}
    assert set(rows) == {"popularity", "als", "ease", "cooc", "hybrid"}

    def ndcg(row: str) -> float:
        return float(row.split()[1 + 3 * 2])  # label, then "mean ± spread" per column

    assert ndcg(rows["hybrid"]) >= 1.3 * ndcg(rows["popularity"])
    assert lines[-1].startswith("at training: ndcg@10 ")


def test_evaluate_model_without_an_active_model_is_an_error(db):
    with pytest.raises(CommandError, match="no active model"):
        _run("evaluate_model")


def test_tune_model_stores_the_winner(planted):
    output = _run("tune_model", "--max-trials", "2")

    run = TuningRun.objects.get()
    assert set(run.best_params) == {"als", "ease", "cooc", "blend"}
    assert output.splitlines()[-1].startswith(f"tuning run {run.pk}: {{'als': ")
    assert "now the training default" in output.splitlines()[-1]
    assert len(output.splitlines()) == len(run.trials) + 1


def test_import_movielens_command(db, tmp_path):
    files = movielens_fixture_write(tmp_path, n_users=20, n_movies=60, n_ratings=600, seed=1)
    args = ["--ratings", str(files["ratings"]), "--movies", str(files["movies"])]
    output = _run("import_movielens", *args, "--links", str(files["links"]))
    assert re.fullmatch(
        r"imported in \d+\.\ds \(copy [^)]*upsert \d+\.\ds\): ml-20m/25m/latest \(CSV\): "
        r"600 ratings read; users \+20; movies \+60 \(matched 0\); ratings \+600 ~0 =0; "
        r"skipped: none\n",
        output,
    )
    assert (Movie.objects.count(), Rating.objects.count()) == (60, 600)

    with pytest.raises(CommandError, match="no such file"):
        _run("import_movielens", "--ratings", str(tmp_path / "missing.csv"))


def test_demo_users_get_taste_structure_and_a_first_model(db, model_dir):
    from movierec.demo import DEMO_USERNAME
    from recs.demo import demo_model_ensure, demo_users_seed

    genres = [GenreFactory(name=n) for n in ("Action", "Drama", "Comedy", "Horror")]
    for n in range(120):
        MovieFactory(genres=[genres[n % 4]])
    demo = UserFactory(username=DEMO_USERNAME)

    assert demo_users_seed(n_users=80) == 80
    assert demo_users_seed(n_users=80) == 0  # idempotent
    demo_ratings = Rating.objects.filter(user=demo)
    assert demo_ratings.count() == 8
    assert {r.movie.genres.get().name for r in demo_ratings} == {"Action"}  # one taste cluster
    assert Rating.objects.filter(user__username__startswith="demo_").exists()
    rated = Movie.objects.filter(ratings__isnull=False).distinct().first()
    assert rated.rating_count == rated.ratings.count()

    version = demo_model_ensure()
    assert version.status == ModelVersion.Status.ACTIVE
    assert demo_model_ensure() is None
