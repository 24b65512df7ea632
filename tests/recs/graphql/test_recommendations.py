import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from graphql_relay import to_global_id

from movies.models import TrendingEntry
from recs import serving
from tests.recs.conftest import rate

pytestmark = pytest.mark.django_db

RECOMMENDATIONS = """
query ($first: Int, $genre: String, $userId: ID) {
  recommendations(first: $first, genre: $genre, userId: $userId) {
    movie { title } score source because { title } reason
  }
}
"""

PAGE = """
query ($first: Int) {
  recommendations(first: $first) {
    movie { title matchScore similar(first: 3) { title } }
    because { title matchScore }
    source reason
  }
}
"""

TRENDING = """
query ($window: TrendWindow, $first: Int) {
  trending(window: $window, first: $first) { title matchScore similar(first: 2) { title } }
}
"""


def _titles(movies):
    return {m.title for m in movies}


def test_viewer_gets_personalized_recommendations(planted, active_model, user, user_api_client):
    rate(user, planted.movies["Crime"][5:12])
    data = user_api_client.data(RECOMMENDATIONS, {"first": 5})
    recs = data["recommendations"]
    assert [r["source"] for r in recs] == ["PERSONALIZED"] * 5
    assert {r["movie"]["title"] for r in recs} <= _titles(planted.movies["Crime"])
    for rec in recs:
        assert {b["title"] for b in rec["because"]} <= _titles(planted.movies["Crime"][5:12])
        assert rec["because"][0]["title"] in rec["reason"]
        assert 0 <= rec["score"] <= 1


def test_anonymous_gets_the_fallback_without_error(planted, api_client):
    TrendingEntry.objects.create(
        window="week", movie=planted.movies["Drama"][7], rank=1, synced_at=timezone.now()
    )
    recs = api_client.data(RECOMMENDATIONS, {"first": 3})["recommendations"]
    assert recs[0] == {
        "movie": {"title": "Drama 7"},
        "score": recs[0]["score"],
        "source": "TRENDING",
        "because": [],
        "reason": "Trending this week",
    }
    assert {r["source"] for r in recs} <= {"TRENDING", "POPULAR"} and len(recs) == 3


def test_cold_start_viewer_gets_genre_picks(planted, user, user_api_client):
    user.favorite_genres.set([planted.genres["Horror"]])
    recs = user_api_client.data(RECOMMENDATIONS, {"first": 2})["recommendations"]
    assert [(r["movie"]["title"], r["source"]) for r in recs] == [
        ("Horror 0", "GENRE"),
        ("Horror 1", "GENRE"),
    ]
    assert recs[0]["reason"] == "Popular in Horror, one of your favourite genres"


def test_unknown_genre_is_bad_user_input_on_genre(planted, user_api_client):
    error = user_api_client.error(RECOMMENDATIONS, {"genre": "Westerns"})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "genre"}


def test_first_is_capped(planted, user_api_client):
    error = user_api_client.error(RECOMMENDATIONS, {"first": 101})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


@pytest.mark.parametrize(
    ("viewer", "target", "expected"),
    [
        ("anonymous", "user", "UNAUTHENTICATED"),
        ("user", "user", None),
        ("other", "user", "FORBIDDEN"),
        ("staff", "user", None),
    ],
)
def test_user_id_is_for_staff_and_oneself(
    planted, active_model, user, other_user, staff_user, client_for, viewer, target, expected
):
    rate(user, planted.movies["Comedy"][5:12])
    viewers = {"anonymous": None, "user": user, "other": other_user, "staff": staff_user}
    client = client_for(viewers[viewer])
    variables = {"first": 3, "userId": to_global_id("User", user.pk)}
    body = client(RECOMMENDATIONS, variables)
    if expected:
        assert body["errors"][0]["extensions"]["code"] == expected
        assert body["data"] is None
    else:
        recs = body["data"]["recommendations"]
        assert [r["source"] for r in recs] == ["PERSONALIZED"] * 3
        assert {r["movie"]["title"] for r in recs} <= _titles(planted.movies["Comedy"])


def test_staff_asking_for_an_unknown_user_is_not_found(planted, staff_api_client):
    error = staff_api_client.error(RECOMMENDATIONS, {"userId": to_global_id("User", 10**9)})
    assert error["extensions"]["code"] == "NOT_FOUND"


def test_malformed_user_id_is_bad_user_input(planted, staff_api_client):
    error = staff_api_client.error(RECOMMENDATIONS, {"userId": to_global_id("Movie", 1)})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "userId"}


def _count(client, query, variables):
    cache.clear()  # every measured request is a cold one...
    serving.active_model()  # ...with the model already in memory, as in a running process
    with CaptureQueriesContext(connection) as ctx:
        body = client(query, variables)
    assert "errors" not in body, body.get("errors")
    return len(ctx.captured_queries), body["data"]


def test_recommendation_page_queries_do_not_grow_with_its_size(
    planted, active_model, user, user_api_client
):
    rate(user, planted.movies["Crime"][5:12])
    small, data5 = _count(user_api_client, PAGE, {"first": 5})
    large, data50 = _count(user_api_client, PAGE, {"first": 50})
    assert len(data5["recommendations"]) == 5 and len(data50["recommendations"]) == 50
    assert all(len(r["movie"]["similar"]) == 3 for r in data50["recommendations"])
    assert all(r["movie"]["matchScore"] is not None for r in data50["recommendations"])
    assert small == large
    # Warm (cached list, loaders still batch): fewer queries, still independent of size.
    warm5 = _warm_count(user_api_client, PAGE, {"first": 5})
    assert warm5 == _warm_count(user_api_client, PAGE, {"first": 50}) < small


def _warm_count(client, query, variables):
    client(query, variables)
    with CaptureQueriesContext(connection) as ctx:
        client(query, variables)
    return len(ctx.captured_queries)


def test_trending_query(planted, api_client):
    TrendingEntry.objects.create(
        window="day", movie=planted.movies["Horror"][30], rank=1, synced_at=timezone.now()
    )
    day = api_client.data(TRENDING, {"window": "DAY", "first": 2})["trending"]
    assert day[0]["title"] == "Horror 30"
    assert day[0]["matchScore"] is None
    week = api_client.data("{ trending { title } }")["trending"]
    assert len(week) == 20


def test_trending_page_queries_do_not_grow_with_its_size(planted, active_model, user_api_client):
    small, data5 = _count(user_api_client, TRENDING, {"first": 5})
    large, data50 = _count(user_api_client, TRENDING, {"first": 50})
    assert len(data5["trending"]) == 5 and len(data50["trending"]) == 50
    assert small == large


def test_the_viewers_scores_are_computed_once_per_request(
    planted, active_model, user, user_api_client, monkeypatch
):
    """The list, every matchScore of the page and the explanations share one computation."""
    from recs.engine.hybrid import HybridModel

    rate(user, planted.movies["Crime"][5:12])
    calls = []
    real = HybridModel.user_scores

    def counted(self, rows, now=None):
        calls.append(len(rows))
        return real(self, rows, now)

    monkeypatch.setattr(HybridModel, "user_scores", counted)
    data = user_api_client.data(PAGE, {"first": 10})
    assert len(data["recommendations"]) == 10
    assert all(r["movie"]["matchScore"] is not None for r in data["recommendations"])
    assert calls == [7]
    # The next request (list now cached) computes them again once, for matchScore only.
    user_api_client.data(PAGE, {"first": 10})
    assert calls == [7, 7]


def test_reasons_are_chosen_per_recommendation(planted, active_model, user, user_api_client):
    """A viewer with two tastes gets each recommendation explained by the matching one."""
    crime, comedy = planted.movies["Crime"][5:10], planted.movies["Comedy"][5:10]
    rate(user, crime + comedy)
    recs = user_api_client.data(RECOMMENDATIONS, {"first": 10})["recommendations"]
    assert len({r["reason"] for r in recs}) > 1
    for rec in recs:
        genre = "Crime" if rec["movie"]["title"].startswith("Crime") else "Comedy"
        mine = _titles(crime if genre == "Crime" else comedy)
        assert rec["because"] and rec["because"][0]["title"] in mine
