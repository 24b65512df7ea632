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
    for stage in ("extract", "build", "fit", "evaluate", "publish"):
        assert re.search(rf"{stage} \d+\.\d\ds", first), stage
    assert "15000 interactions" in first
    assert output.splitlines()[1] == f"gate: {version.note}"


def test_train_model_async_enqueues_the_task(planted):
    output = _run("train_model", "--async")  # eager under test settings: it also ran
    assert re.fullmatch(r"queued training task [0-9a-f-]+ on the ml queue\n", output)
    assert ModelVersion.objects.get().status == ModelVersion.Status.ACTIVE


def test_evaluate_model_prints_the_model_and_popularity_rows(planted):
    _run("train_model")
    version = ModelVersion.objects.get()

    output = _run("evaluate_model", "--seed", "7")

    lines = output.splitlines()
    assert lines[0].startswith(f"model v{version.pk} (active) params factors=64 ")
    assert "fresh split seed 7 over 15000 interactions (300 users, 400 movies)" in lines[0]
    header, model_row, baseline_row, ratio_row = lines[1], lines[3], lines[4], lines[5]
    assert header.split() == ["precision@10", "recall@10", "ndcg@10", "map@10", "coverage"]
    assert model_row.startswith(f"model v{version.pk} ")
    assert baseline_row.startswith("popularity ")
    assert ratio_row.startswith("model / baseline ")
    model_ndcg, base_ndcg, ratio = (
        float(r.split()[-3]) for r in (model_row, baseline_row, ratio_row)
    )
    assert model_ndcg > base_ndcg
    assert ratio == pytest.approx(model_ndcg / base_ndcg, abs=0.01)
    assert ratio >= 1.3


def test_evaluate_model_without_an_active_model_is_an_error(db):
    with pytest.raises(CommandError, match="no active model"):
        _run("evaluate_model")


def test_tune_model_stores_the_winner(planted):
    output = _run("tune_model", "--factors", "2,32", "--regularization", "50", "--alpha", "5")

    run = TuningRun.objects.get()
    assert run.best_params["factors"] == 32
    assert output.splitlines()[-1].startswith(
        f"tuning run {run.pk}: best factors=32 regularization=50.0 alpha=5.0"
    )
    assert len(output.splitlines()) == 3


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
