"""Catalogue ordering for the ``movies`` query: the MovieOrder enum and its keyset keys."""

from __future__ import annotations

from typing import Any

import graphene

from movierec.graphql.errors import BadUserInput
from movierec.graphql.pagination import OrderKey


class MovieOrder(graphene.Enum):
    """How the `movies` list is sorted (ties broken by id, so cursors are stable)."""

    POPULARITY = "popularity"
    RATING = "rating"
    RELEASE_DATE = "release_date"
    TITLE = "title"
    RELEVANCE = "relevance"

    @property
    def description(self) -> str:
        return {
            MovieOrder.POPULARITY: "Most popular on TMDb first (the default without search).",
            MovieOrder.RATING: (
                "Highest damped community average first (few ratings are pulled toward the "
                "mean of all ratings); unrated movies last."
            ),
            MovieOrder.RELEASE_DATE: "Newest first; undated movies last.",
            MovieOrder.TITLE: "Alphabetical by title.",
            MovieOrder.RELEVANCE: "Best search match first (the default with search).",
        }[self]


ORDER_KEYS: dict[str, list[OrderKey]] = {
    "popularity": [OrderKey("popularity", descending=True)],
    "rating": [
        OrderKey("community_score_value", descending=True),
        OrderKey("rating_count", descending=True),
    ],
    "release_date": [OrderKey("release_date", descending=True)],
    "title": [OrderKey("title")],
    "relevance": [
        OrderKey("search_tier", descending=True),
        OrderKey("search_exact", descending=True),
        OrderKey("search_score", descending=True),
        OrderKey("popularity", descending=True),
    ],
}


def movie_order_keys(order_by: Any, *, has_search: bool) -> list[OrderKey]:
    """Keyset keys for ``order_by`` (RELEVANCE when searching, else POPULARITY by default)."""
    value = getattr(order_by, "value", order_by)
    if value is None:
        value = "relevance" if has_search else "popularity"
    if value == "relevance" and not has_search:
        raise BadUserInput("RELEVANCE ordering needs `search`.", field="orderBy")
    return ORDER_KEYS[value]
