"""Movie.inWatchlist and Movie.isFavorite: the viewer's own flags, batched, null when anonymous."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import FavoriteFactory, MovieFactory, WatchlistEntryFactory
from tests.lists_helpers import count_queries, gid

FLAGS = "{ movies(first: 100, orderBy: TITLE) { edges { node { title inWatchlist isFavorite } } } }"


def _flags(client: Any) -> list[dict]:
    return [edge["node"] for edge in client.data(FLAGS)["movies"]["edges"]]


def test_flags_are_the_viewers_own(user: Any, other_user: Any, user_api_client: Any) -> None:
    a, b, c = (MovieFactory(title=t) for t in ("A", "B", "C"))
    WatchlistEntryFactory(user=user, movie=a)
    FavoriteFactory(user=user, movie=b)
    WatchlistEntryFactory(user=other_user, movie=c)  # someone else's: not the viewer's flag
    FavoriteFactory(user=other_user, movie=c)
    assert _flags(user_api_client) == [
        {"title": "A", "inWatchlist": True, "isFavorite": False},
        {"title": "B", "inWatchlist": False, "isFavorite": True},
        {"title": "C", "inWatchlist": False, "isFavorite": False},
    ]


def test_flags_are_null_for_anonymous(api_client: Any, user: Any) -> None:
    movie = MovieFactory(title="A")
    WatchlistEntryFactory(user=user, movie=movie)
    FavoriteFactory(user=user, movie=movie)
    assert _flags(api_client) == [{"title": "A", "inWatchlist": None, "isFavorite": None}]


def test_flags_follow_the_watchlist_mutations(user_api_client: Any) -> None:
    movie = MovieFactory()
    query = "query($id: ID!) { movie(id: $id) { inWatchlist isFavorite } }"
    assert user_api_client.data(query, {"id": gid(movie)})["movie"] == {
        "inWatchlist": False,
        "isFavorite": False,
    }
    user_api_client.data(
        "mutation($id: ID!) { addToWatchlist(movieId: $id) { ok } }", {"id": gid(movie)}
    )
    assert user_api_client.data(query, {"id": gid(movie)})["movie"]["inWatchlist"] is True


@pytest.mark.parametrize("viewer", ["anonymous", "user"])
def test_flags_cost_the_same_queries_for_3_or_30_movies(
    viewer: str, user: Any, api_client: Any, user_api_client: Any
) -> None:
    client = user_api_client if viewer == "user" else api_client
    counts = []
    for batch in (3, 27):  # 3 movies, then 30
        for movie in [MovieFactory() for _ in range(batch)]:
            WatchlistEntryFactory(user=user, movie=movie)
            FavoriteFactory(user=user, movie=movie)
        queries, flags = count_queries(lambda: _flags(client))
        counts.append(queries)
    assert len(flags) == 30
    assert counts[0] == counts[1]
