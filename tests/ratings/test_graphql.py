"""Ratings, reviews, watchlist and favorites through the real /graphql/ endpoint."""

import json
import math
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from movies.models import Movie
from ratings.models import Favorite, Rating, WatchlistEntry
from tests.factories import (
    FavoriteFactory,
    MovieFactory,
    RatingFactory,
    UserFactory,
    WatchlistEntryFactory,
)
from tests.lists_helpers import count_queries, gid

pytestmark = pytest.mark.django_db

RATE = """
mutation($movieId: ID!, $score: Float!, $review: String) {
  rateMovie(movieId: $movieId, score: $score, review: $review) {
    id score review createdAt updatedAt movie { id title } user { username }
  }
}"""
DELETE = "mutation($movieId: ID!) { deleteRating(movieId: $movieId) { ok } }"
MY_RATINGS = """
query($first: Int, $after: String) {
  myRatings(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { score review movie { title myRating { score } } user { username } } }
  }
}"""


def test_rate_movie_creates_then_updates_and_moves_the_community_rating(user, user_api_client):
    movie = MovieFactory(title="Heat")
    data = user_api_client.data(RATE, {"movieId": gid(movie), "score": 4.5, "review": "Tense."})
    rating = data["rateMovie"]
    assert rating["score"] == 4.5
    assert rating["review"] == "Tense."
    assert rating["movie"] == {"id": gid(movie), "title": "Heat"}
    assert rating["user"] == {"username": user.username}
    data = user_api_client.data(RATE, {"movieId": gid(movie), "score": 3})
    assert data["rateMovie"]["score"] == 3.0
    assert data["rateMovie"]["review"] == "Tense."
    assert data["rateMovie"]["id"] == rating["id"]
    movie.refresh_from_db()
    assert (movie.rating_count, movie.rating_sum) == (1, Decimal("3.0"))


def test_rate_movie_does_not_re_query_the_viewer_and_movie_it_has_loaded(user_api_client):
    """Validating the rating's foreign keys was one existence query each, for rows the
    mutation had just loaded (the constraints still guard them)."""
    movie = MovieFactory()
    slim = "mutation($m: ID!, $s: Float!) { rateMovie(movieId: $m, score: $s) { score } }"
    for score in (4.0, 2.5):  # first rating, then the update path
        with CaptureQueriesContext(connection) as ctx:
            data = user_api_client.data(slim, {"m": gid(movie), "s": score})
        assert data["rateMovie"]["score"] == score
        existence = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT 1 AS")]
        assert existence == []
    movie.refresh_from_db()
    assert (movie.rating_count, movie.rating_sum) == (1, Decimal("2.5"))


def test_rate_movie_writes_in_six_statements_without_inner_savepoints(user_api_client):
    """BEGIN, the movie, the locked rating row, the INSERT (ON CONFLICT DO NOTHING) or the
    UPDATE, the community rating, COMMIT: no savepoint of its own around the service or the
    insert (inside pytest's test transaction, the mutation's BEGIN/COMMIT are a savepoint)."""
    movie = MovieFactory()
    slim = "mutation($m: ID!, $s: Float!) { rateMovie(movieId: $m, score: $s) { score } }"
    user_api_client.data("{ me { id } }")  # the viewer's auth state is checked once
    for score, write in ((4.0, "INSERT INTO ratings_rating"), (2.5, 'UPDATE "ratings_rating"')):
        with CaptureQueriesContext(connection) as ctx:
            data = user_api_client.data(slim, {"m": gid(movie), "s": score})
        assert data["rateMovie"]["score"] == score
        sqls = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith('SELECT "users')]
        assert len(sqls) == 6
        assert sqls[0].startswith("SAVEPOINT") and sqls[-1].startswith("RELEASE SAVEPOINT")
        assert [sql for sql in sqls[1:-1] if "SAVEPOINT" in sql] == []
        assert sqls[1].startswith('SELECT "movies_movie"')
        assert sqls[2].startswith('SELECT "ratings_rating"') and "FOR UPDATE" in sqls[2]
        assert sqls[3].startswith(write)
        assert sqls[4].startswith('UPDATE "movies_movie"')
    movie.refresh_from_db()
    assert (movie.rating_count, movie.rating_sum) == (1, Decimal("2.5"))


@pytest.mark.parametrize("score", [6.0, 0.3, 0.0, -1.0, 4.25])
def test_rate_movie_off_scale_is_bad_user_input_on_score(user_api_client, score):
    movie = MovieFactory()
    error = user_api_client.error(RATE, {"movieId": gid(movie), "score": score})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "score"}
    assert Rating.objects.count() == 0


def test_rate_movie_nan_is_bad_user_input(user_api_client):
    # Python's JSON parser accepts the NaN token; GraphQL's Float refuses it while coercing
    # the variable (the service refuses it too: see test_services).
    movie = MovieFactory()
    body = user_api_client.client.post(
        "/graphql/",
        data=json.dumps({"query": RATE, "variables": {"movieId": gid(movie), "score": math.nan}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {user_api_client.token}",
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "score" in body["errors"][0]["message"]
    assert Rating.objects.count() == 0


def test_review_too_long_is_bad_user_input_on_review(user_api_client):
    error = user_api_client.error(
        RATE, {"movieId": gid(MovieFactory()), "score": 4, "review": "x" * 5001}
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "review"}


@pytest.mark.parametrize(
    "movie_id",
    ["not-an-id", "", to_global_id("Playlist", 1), to_global_id("Movie", "abc"), "TW92aWU6"],
)
def test_malformed_or_wrong_type_movie_id_is_bad_user_input(user_api_client, movie_id):
    error = user_api_client.error(RATE, {"movieId": movie_id, "score": 4})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "movieId"}


def test_unknown_movie_is_not_found(user_api_client):
    error = user_api_client.error(RATE, {"movieId": to_global_id("Movie", 999999), "score": 4})
    assert error["extensions"] == {"code": "NOT_FOUND"}


@pytest.mark.parametrize(
    "mutation",
    [
        RATE,
        DELETE,
        "mutation($movieId: ID!) { addToWatchlist(movieId: $movieId) { ok } }",
        "mutation($movieId: ID!) { removeFromWatchlist(movieId: $movieId) { ok } }",
        "mutation($movieId: ID!) { addToFavorites(movieId: $movieId) { ok } }",
        "mutation($movieId: ID!) { removeFromFavorites(movieId: $movieId) { ok } }",
    ],
)
def test_mutations_require_authentication(api_client, mutation):
    error = api_client.error(mutation, {"movieId": gid(MovieFactory()), "score": 4})
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}


def test_delete_rating_removes_it_and_a_second_delete_is_not_found(user, user_api_client):
    movie = MovieFactory()
    user_api_client.data(RATE, {"movieId": gid(movie), "score": 2})
    assert user_api_client.data(DELETE, {"movieId": gid(movie)}) == {"deleteRating": {"ok": True}}
    movie.refresh_from_db()
    assert (movie.rating_count, movie.rating_sum) == (0, Decimal("0"))
    error = user_api_client.error(DELETE, {"movieId": gid(movie)})
    assert error["extensions"] == {"code": "NOT_FOUND"}


def test_other_users_rating_is_untouched_by_my_delete(other_user, user_api_client):
    movie = MovieFactory()
    RatingFactory(user=other_user, movie=movie)
    error = user_api_client.error(DELETE, {"movieId": gid(movie)})
    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert Rating.objects.filter(user=other_user).count() == 1


def test_my_ratings_are_mine_newest_first_and_paginate(user, other_user, user_api_client):
    movies = [MovieFactory(title=f"m{i}") for i in range(5)]
    for movie in movies:
        user_api_client.data(RATE, {"movieId": gid(movie), "score": 3})
    RatingFactory(user=other_user, movie=movies[0])
    first = user_api_client.data(MY_RATINGS, {"first": 3})["myRatings"]
    assert first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["movie"]["title"] for e in first["edges"]] == ["m4", "m3", "m2"]
    assert all(e["node"]["user"]["username"] == user.username for e in first["edges"])
    second = user_api_client.data(
        MY_RATINGS, {"first": 3, "after": first["pageInfo"]["endCursor"]}
    )["myRatings"]
    assert [e["node"]["movie"]["title"] for e in second["edges"]] == ["m1", "m0"]
    assert second["pageInfo"]["hasNextPage"] is False
    empty = user_api_client.data(MY_RATINGS, {"first": 0})["myRatings"]
    assert empty["edges"] == [] and empty["totalCount"] == 5


@pytest.mark.parametrize(("first", "after"), [(-1, None), (101, None), (5, "bogus")])
def test_bad_page_arguments_are_bad_user_input(user_api_client, first, after):
    error = user_api_client.error(MY_RATINGS, {"first": first, "after": after})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] in {"first", "after"}


def test_my_ratings_requires_authentication(api_client):
    assert api_client.error(MY_RATINGS)["extensions"] == {"code": "UNAUTHENTICATED"}


@pytest.mark.parametrize("n", [5, 50])
def test_my_ratings_query_count_does_not_grow(user, user_api_client, n, request):
    for _ in range(n):
        RatingFactory(user=user, review="ok")
    queries, body = count_queries(lambda: user_api_client.data(MY_RATINGS, {"first": 100}))
    assert len(body["myRatings"]["edges"]) == n
    # auth user, page, count, movies, users, myRating of every movie
    assert queries == 6
    assert all(e["node"]["movie"]["myRating"]["score"] == 4.0 for e in body["myRatings"]["edges"])


def test_my_rating_is_null_when_anonymous_or_unrated(user, user_api_client, api_client):
    rated, unrated = MovieFactory(), MovieFactory()
    RatingFactory(user=user, movie=rated, score=Decimal("2.5"))
    RatingFactory(movie=unrated)  # someone else's
    query = """query { myRatings { edges { node { movie { myRating { score } } } } } }"""
    edges = user_api_client.data(query)["myRatings"]["edges"]
    assert [e["node"]["movie"]["myRating"] for e in edges] == [{"score": 2.5}]
    review_query = """
      query($id: ID!) { playlist(id: $id) { id } }"""  # anonymous schema access is fine
    assert api_client.data(review_query, {"id": to_global_id("Playlist", 1)}) == {"playlist": None}


REVIEWS = """
query($first: Int, $after: String, $reviewsFirst: Int, $reviewsAfter: String) {
  myRatings(first: $first, after: $after) { edges { node { movie {
    title
    reviews(first: $reviewsFirst, after: $reviewsAfter) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { score review user { username } } }
    }
  } } } }
}"""


def test_reviews_are_the_ratings_with_text_newest_first_and_paginate(user, user_api_client):
    movie = MovieFactory(title="Heat")
    RatingFactory(user=user, movie=movie, review="mine")
    authors = [UserFactory(username=f"critic{i}") for i in range(4)]
    for author in authors:
        RatingFactory(user=author, movie=movie, review=f"by {author.username}")
    RatingFactory(movie=movie, review="")  # no text: not a review
    body = user_api_client.data(REVIEWS, {"reviewsFirst": 2})
    reviews = body["myRatings"]["edges"][0]["node"]["movie"]["reviews"]
    assert reviews["totalCount"] == 5
    assert [e["node"]["review"] for e in reviews["edges"]] == ["by critic3", "by critic2"]
    assert reviews["pageInfo"]["hasNextPage"] is True
    body = user_api_client.data(
        REVIEWS, {"reviewsFirst": 10, "reviewsAfter": reviews["pageInfo"]["endCursor"]}
    )
    rest = body["myRatings"]["edges"][0]["node"]["movie"]["reviews"]
    assert [e["node"]["review"] for e in rest["edges"]] == ["by critic1", "by critic0", "mine"]
    assert rest["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("n", [5, 50])
def test_reviews_of_a_page_of_movies_load_in_constant_queries(user, user_api_client, n):
    for _ in range(n):
        movie = MovieFactory()
        RatingFactory(user=user, movie=movie, review="mine")
        RatingFactory(movie=movie, review="theirs")
    queries, body = count_queries(
        lambda: user_api_client.data(REVIEWS, {"first": 100, "reviewsFirst": 5})
    )
    edges = body["myRatings"]["edges"]
    assert len(edges) == n
    assert all(e["node"]["movie"]["reviews"]["totalCount"] == 2 for e in edges)
    # auth, ratings page, movies, review pages, review counts, review authors
    assert queries == 6


WATCHLIST = """
query($first: Int, $after: String) {
  me { watchlist(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { addedAt movie { title } } }
  } }
  myWatchlist(first: $first, after: $after) { totalCount }
}"""
ADD_WATCH = "mutation($movieId: ID!) { addToWatchlist(movieId: $movieId) { ok } }"
REMOVE_WATCH = "mutation($movieId: ID!) { removeFromWatchlist(movieId: $movieId) { ok } }"


def test_watchlist_add_is_idempotent_and_remove_too(user, user_api_client):
    movies = [MovieFactory(title=f"w{i}") for i in range(3)]
    for movie in [*movies, movies[0]]:
        assert user_api_client.data(ADD_WATCH, {"movieId": gid(movie)}) == {
            "addToWatchlist": {"ok": True}
        }
    assert WatchlistEntry.objects.filter(user=user).count() == 3
    body = user_api_client.data(WATCHLIST, {"first": 2})
    watchlist = body["me"]["watchlist"]
    assert watchlist["totalCount"] == 3 and body["myWatchlist"]["totalCount"] == 3
    assert [e["node"]["movie"]["title"] for e in watchlist["edges"]] == ["w2", "w1"]
    rest = user_api_client.data(WATCHLIST, {"after": watchlist["pageInfo"]["endCursor"]})
    assert [e["node"]["movie"]["title"] for e in rest["me"]["watchlist"]["edges"]] == ["w0"]
    for _ in range(2):
        assert user_api_client.data(REMOVE_WATCH, {"movieId": gid(movies[1])}) == {
            "removeFromWatchlist": {"ok": True}
        }
    assert set(WatchlistEntry.objects.values_list("movie_id", flat=True)) == {
        movies[0].pk,
        movies[2].pk,
    }


def test_watchlist_of_someone_else_is_null(user, other_api_client, staff_api_client):
    WatchlistEntryFactory(user=user)
    query = "query($u: String!) { user(username: $u) { username watchlist { totalCount } } }"
    for client in (other_api_client, staff_api_client):
        assert client.data(query, {"u": user.username}) == {
            "user": {"username": user.username, "watchlist": None}
        }


def test_watchlist_of_the_viewer_through_user_profile(user, user_api_client):
    WatchlistEntryFactory(user=user)
    query = "query($u: String!) { user(username: $u) { watchlist { totalCount } } }"
    data = user_api_client.data(query, {"u": user.username.upper()})
    assert data == {"user": {"watchlist": {"totalCount": 1}}}


@pytest.mark.parametrize("n", [5, 50])
def test_watchlist_query_count_does_not_grow(user, user_api_client, n):
    for _ in range(n):
        WatchlistEntryFactory(user=user)
    queries, body = count_queries(lambda: user_api_client.data(WATCHLIST, {"first": 100}))
    assert len(body["me"]["watchlist"]["edges"]) == n
    # auth; watchlist page + count + movies; myWatchlist page + count
    assert queries == 6


def test_favorites_add_remove_and_list(user, user_api_client):
    movies = [MovieFactory(title=f"f{i}") for i in range(2)]
    add = "mutation($movieId: ID!) { addToFavorites(movieId: $movieId) { ok } }"
    remove = "mutation($movieId: ID!) { removeFromFavorites(movieId: $movieId) { ok } }"
    for movie in [*movies, movies[1]]:
        assert user_api_client.data(add, {"movieId": gid(movie)})["addToFavorites"]["ok"]
    FavoriteFactory()  # someone else's
    query = "{ myFavorites { totalCount edges { node { movie { title } } } } }"
    data = user_api_client.data(query)["myFavorites"]
    assert data["totalCount"] == 2
    assert [e["node"]["movie"]["title"] for e in data["edges"]] == ["f1", "f0"]
    assert user_api_client.data(remove, {"movieId": gid(movies[0])})["removeFromFavorites"]["ok"]
    assert list(Favorite.objects.filter(user=user).values_list("movie_id", flat=True)) == [
        movies[1].pk
    ]


def test_failed_mutation_rolls_back_everything(user_api_client):
    movie = MovieFactory()
    query = """mutation($ok: ID!, $bad: ID!) {
      a: rateMovie(movieId: $ok, score: 4) { score }
      b: rateMovie(movieId: $bad, score: 4) { score }
    }"""
    body = user_api_client(query, {"ok": gid(movie), "bad": to_global_id("Movie", 999999)})
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
    assert Rating.objects.count() == 0
    assert Movie.objects.get(pk=movie.pk).rating_count == 0
