from django.apps import AppConfig


class MoviesConfig(AppConfig):
    name = "movies"
    verbose_name = "Movies"

    def ready(self) -> None:
        from movierec.graphql import response_cache
        from movierec.metrics import register_gauges
        from movies.metrics import sync_gauges
        from movies.services import TRENDING_VERSION_KEY

        # Catalogue writes and trending syncs invalidate cached anonymous responses.
        response_cache.track("movies", TRENDING_VERSION_KEY)
        # Signed-in catalogue reads too, per viewer (their flags and match scores change only
        # through their feedback, which replaces the viewer's version).
        response_cache.track_viewer_field("movies")
        response_cache.track_viewer_field("movie")
        register_gauges(sync_gauges)
