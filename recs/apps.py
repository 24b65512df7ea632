from django.apps import AppConfig


class RecsConfig(AppConfig):
    name = "recs"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        from ratings.services import on_feedback_changed
        from recs.serving import recs_user_feedback_changed

        # Any new feedback drops the user's cached vector and lists, after commit, so the
        # next request recomputes them from current data (real-time updates).
        on_feedback_changed(lambda user_id, movie_id: recs_user_feedback_changed(user_id))
