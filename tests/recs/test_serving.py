import contextlib
import shutil
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from ratings.models import Rating
from recs import selectors, serving
from recs.models import ModelVersion
from recs.selectors import RecSource
from tests.recs.conftest import activate_new_model, all_interactions, rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    """Point the cache at a dead port, as tests/core/test_health.py does."""
    from django.core.cache import caches
    from django_redis import get_redis_connection

    get_redis_connection("default").connection_pool.disconnect()
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    caches._settings = None
    with contextlib.suppress(AttributeError):
        del caches._connections.default
    yield
    caches._settings = None
    with contextlib.suppress(AttributeError):
        del caches._connections.default


# ------------------------------------------------------------------ the registry


def test_the_active_model_is_loaded_once_and_reused(active_model):
    first = serving.active_model()
    assert first is not None and first.version == active_model.pk
    assert serving.active_model() is first


def test_no_active_model_means_none(planted):
    assert serving.active_model() is None


def test_activating_a_new_version_is_picked_up_without_restart(active_model, settings):
    settings.RECS_VERSION_CHECK_SECONDS = 3600
    assert serving.active_model().version == active_model.pk
    newer = activate_new_model()
    # Within the check interval the process keeps serving what it has...
    assert serving.active_model().version == active_model.pk
    # ...and picks the new version up at the next check.
    settings.RECS_VERSION_CHECK_SECONDS = 0
    assert serving.active_model().version == newer.pk


def test_the_database_answers_when_the_version_key_is_missing(active_model):
    newer = activate_new_model(publish=False)
    cache.delete(serving.ACTIVE_VERSION_KEY)
    assert serving.active_model().version == newer.pk
    assert cache.get(serving.ACTIVE_VERSION_KEY) == newer.pk


def test_a_stale_version_key_is_checked_against_the_database(active_model):
    cache.set(serving.ACTIVE_VERSION_KEY, active_model.pk + 1000)
    assert serving.active_model().version == active_model.pk


def test_deactivation_stops_personalized_serving(active_model):
    assert serving.active_model() is not None
    ModelVersion.objects.update(status=ModelVersion.Status.RETIRED)
    cache.set(serving.ACTIVE_VERSION_KEY, 0)
    assert serving.active_model() is None


def test_a_broken_artifact_keeps_the_previous_model(active_model):
    first = serving.active_model()
    broken = activate_new_model()
    shutil.rmtree(django_settings.RECS_MODEL_DIR / broken.artifact_path)
    assert serving.active_model() is first


# ------------------------------------------------------------------ invalidation


def test_feedback_change_invalidates_only_that_users_entries(
    planted, active_model, user, other_user
):
    rate(user, planted.movies["Crime"][5:12])
    rate(other_user, planted.movies["Drama"][5:12])
    before = selectors.recommendations_for_user(user, n=5)
    other_before = serving.user_generation(other_user.pk)
    # A write that nobody reports is not seen: the cached list is served.
    Rating.objects.create(user=user, movie=before[0].movie, score=Decimal("5.0"))
    assert selectors.recommendations_for_user(user, n=5) == before
    serving.user_cache_invalidate(user.pk)
    after = selectors.recommendations_for_user(user, n=5)
    assert before[0].movie not in [r.movie for r in after]
    assert serving.user_generation(other_user.pk) == other_before


def test_a_new_model_invalidates_personalized_entries(planted, active_model, user):
    rate(user, planted.movies["Crime"][5:12])
    before = selectors.recommendations_for_user(user, n=5)
    assert serving.active_model().version == active_model.pk
    # A model trained without any Crime fan knows no Crime taste: the list must change.
    rows = all_interactions()
    crime = list(planted.ids("Crime"))
    import numpy as np

    newer = activate_new_model(rows.subset(~np.isin(rows.item_ids, crime)))
    after = selectors.recommendations_for_user(user, n=5)
    assert serving.active_model().version == newer.pk
    assert [r.movie for r in after] != [r.movie for r in before]
    assert not {r.movie.pk for r in after if r.source == RecSource.PERSONALIZED} & set(crime)


# ------------------------------------------------------------------ redis outage


def test_recommendations_still_answer_when_redis_is_down(planted, active_model, user, redis_down):
    rate(user, planted.movies["Crime"][5:12])
    assert serving.user_generation(user.pk) is None
    recs = selectors.recommendations_for_user(user, n=10)
    assert [r.source for r in recs] == [RecSource.PERSONALIZED] * 10
    assert {r.movie.pk for r in recs} <= planted.ids("Crime")
    assert len(selectors.trending_movies(n=10)) == 10
    assert len(selectors.recommendations_for_user(None, n=10)) == 10
    crime = planted.movies["Crime"][0]
    assert selectors.match_scores_for_user(user, [crime.pk])[crime.pk] > 0.5
    assert len(selectors.movie_similar_list(crime, n=5)) == 5
    serving.user_cache_invalidate(user.pk)  # logged, not raised


def test_user_scores_follow_current_feedback(planted, active_model, user):
    model = serving.active_model().model
    rate(user, planted.movies["Crime"][5:12])
    crime = model.user_scores(serving.taste_profile(user.pk).interactions)
    rate(user, planted.movies["Crime"][5:12], score="1.0")
    disliked = model.user_scores(serving.taste_profile(user.pk).interactions)
    # Disliked films give ALS nothing to solve for and push EASE's neighbours down.
    assert crime.als_vector.any() and not disliked.als_vector.any()
    crime_idx = model.item_index.to_index(np.array(sorted(planted.ids("Crime"))))
    assert crime.scores[crime_idx].mean() > 0 > disliked.scores[crime_idx].mean()
