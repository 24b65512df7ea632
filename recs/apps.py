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
        from movierec.health import register_check
        from recs.graphql.movie_fields import extend_types
        from recs.health import check_model

        extend_types()
        register_check("model", check_model)
        # Any new feedback drops the user's cached vector and lists, after commit, so the
        # next request recomputes them from current data (real-time updates).
        user_feedback_changed.connect(_invalidate_user_cache, dispatch_uid="recs_user_cache")
