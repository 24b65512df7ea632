from tests.movies.sync_fixtures import _sync_server, sync_catalogue, tmdb_server  # noqa: F401
