from django.apps import AppConfig


class MovierecConfig(AppConfig):
    name = "movierec"

    def ready(self) -> None:
        from movierec.graphql import response_cache

        # Writes to the public catalogue invalidate cached anonymous responses.
        response_cache.connect()
