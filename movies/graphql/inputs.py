"""Argument parsing for mutations of any app that take a movie."""

from __future__ import annotations

from movierec.graphql.ids import decode_global_id
from movies import selectors
from movies.models import Movie


def movie_from_global_id(value: str, *, field: str = "movieId") -> Movie:
    """The movie a ``Movie`` global ID names: BAD_USER_INPUT if malformed, NOT_FOUND if unknown."""
    movie = selectors.movie_get(pk=decode_global_id(value, type_name="Movie", field=field))
    if movie is None:
        raise Movie.DoesNotExist("Movie matching query does not exist.")
    return movie
