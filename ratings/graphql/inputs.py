"""Argument parsing shared by the ratings and playlists mutations."""

from __future__ import annotations

from movierec.graphql.ids import decode_global_id
from movies.models import Movie
from ratings import selectors


def movie_from_global_id(value: str, *, field: str = "movieId") -> Movie:
    """The movie a ``Movie`` global ID names: BAD_USER_INPUT if malformed, NOT_FOUND if unknown."""
    return selectors.movie_get(movie_id=decode_global_id(value, type_name="Movie", field=field))
