"""End to end: feedback written through the API reaches serving at once, cache or not."""

import pytest
from graphql_relay import to_global_id

from tests.recs.conftest import rate

pytestmark = pytest.mark.django_db

RECS = "{ recommendations(first: 10) { movie { id } source } }"
RATE = "mutation($m: ID!, $s: Float!) { rateMovie(movieId: $m, score: $s) { score } }"
WATCH = "mutation($m: ID!) { addToWatchlist(movieId: $m) { ok } }"
GENRES = "mutation($g: [String!]!) { setFavoriteGenres(genres: $g) { username } }"


def _ids(client) -> set[str]:
    return {r["movie"]["id"] for r in client.data(RECS)["recommendations"]}


def gid(movie) -> str:
    return to_global_id("Movie", movie.pk)


def test_rating_through_graphql_refreshes_cached_recommendations(
    planted, active_model, user, user_api_client, django_capture_on_commit_callbacks
):
    rate(user, planted.movies["Crime"][5:12])
    first = _ids(user_api_client)  # now cached
    assert first <= {gid(m) for m in planted.movies["Crime"]}
    with django_capture_on_commit_callbacks(execute=True):
        for movie in planted.movies["Crime"][5:12]:
            user_api_client.data(RATE, {"m": gid(movie), "s": 1.0})
        for movie in planted.movies["Comedy"][5:15]:
            user_api_client.data(RATE, {"m": gid(movie), "s": 5.0})
    assert _ids(user_api_client) <= {gid(m) for m in planted.movies["Comedy"]}


def test_watchlist_through_graphql_drops_the_movie_from_cached_recommendations(
    planted, active_model, user, user_api_client, django_capture_on_commit_callbacks, settings
):
    settings.RECS_EXCLUDE_WATCHLIST = True
    rate(user, planted.movies["Drama"][0:8])
    top = next(iter(user_api_client.data(RECS)["recommendations"]))["movie"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        user_api_client.data(WATCH, {"m": top})
    assert top not in _ids(user_api_client)


def test_favorite_genres_through_graphql_change_a_cold_start_list(
    planted, active_model, user_api_client, django_capture_on_commit_callbacks
):
    before = user_api_client.data(RECS)["recommendations"]
    assert {r["source"] for r in before} <= {"POPULAR", "TRENDING"}
    with django_capture_on_commit_callbacks(execute=True):
        user_api_client.data(GENRES, {"g": ["Horror"]})
    after = user_api_client.data(RECS)["recommendations"]
    assert after[0]["source"] == "GENRE"
    horror = {gid(m) for m in planted.movies["Horror"]}
    assert {r["movie"]["id"] for r in after if r["source"] == "GENRE"} <= horror
