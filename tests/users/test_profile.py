"""me, user(username), setFavoriteGenres, deleteAccount, and ratingCount batching."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from movies.models import Genre
from playlists.models import Playlist, PlaylistItem
from ratings.models import Rating, WatchlistEntry
from tests.conftest import GraphQLClient
from tests.factories import (
    PASSWORD,
    GenreFactory,
    PlaylistItemFactory,
    RatingFactory,
    UserFactory,
    WatchlistEntryFactory,
)
from tests.users.conftest import ME, error_code
from users.models import User

SET_GENRES = """
mutation($genres: [String!]!) { setFavoriteGenres(genres: $genres) { favoriteGenres { name } } }"""
DELETE_ACCOUNT = "mutation($password: String!) { deleteAccount(password: $password) { ok } }"
PROFILE = """
query($username: String!) {
  user(username: $username) { id username dateJoined email ratingCount favoriteGenres { name } }
}"""


def test_me_is_null_when_anonymous(api_client: GraphQLClient) -> None:
    assert api_client.data(ME) == {"me": None}


def test_me_shows_own_email_counts_and_genres(user: User, user_api_client: GraphQLClient) -> None:
    drama, action = GenreFactory(name="Drama"), GenreFactory(name="Action")
    user.favorite_genres.set([drama, action])
    RatingFactory.create_batch(3, user=user)
    RatingFactory(user=UserFactory())

    assert user_api_client.data(ME) == {
        "me": {
            "username": user.username,
            "email": user.email,
            "ratingCount": 3,
            "favoriteGenres": [{"name": "Action"}, {"name": "Drama"}],
        }
    }


def test_public_profile_hides_the_email_from_others(
    user: User, other_api_client: GraphQLClient, user_api_client: GraphQLClient
) -> None:
    RatingFactory.create_batch(2, user=user)
    others_view = other_api_client.data(PROFILE, {"username": user.username.upper()})["user"]
    own_view = user_api_client.data(PROFILE, {"username": user.username})["user"]

    assert others_view["username"] == user.username
    assert others_view["email"] is None
    assert others_view["ratingCount"] == 2
    assert own_view["email"] == user.email


def test_inactive_users_have_no_public_profile(user: User, api_client: GraphQLClient) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert api_client.data(PROFILE, {"username": user.username}) == {"user": None}


def test_set_favorite_genres_by_name_in_any_case(
    user: User, user_api_client: GraphQLClient
) -> None:
    GenreFactory(name="Science Fiction")
    GenreFactory(name="Drama")
    GenreFactory(name="Comedy")
    user.favorite_genres.set([Genre.objects.get(name="Comedy")])

    data = user_api_client.data(SET_GENRES, {"genres": ["science fiction", "Drama", "Drama"]})

    assert data == {
        "setFavoriteGenres": {"favoriteGenres": [{"name": "Drama"}, {"name": "Science Fiction"}]}
    }
    assert sorted(user.favorite_genres.values_list("name", flat=True)) == [
        "Drama",
        "Science Fiction",
    ]


def test_unknown_genre_is_bad_input_and_changes_nothing(
    user: User, user_api_client: GraphQLClient
) -> None:
    drama = GenreFactory(name="Drama")
    user.favorite_genres.set([drama])

    error = user_api_client.error(SET_GENRES, {"genres": ["Drama", "Sci-Fi"]})

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "genres"}
    assert error["message"] == "Unknown genre(s): Sci-Fi. Valid genres: Drama."
    assert list(user.favorite_genres.all()) == [drama]


def test_set_favorite_genres_requires_login(api_client: GraphQLClient) -> None:
    assert error_code(api_client(SET_GENRES, {"genres": []})) == "UNAUTHENTICATED"


def test_delete_account_removes_ratings_and_playlists(
    user: User, user_api_client: GraphQLClient
) -> None:
    RatingFactory.create_batch(2, user=user)
    WatchlistEntryFactory(user=user)
    PlaylistItemFactory.create_batch(2, playlist__owner=user)
    survivor = RatingFactory()

    assert user_api_client.data(DELETE_ACCOUNT, {"password": PASSWORD}) == {
        "deleteAccount": {"ok": True}
    }

    assert not User.objects.filter(pk=user.pk).exists()
    assert list(Rating.objects.all()) == [survivor]
    assert not WatchlistEntry.objects.exists()
    assert not Playlist.objects.exists()
    assert not PlaylistItem.objects.exists()
    assert user_api_client.raw(ME).status_code == 401  # its tokens die with it


def test_delete_account_takes_its_ratings_out_of_community_ratings(
    user: User, user_api_client: GraphQLClient
) -> None:
    from decimal import Decimal

    from ratings.services import rating_set
    from tests.factories import MovieFactory, UserFactory

    movie = MovieFactory()
    rating_set(user=user, movie=movie, score=5.0)
    rating_set(user=UserFactory(), movie=movie, score=2.0)

    user_api_client.data(DELETE_ACCOUNT, {"password": PASSWORD})

    movie.refresh_from_db()
    assert (movie.rating_count, movie.rating_sum) == (1, Decimal("2.0"))


def test_delete_account_needs_the_password(user: User, user_api_client: GraphQLClient) -> None:
    RatingFactory(user=user)
    error = user_api_client.error(DELETE_ACCOUNT, {"password": "wrong"})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "password"}
    assert User.objects.filter(pk=user.pk).exists()
    assert Rating.objects.filter(user=user).count() == 1


def test_delete_account_requires_login(api_client: GraphQLClient) -> None:
    assert error_code(api_client(DELETE_ACCOUNT, {"password": PASSWORD})) == "UNAUTHENTICATED"


def _rating_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "ratings_rating" in q["sql"]]


def test_rating_count_is_one_query_for_every_user_in_the_request(
    api_client: GraphQLClient,
) -> None:
    def profiles(count: int) -> tuple[int, list[str]]:
        users = UserFactory.create_batch(count)
        for i, member in enumerate(users):
            RatingFactory.create_batch(i % 3, user=member)
        fields = " ".join(
            f'u{i}: user(username: "{m.username}") {{ ratingCount }}' for i, m in enumerate(users)
        )
        query = f"{{ {fields} }}"
        with CaptureQueriesContext(connection) as captured:
            data = api_client.data(query)
        assert [data[f"u{i}"]["ratingCount"] for i in range(count)] == [i % 3 for i in range(count)]
        return len(captured.captured_queries), _rating_queries(captured)

    _, few = profiles(2)
    _, many = profiles(6)
    assert len(few) == len(many) == 1


def test_rating_count_query_count_does_not_grow_with_ratings(
    user: User, user_api_client: GraphQLClient
) -> None:
    RatingFactory.create_batch(5, user=user)
    with CaptureQueriesContext(connection) as five:
        assert user_api_client.data(ME)["me"]["ratingCount"] == 5
    RatingFactory.create_batch(45, user=user)
    with CaptureQueriesContext(connection) as fifty:
        assert user_api_client.data(ME)["me"]["ratingCount"] == 50
    assert len(five.captured_queries) == len(fifty.captured_queries)
