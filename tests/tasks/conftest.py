"""The recs fixtures (planted data, model directory) for the training task tests."""

from tests.recs.conftest import model_dir, planted, planted_committed  # noqa: F401
