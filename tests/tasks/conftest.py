"""Fixtures for the task tests: the TMDb dev server (sync) and planted recs data (training)."""

from tests.movies.sync_fixtures import _sync_server, sync_catalogue, tmdb_server  # noqa: F401
from tests.recs.training.conftest import model_dir, planted, planted_committed  # noqa: F401
