"""recommendations/trending as offset pages, and the "not interested" mutations' guards and
query count (its effect on the list: test_not_interested_signal.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from graphql_relay import to_global_id

from ratings.models import NotInterested
from tests.lists_helpers import count_queries, gid

pytestmark = pytest.mark.django_db

RECS = """query($first: Int, $offset: Int) {
  recommendations(first: $first, offset: $offset) { movie { id title } source }
}"""
TRENDING = "query($first: Int, $offset: Int) { trending(first: $first, offset: $offset) { title } }"
MARK = "mutation($id: ID!) { markNotInterested(movieId: $id) { ok } }"
UNDO = "mutation($id: ID!) { undoNotInterested(movieId: $id) { ok } }"


def _recs(client: Any, first: int, offset: int = 0) -> list[dict]:
    return client.data(RECS, {"first": first, "offset": offset})["recommendations"]


def test_recommendation_pages_are_consecutive_slices(planted: Any, api_client: Any) -> None:
    whole = _recs(api_client, 30)
    pages = [_recs(api_client, 10, offset) for offset in (0, 10, 20)]
    assert len(whole) == 30
    assert [rec for page in pages for rec in page] == whole


def test_trending_pages_are_consecutive_slices(planted: Any, api_client: Any) -> None:
    whole = api_client.data(TRENDING, {"first": 25})["trending"]
    pages = [
        api_client.data(TRENDING, {"first": 5, "offset": o})["trending"] for o in range(0, 25, 5)
    ]
    assert len(whole) == 25
    assert [movie for page in pages for movie in page] == whole
    # The default is the first page: the `first`-only contract still holds.
    assert api_client.data("{ trending(first: 5) { title } }")["trending"] == pages[0]


@pytest.mark.parametrize("offset", [-1, 401])
def test_offset_out_of_range_is_bad_input(db: Any, api_client: Any, offset: int) -> None:
    for query in (RECS, TRENDING):
        error = api_client.error(query, {"first": 5, "offset": offset})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "offset"}


def test_not_interested_mutations_need_a_viewer_and_a_movie(
    planted: Any, api_client: Any, user_api_client: Any
) -> None:
    movie = planted.movies["Drama"][0]
    for mutation in (MARK, UNDO):
        assert api_client.error(mutation, {"id": gid(movie)})["extensions"] == {
            "code": "UNAUTHENTICATED"
        }
        missing = user_api_client.error(mutation, {"id": to_global_id("Movie", 10**9)})
        assert missing["extensions"]["code"] == "NOT_FOUND"
        garbled = user_api_client.error(mutation, {"id": "garbled"})
        assert garbled["extensions"] == {"code": "BAD_USER_INPUT", "field": "movieId"}
    assert not NotInterested.objects.exists()


def test_hidden_movies_do_not_add_queries(planted: Any, user: Any, user_api_client: Any) -> None:
    counts = []
    for movies in (planted.movies["Drama"][:2], planted.movies["Drama"][2:20]):  # 2, then 20
        for movie in movies:
            NotInterested.objects.create(user=user, movie=movie)
        cache.clear()  # both measured cold: the cache must not hide a per-movie query
        queries, recs = count_queries(lambda: _recs(user_api_client, 20, 10))
        counts.append(queries)
        assert len(recs) == 20
    assert counts[0] == counts[1]
    hidden = {gid(m) for m in planted.movies["Drama"][:20]}
    assert not hidden & {rec["movie"]["id"] for rec in recs}
