"""`manage.py bootstrap`, the compose stack's first boot: catalogue, then a first model."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from movies.models import Genre, Movie
from recs.models import ModelVersion
from tests.movies.sync_fixtures import _sync_server, sync_catalogue, tmdb_server  # noqa: F401


def _bootstrap(*args: str) -> str:
    out = StringIO()
    call_command("bootstrap", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_a_fresh_stack_with_credentials_syncs_then_waits_for_feedback(db, tmdb_server):  # noqa: F811
    out = _bootstrap("--pages", "2")

    assert out.startswith("bootstrap: synced 19 genres and 40 movies (2 popular pages); ")
    assert "no model yet: 0 interactions, training needs 100 (RECS_MIN_TRAIN_INTERACTIONS)" in out
    assert (Genre.objects.count(), Movie.objects.count()) == (19, 40)
    assert not ModelVersion.objects.exists()
    assert _bootstrap("--pages", "2").startswith("bootstrap: catalogue has 40 movies, not synced")


def test_without_credentials_the_catalogue_stays_empty(db, settings):
    settings.TMDB_API_URL = "https://api.themoviedb.org/3"
    settings.TMDB_READ_TOKEN = settings.TMDB_API_KEY = ""

    out = _bootstrap()

    assert out.startswith("bootstrap: no TMDb credentials (TMDB_READ_TOKEN / TMDB_API_KEY)")
    assert not Movie.objects.exists()


def test_with_feedback_it_trains_a_first_model_once(planted):
    out = _bootstrap()

    version = ModelVersion.objects.get()
    assert version.status == ModelVersion.Status.ACTIVE
    assert f"model v{version.pk} trained, active" in out
    assert f"model v{version.pk} already active" in _bootstrap()
    assert ModelVersion.objects.count() == 1
