"""The `movie` query and the fields of Movie."""

from decimal import Decimal

import pytest
from graphql_relay import to_global_id

from movies.models import Credit
from tests.factories import CreditFactory, GenreFactory, MovieFactory, PersonFactory

pytestmark = pytest.mark.django_db

MOVIE_BY_ID = """
query($id: ID, $tmdbId: Int) {
  movie(id: $id, tmdbId: $tmdbId) {
    id tmdbId title originalTitle overview releaseDate year runtime posterUrl backdropUrl
    genres { name } popularity tmdbVoteAverage tmdbVoteCount
    communityRating { average count }
    credits { name character job order }
    tagline originalLanguage status imdbId keywords { name }
  }
}
"""


@pytest.fixture
def godfather():
    movie = MovieFactory(
        tmdb_id=238,
        imdb_id="tt0068646",
        title="The Godfather",
        original_title="The Godfather",
        overview="Mafia saga.",
        tagline="An offer you can't refuse.",
        release_date="1972-03-14",
        year=1972,
        runtime=175,
        poster_path="/3bhkrj58Vtu7enYsRolD1fZdja1.jpg",
        backdrop_path="",
        popularity=120.5,
        vote_average=8.7,
        vote_count=20000,
        status="Released",
        rating_count=3,
        rating_sum=Decimal("13.0"),
        genres=[GenreFactory(name="Drama"), GenreFactory(name="Crime")],
        keywords=["mafia", "crime family"],
    )
    CreditFactory(movie=movie, person=PersonFactory(name="Al Pacino"), character="Michael", order=1)
    CreditFactory(
        movie=movie, person=PersonFactory(name="Marlon Brando"), character="Vito", order=0
    )
    CreditFactory(
        movie=movie,
        person=PersonFactory(name="Francis Ford Coppola"),
        kind=Credit.Kind.CREW,
        character="",
        job="Director",
        department="Directing",
    )
    return movie


def test_movie_by_global_id_returns_every_contract_field(api_client, godfather):
    data = api_client.data(MOVIE_BY_ID, {"id": to_global_id("Movie", godfather.pk)})
    assert data["movie"] == {
        "id": to_global_id("Movie", godfather.pk),
        "tmdbId": 238,
        "title": "The Godfather",
        "originalTitle": "The Godfather",
        "overview": "Mafia saga.",
        "releaseDate": "1972-03-14",
        "year": 1972,
        "runtime": 175,
        "posterUrl": "https://image.tmdb.org/t/p/w500/3bhkrj58Vtu7enYsRolD1fZdja1.jpg",
        "backdropUrl": None,
        "genres": [{"name": "Crime"}, {"name": "Drama"}],
        "popularity": 120.5,
        "tmdbVoteAverage": 8.7,
        "tmdbVoteCount": 20000,
        "communityRating": {"average": 4.33, "count": 3},
        "credits": [
            {"name": "Marlon Brando", "character": "Vito", "job": None, "order": 0},
            {"name": "Al Pacino", "character": "Michael", "job": None, "order": 1},
            {"name": "Francis Ford Coppola", "character": None, "job": "Director", "order": 0},
        ],
        "tagline": "An offer you can't refuse.",
        "originalLanguage": "en",
        "status": "Released",
        "imdbId": "tt0068646",
        "keywords": [{"name": "crime family"}, {"name": "mafia"}],
    }


def test_movie_by_tmdb_id(api_client, godfather):
    data = api_client.data("query { movie(tmdbId: 238) { title } }")
    assert data["movie"] == {"title": "The Godfather"}


def test_unrated_movie_has_null_average_and_blank_fields_are_null(api_client):
    movie = MovieFactory(tmdb_id=None, tagline="", imdb_id="", status="", poster_path="")
    data = api_client.data(
        "query($id: ID) { movie(id: $id) { tmdbId tagline imdbId status posterUrl "
        "communityRating { average count } genres { name } credits { name } keywords { name } } }",
        {"id": to_global_id("Movie", movie.pk)},
    )
    assert data["movie"] == {
        "tmdbId": None,
        "tagline": None,
        "imdbId": None,
        "status": None,
        "posterUrl": None,
        "communityRating": {"average": None, "count": 0},
        "genres": [],
        "credits": [],
        "keywords": [],
    }


def test_image_urls_follow_settings(api_client, settings):
    settings.TMDB_IMAGE_BASE_URL = "https://cdn.example/img"
    settings.TMDB_BACKDROP_SIZE = "original"
    movie = MovieFactory(poster_path="/p.jpg", backdrop_path="/b.jpg")
    data = api_client.data(
        "query($id: ID) { movie(id: $id) { posterUrl backdropUrl } }",
        {"id": to_global_id("Movie", movie.pk)},
    )
    assert data["movie"] == {
        "posterUrl": "https://cdn.example/img/w500/p.jpg",
        "backdropUrl": "https://cdn.example/img/original/b.jpg",
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("kind: CAST", ["Marlon Brando", "Al Pacino"]),
        ("kind: CREW", ["Francis Ford Coppola"]),
        ("first: 2", ["Marlon Brando", "Al Pacino"]),
        ("kind: CREW, first: 5", ["Francis Ford Coppola"]),
        ("first: 0", []),
    ],
)
def test_credits_filter_by_kind_and_first(api_client, godfather, args, expected):
    data = api_client.data(f"query {{ movie(tmdbId: 238) {{ credits({args}) {{ name }} }} }}")
    assert [c["name"] for c in data["movie"]["credits"]] == expected


@pytest.mark.parametrize("first", [-1, 101])
def test_credits_first_out_of_range_is_bad_input(api_client, godfather, first):
    body = api_client(f"query {{ movie(tmdbId: 238) {{ credits(first: {first}) {{ name }} }} }}")
    # A nested resolver's error nulls up to the nullable parent and keeps its path.
    assert body["data"] == {"movie": None}
    assert body["errors"][0]["path"] == ["movie", "credits"]
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


def test_unknown_movie_is_null(api_client):
    body = api_client(
        "query($id: ID) { movie(id: $id) { title } }", {"id": to_global_id("Movie", 999999)}
    )
    assert body == {"data": {"movie": None}}
    assert api_client("query { movie(tmdbId: 424242) { title } }") == {"data": {"movie": None}}


@pytest.mark.parametrize(
    "bad_id",
    [
        "not-base64!",
        to_global_id("Genre", 1),
        to_global_id("Movie", "abc"),
        to_global_id("Movie", "²"),
        to_global_id("Movie", "9" * 30),
        "",
    ],
)
def test_malformed_or_wrong_type_id_is_bad_input(api_client, bad_id):
    body = api_client("query($id: ID) { movie(id: $id) { title } }", {"id": bad_id})
    assert body["data"] == {"movie": None}
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


@pytest.mark.parametrize("args", ["", "(id: $id, tmdbId: 238)", "(id: null, tmdbId: null)"])
def test_movie_needs_exactly_one_of_id_and_tmdb_id(api_client, godfather, args):
    declaration = "($id: ID)" if "$id" in args else ""
    query = f"query{declaration} {{ movie{args} {{ title }} }}"
    variables = {"id": to_global_id("Movie", godfather.pk)} if declaration else {}
    error = api_client.error(query, variables)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


def test_genres_root_query_lists_all_by_name(api_client):
    for name in ["Western", "Action", "Drama"]:
        GenreFactory(name=name)
    data = api_client.data("{ genres { name } }")
    assert data == {"genres": [{"name": "Action"}, {"name": "Drama"}, {"name": "Western"}]}
