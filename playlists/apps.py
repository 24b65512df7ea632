from django.apps import AppConfig


class PlaylistsConfig(AppConfig):
    name = "playlists"
    verbose_name = "Playlists"

    def ready(self) -> None:
        from playlists.graphql.extensions import extend_types

        extend_types()
