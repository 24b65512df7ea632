"""Forgiving genre names: case, punctuation, MovieLens aliases, and suggestions for typos."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from movies import selectors
from tests.factories import GenreFactory, MovieFactory

TMDB_GENRES = ("Action", "Comedy", "Drama", "Family", "Music", "Science Fiction", "Thriller")


@pytest.fixture
def genres(db: Any) -> dict[str, Any]:
    return {name: GenreFactory(name=name) for name in TMDB_GENRES}


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [
        ("Sci-Fi", "Science Fiction"),
        ("sci fi", "Science Fiction"),
        ("SCIENCE-FICTION", "Science Fiction"),
        ("Children", "Family"),
        ("Children's", "Family"),
        ("Musical", "Music"),
        ("  thriller ", "Thriller"),
    ],
)
def test_aliases_and_spellings_resolve(genres: Any, sent: str, canonical: str) -> None:
    assert [g.name for g in selectors.genre_resolve([sent])] == [canonical]


def test_one_genre_named_twice_is_kept_once(genres: Any) -> None:
    resolved = selectors.genre_resolve(["Sci-Fi", "Science Fiction", "drama"])
    assert [g.name for g in resolved] == ["Science Fiction", "Drama"]


def test_an_existing_genre_wins_over_an_alias(db: Any) -> None:
    GenreFactory(name="Science Fiction")
    imported = GenreFactory(name="Film-Noir")  # MovieLens-only genres keep their name
    assert selectors.genre_resolve(["film noir"]) == [imported]
    assert [g.name for g in selectors.genre_resolve(["noir"])] == ["Film-Noir"]


def test_typos_name_the_closest_genres(genres: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        selectors.genre_resolve(["Dramma", "Comedie", "Drama"])
    assert exc.value.message_dict == {
        "genres": ["Unknown genre(s): Dramma, Comedie. Did you mean: Drama, Comedy?"]
    }


def test_nothing_close_lists_every_genre(genres: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        selectors.genre_resolve(["Space Opera"])
    assert exc.value.message_dict == {
        "genres": [f"Unknown genre(s): Space Opera. Valid genres: {', '.join(TMDB_GENRES)}."]
    }


def test_set_favorite_genres_accepts_movielens_names(genres: Any, user_api_client: Any) -> None:
    data = user_api_client.data(
        "mutation($g: [String!]!) { setFavoriteGenres(genres: $g) { favoriteGenres { name } } }",
        {"g": ["Sci-Fi", "children"]},
    )
    assert data == {
        "setFavoriteGenres": {"favoriteGenres": [{"name": "Family"}, {"name": "Science Fiction"}]}
    }


def test_set_favorite_genres_typo_suggests(genres: Any, user_api_client: Any) -> None:
    error = user_api_client.error(
        "mutation($g: [String!]!) { setFavoriteGenres(genres: $g) { favoriteGenres { name } } }",
        {"g": ["Thriler"]},
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "genres"}
    assert error["message"] == "Unknown genre(s): Thriler. Did you mean: Thriller?"


def test_movies_genre_filter_accepts_aliases(genres: Any, api_client: Any) -> None:
    movie = MovieFactory(title="Alien")
    movie.genres.add(genres["Science Fiction"])
    MovieFactory(title="Heat").genres.add(genres["Action"])
    data = api_client.data('{ movies(genres: ["sci-fi"]) { edges { node { title } } } }')
    assert data["movies"]["edges"] == [{"node": {"title": "Alien"}}]


def test_recommendations_genre_accepts_aliases_and_suggests(genres: Any, api_client: Any) -> None:
    MovieFactory(title="Alien", popularity=50).genres.add(genres["Science Fiction"])
    MovieFactory(title="Heat", popularity=90).genres.add(genres["Action"])
    data = api_client.data('{ recommendations(genre: "Sci-Fi") { movie { title } } }')
    assert data["recommendations"] == [{"movie": {"title": "Alien"}}]
    error = api_client.error('{ recommendations(genre: "Acton") { movie { title } } }')
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "genre"}
    assert error["message"] == "Unknown genre(s): Acton. Did you mean: Action?"
