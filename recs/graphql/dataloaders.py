"""Per-request loaders for the recommendation fields of ``Movie``: one batch per page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from movierec.graphql.dataloaders import BaseLoader
from movies.selectors import movies_by_ids
from recs import selectors

if TYPE_CHECKING:
    from movies.models import Movie


def request_memo(context: Any) -> dict:
    """A dict living as long as the request: ``selectors.viewer_scores`` memoises there, so
    ``recommendations`` and every ``matchScore`` of a response share one score computation."""
    return context.__dict__.setdefault("_recs_memo", {})


class MatchScoreLoader(BaseLoader[int, float | None]):
    """The viewer's scores are computed once per request; every movie of the page at once."""

    context_key = "recs_match_score"

    def batch_load(self, keys: list[int]) -> list[float | None]:
        scores = selectors.match_scores_for_user(self.viewer, keys, request_memo(self.context))
        return [scores[key] for key in keys]


class SimilarMoviesLoader(BaseLoader[tuple[int, int], list["Movie"]]):
    """Keys are (movie id, first); one movie query for every list of the page."""

    context_key = "recs_similar_movies"

    def batch_load(self, keys: list[tuple[int, int]]) -> list[list[Movie]]:
        by_size: dict[int, list[int]] = {}
        for movie_id, first in keys:
            by_size.setdefault(first, []).append(movie_id)
        similar: dict[tuple[int, int], list[int]] = {}
        for first, movie_ids in by_size.items():
            for movie_id, ids in selectors.similar_movie_ids(movie_ids, n=first).items():
                similar[(movie_id, first)] = ids
        movies = movies_by_ids(movie_ids={i for ids in similar.values() for i in ids})
        return [[movies[i] for i in similar[key] if i in movies] for key in keys]
