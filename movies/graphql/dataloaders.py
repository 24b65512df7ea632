"""Per-request loaders for a movie's relations: one query per relation per page of movies."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F, Window
from django.db.models.functions import RowNumber

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


class GenresByMovieLoader(BaseLoader[int, list[Genre]]):
    context_key = "movies.genres_by_movie"

    def batch_load(self, keys: list[int]) -> list[list[Genre]]:
        # Plain tuples and one Genre per distinct genre: a page of 20 movies has about 50
        # links but a handful of genres, and ORM rows (a link plus its genre each) were most
        # of this loader's cost.
        rows = (
            Movie.genres.through.objects.filter(movie_id__in=keys)
            .order_by("genre__name")
            .values_list("movie_id", "genre_id", "genre__name", "genre__tmdb_id")
        )
        genres: dict[int, Genre] = {}
        grouped: dict[int, list[Genre]] = defaultdict(list)
        for movie_id, genre_id, name, tmdb_id in rows:
            genre = genres.get(genre_id)
            if genre is None:
                genre = genres[genre_id] = Genre(id=genre_id, name=name, tmdb_id=tmdb_id)
            grouped[movie_id].append(genre)
        return [grouped.get(key, []) for key in keys]


class KeywordsByMovieLoader(BaseLoader[int, list[Keyword]]):
    context_key = "movies.keywords_by_movie"

    def batch_load(self, keys: list[int]) -> list[list[Keyword]]:
        rows = (
            Movie.keywords.through.objects.filter(movie_id__in=keys)
            .select_related("keyword")
            .order_by("keyword__name", "keyword_id")
        )
        grouped = group_by(rows, "movie_id")
        return [[row.keyword for row in grouped.get(key, [])] for key in keys]


# (movie or person id, kind or None for both, first or None for all)
CreditKey = tuple[int, str | None, int | None]


class CreditsByMovieLoader(BaseLoader[CreditKey, list[Credit]]):
    """Credits with their person: cast by billing order, then crew.

    Keys sharing ``kind`` and ``first`` load in one query; ``first`` is applied per movie in
    SQL with ROW_NUMBER() so a page of 100 movies does not fetch every crew member.
    """

    context_key = "movies.credits_by_movie"

    def batch_load(self, keys: list[CreditKey]) -> list[list[Credit]]:
        by_shape: dict[tuple[str | None, int | None], list[int]] = defaultdict(list)
        for movie_id, kind, first in keys:
            by_shape[(kind, first)].append(movie_id)
        loaded: dict[CreditKey, list[Credit]] = {}
        for (kind, first), movie_ids in by_shape.items():
            rows = Credit.objects.filter(movie_id__in=movie_ids).select_related("person")
            if kind is not None:
                rows = rows.filter(kind=kind)
            if first is not None:
                rows = rows.annotate(
                    position=Window(
                        RowNumber(),
                        partition_by=[F("movie_id")],
                        order_by=[F("kind").asc(), F("order").asc(), F("id").asc()],
                    )
                ).filter(position__lte=first)
            grouped = group_by(rows.order_by("movie_id", "kind", "order", "id"), "movie_id")
            for movie_id in movie_ids:
                loaded[(movie_id, kind, first)] = grouped.get(movie_id, [])
        return [loaded[key] for key in keys]


class FilmographyByPersonLoader(BaseLoader[CreditKey, list[Credit]]):
    """``Person.filmography``: keys (person id, kind, first); one query per (kind, first)."""

    context_key = "movies.filmography_by_person"

    def batch_load(self, keys: list[CreditKey]) -> list[list[Credit]]:
        by_shape: dict[tuple[str | None, int | None], list[int]] = defaultdict(list)
        for person_id, kind, first in keys:
            by_shape[(kind, first)].append(person_id)
        loaded: dict[CreditKey, list[Credit]] = {}
        for (kind, first), person_ids in by_shape.items():
            grouped = selectors.credit_list_for_persons(
                person_ids=person_ids, kind=kind, first=first
            )
            for person_id in person_ids:
                loaded[(person_id, kind, first)] = grouped[person_id]
        return [loaded[key] for key in keys]
