"""Per-request loaders for a movie's relations: one query per relation per page of movies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from movierec.graphql.dataloaders import BaseLoader, group_by
from movies import selectors
from movies.models import Credit, Genre, Keyword, Movie


class MovieByIdLoader(BaseLoader[int, Movie | None]):
    """Movie edges of other apps' types: ``Rating.movie``, ``PlaylistItem.movie``,
    ``SavedMovie.movie``."""

    context_key = "movies.movie_by_id"

    def batch_load(self, keys: list[int]) -> list[Movie | None]:
        movies = selectors.movies_by_ids(movie_ids=keys)
        return [movies.get(key) for key in keys]


def _tags_by_movie(keys: list[int], tag: str, *order: str) -> list[list[Any]]:
    """Each movie's ``tag`` rows (``genre`` / ``keyword``) through its many-to-many table, in
    one query."""
    through = getattr(Movie, f"{tag}s").through
    rows = through.objects.filter(movie_id__in=keys).select_related(tag).order_by(*order)
    grouped = group_by(rows, "movie_id")
    return [[getattr(row, tag) for row in grouped.get(key, [])] for key in keys]


class GenresByMovieLoader(BaseLoader[int, list[Genre]]):
    context_key = "movies.genres_by_movie"

    def batch_load(self, keys: list[int]) -> list[list[Genre]]:
        return _tags_by_movie(keys, "genre", "genre__name")


class KeywordsByMovieLoader(BaseLoader[int, list[Keyword]]):
    context_key = "movies.keywords_by_movie"

    def batch_load(self, keys: list[int]) -> list[list[Keyword]]:
        return _tags_by_movie(keys, "keyword", "keyword__name", "keyword_id")


# (movie or person id, kind or None for both, first or None for all)
CreditKey = tuple[int, str | None, int | None]


class _CreditsLoader(BaseLoader[CreditKey, list[Credit]]):
    """Keys sharing ``kind`` and ``first`` load in one query (``first`` applies per parent in
    SQL, so a page of 100 movies does not fetch every crew member)."""

    #: The selector: ``(ids, kind=, first=) -> {id: credits}``.
    credits: Callable[..., dict[int, list[Credit]]]

    def batch_load(self, keys: list[CreditKey]) -> list[list[Credit]]:
        by_shape: dict[tuple[str | None, int | None], list[int]] = defaultdict(list)
        for parent_id, kind, first in keys:
            by_shape[(kind, first)].append(parent_id)
        loaded: dict[CreditKey, list[Credit]] = {}
        for (kind, first), parent_ids in by_shape.items():
            grouped = type(self).credits(parent_ids, kind=kind, first=first)
            for parent_id in parent_ids:
                loaded[(parent_id, kind, first)] = grouped[parent_id]
        return [loaded[key] for key in keys]


class CreditsByMovieLoader(_CreditsLoader):
    """``Movie.cast`` / ``crew``: keys (movie id, kind, first); cast by billing order."""

    context_key = "movies.credits_by_movie"

    @staticmethod
    def credits(ids: list[int], **shape: Any) -> dict[int, list[Credit]]:
        return selectors.credit_list_for_movies(movie_ids=ids, **shape)


class FilmographyByPersonLoader(_CreditsLoader):
    """``Person.filmography``: keys (person id, kind, first); newest release first."""

    context_key = "movies.filmography_by_person"

    @staticmethod
    def credits(ids: list[int], **shape: Any) -> dict[int, list[Credit]]:
        return selectors.credit_list_for_persons(person_ids=ids, **shape)
