"""TMDb-compatible dev server: ``python -m movies.tmdb.devserver`` or ``DevServer`` in tests."""

from movies.tmdb.devserver.catalogue import GENRES, REAL_MOVIE_IDS, Catalogue
from movies.tmdb.devserver.server import DevApp, DevServer, Response

__all__ = ["GENRES", "REAL_MOVIE_IDS", "Catalogue", "DevApp", "DevServer", "Response"]
