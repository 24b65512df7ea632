from django.apps import AppConfig


class MoviesConfig(AppConfig):
    name = "movies"
    verbose_name = "Movies"

    def ready(self) -> None:
        from movierec.metrics import register_gauges
        from movies.metrics import sync_gauges

        register_gauges(sync_gauges)
