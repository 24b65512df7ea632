"""TMDb-compatible dev server: ``python -m tools.tmdb_devserver`` or ``DevServer`` in tests."""

from tools.tmdb_devserver.catalogue import GENRES, REAL_MOVIE_IDS, Catalogue
from tools.tmdb_devserver.server import DevApp, DevServer, Response

__all__ = ["GENRES", "REAL_MOVIE_IDS", "Catalogue", "DevApp", "DevServer", "Response"]
