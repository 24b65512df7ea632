from django.apps import AppConfig


class RatingsConfig(AppConfig):
    name = "ratings"
    verbose_name = "Ratings and lists"

    def ready(self) -> None:
        from movierec.events import user_deleting
        from ratings.graphql.extensions import extend_types
        from ratings.receivers import ratings_delete_with_user

        extend_types()
        user_deleting.connect(ratings_delete_with_user, dispatch_uid="ratings_delete_with_user")
