import pytest
from django.utils import timezone

from movies.models import TrendingEntry
from tests.recs.conftest import rate

pytestmark = pytest.mark.django_db

QUERY = """
query ($first: Int) {
  trending(first: $first) { title matchScore similar(first: 3) { title } }
}
"""


def _put_on_trending(movies):
    now = timezone.now()
    for rank, movie in enumerate(movies, start=1):
        TrendingEntry.objects.create(window="week", movie=movie, rank=rank, synced_at=now)


def test_match_score_is_null_for_anonymous_viewers(planted, active_model, api_client):
    _put_on_trending([planted.movies["Crime"][0]])
    movie = api_client.data(QUERY, {"first": 1})["trending"][0]
    assert movie["title"] == "Crime 0" and movie["matchScore"] is None


def test_match_score_is_null_without_a_model(planted, user, user_api_client):
    rate(user, planted.movies["Crime"][5:12])
    _put_on_trending([planted.movies["Crime"][0]])
    assert user_api_client.data(QUERY, {"first": 1})["trending"][0]["matchScore"] is None


def test_match_score_is_higher_for_movies_in_the_viewers_taste(
    planted, active_model, user, user_api_client
):
    rate(user, planted.movies["Comedy"][5:12])
    _put_on_trending([planted.movies["Comedy"][0], planted.movies["Horror"][0]])
    comedy, horror = user_api_client.data(QUERY, {"first": 2})["trending"]
    assert (comedy["title"], horror["title"]) == ("Comedy 0", "Horror 0")
    assert 0 <= horror["matchScore"] < 0.5 < comedy["matchScore"] <= 1


def test_similar_uses_the_model_then_content(planted, active_model, api_client):
    _put_on_trending([planted.movies["Drama"][0]])
    similar = api_client.data(QUERY, {"first": 1})["trending"][0]["similar"]
    assert len(similar) == 3
    assert all(m["title"].startswith("Drama ") for m in similar)


def test_similar_without_a_model_shares_genres(planted, api_client):
    _put_on_trending([planted.movies["Horror"][20]])
    similar = api_client.data(QUERY, {"first": 1})["trending"][0]["similar"]
    assert [m["title"] for m in similar] == ["Horror 0", "Horror 1", "Horror 2"]


def test_similar_first_is_capped(planted, api_client):
    body = api_client("{ trending(first: 1) { similar(first: 101) { title } } }")
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
