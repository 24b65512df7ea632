"""First boot of a fresh deployment (the compose ``bootstrap`` service): a catalogue and a
first model now, rather than at tonight's scheduled runs. Idempotent: each step is skipped
when its result is already there, so the service can run on every ``up``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError


@dataclass
class BootstrapSummary:
    steps: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "bootstrap: " + "; ".join(self.steps)


def bootstrap_run(
    *, pages: int, progress: Callable[[int, int], None] | None = None
) -> BootstrapSummary:
    """Genres and ``pages`` popular pages when the catalogue is empty and TMDb can be called,
    then a first model when none is active and there is enough feedback to train on.
    ``progress(done, total)`` follows the popular sync."""
    from movies import services as movie_services
    from movies.selectors import movie_count
    from movies.sync import jobs
    from movies.tmdb_access import tmdb_credentials_missing
    from recs import services as recs_services
    from recs.extract import feedback_count_since

    summary = BootstrapSummary()
    movies = movie_count()
    if movies:
        summary.steps.append(f"catalogue has {movies} movies, not synced")
    elif tmdb_credentials_missing():
        summary.steps.append(
            "no TMDb credentials (TMDB_READ_TOKEN / TMDB_API_KEY), catalogue left empty"
        )
    else:
        client = movie_services.tmdb_client_from_settings()
        genres = jobs.genres_sync(client=client)
        popular = jobs.popular_sync(pages=pages, client=client, progress=progress)
        summary.steps.append(
            f"synced {genres.created} genres and {popular.created} movies ({pages} popular pages)"
        )
    active = recs_services.recs_model_active()
    if active is not None:
        summary.steps.append(f"model v{active.pk} already active")
        return summary
    feedback = feedback_count_since(datetime.min.replace(tzinfo=UTC))
    if feedback < settings.RECS_MIN_TRAIN_INTERACTIONS:
        # Checked first so that a fresh stack does not record a failed training on every up;
        # the hourly retrain check trains once the feedback is there.
        summary.steps.append(
            f"no model yet: {feedback} interactions, training needs "
            f"{settings.RECS_MIN_TRAIN_INTERACTIONS} (RECS_MIN_TRAIN_INTERACTIONS)"
        )
        return summary
    try:
        version = recs_services.recs_model_train()
    except ValidationError as exc:
        summary.steps.append(f"no model yet: {'; '.join(exc.messages)}")
        return summary
    summary.steps.append(f"model v{version.pk} trained, {version.status}")
    return summary
