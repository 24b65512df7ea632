from typing import Any

from django.apps import AppConfig


def _invalidate_user_cache(sender: Any, *, user_id: int, **kwargs: Any) -> None:
    from recs.serving import user_cache_invalidate

    user_cache_invalidate(user_id)


class RecsConfig(AppConfig):
    name = "recs"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        from movierec.events import user_feedback_changed
        from movierec.graphql import response_cache
        from movierec.health import register_check
        from movierec.metrics import register_gauges
        from recs.graphql.movie_fields import extend_types
        from recs.health import check_model
        from recs.metrics import model_gauges
        from recs.serving import ACTIVE_VERSION_KEY

        extend_types()
        register_check("model", check_model)
        register_gauges(model_gauges)
        # A model activation (or any ModelVersion write) invalidates cached anonymous answers.
        response_cache.track("recs", ACTIVE_VERSION_KEY)
        # A signed-in viewer's own list and the trending list are answered whole from Redis
        # while nothing they show changed; another user's list (staff) never is.
        response_cache.track_viewer_field("recommendations", {"userId"})
        response_cache.track_viewer_field("trending")
        # Any new feedback drops the user's cached vector and lists, after commit, so the
        # next request recomputes them from current data (real-time updates).
        user_feedback_changed.connect(_invalidate_user_cache, dispatch_uid="recs_user_cache")
