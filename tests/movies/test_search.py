"""Search quality of movies.selectors.movie_search, against real PostgreSQL indexes."""

import pytest
from django.core.exceptions import ValidationError

from movies.models import Movie
from movies.selectors import MovieFilters, movie_list, movie_search, search_tsquery_text
from tests.factories import MovieFactory

pytestmark = pytest.mark.django_db

RELEVANCE = ("-search_exact", "-search_score", "-popularity", "pk")


def _search(text):
    return [m.title for m in movie_search(Movie.objects.all(), text).order_by(*RELEVANCE)]


@pytest.fixture
def catalogue():
    MovieFactory(
        title="The Godfather",
        overview="The aging patriarch of an organized crime dynasty transfers control.",
        keywords=["mafia", "patriarch"],
        popularity=50,
    )
    MovieFactory(title="The Godfather Part II", overview="The early life of Vito.", popularity=40)
    MovieFactory(title="Heat", overview="A group of professional bank robbers.", popularity=30)
    MovieFactory(title="Heat Wave", overview="Summer in the city.", popularity=90)
    MovieFactory(title="Summer Days", overview="A heat wave hits a small town.", popularity=99)
    MovieFactory(title="Mafia!", overview="A spoof of crime sagas.", popularity=5)
    MovieFactory(title="Goodfellas", overview="The story of a mafia associate.", popularity=60)
    MovieFactory(title="Alien", overview="A crew meets a deadly creature.", popularity=70)


def test_exact_title_ranks_first_even_when_less_popular(catalogue):
    assert _search("heat")[:2] == ["Heat", "Heat Wave"]
    assert _search("Heat") == ["Heat", "Heat Wave", "Summer Days"]


def test_closest_whole_title_wins_among_equal_word_matches():
    MovieFactory(title="The Godfather Part III", popularity=500)
    MovieFactory(title="The Godfather", popularity=1)
    MovieFactory(title="The Godfather Part II", popularity=300)
    assert _search("godfather") == [
        "The Godfather",
        "The Godfather Part II",
        "The Godfather Part III",
    ]


def test_prefix_of_the_last_word_matches_as_you_type(catalogue):
    assert _search("godf") == ["The Godfather", "The Godfather Part II"]
    assert _search("the godfather par")[0] == "The Godfather Part II"


@pytest.mark.parametrize("typo", ["godfater", "the godfahter", "goodfelas"])
def test_typos_in_the_title_still_match(catalogue, typo):
    expected = "Goodfellas" if typo == "goodfelas" else "The Godfather"
    assert _search(typo)[0] == expected


def test_keyword_hit_is_found(catalogue):
    assert "The Godfather" in _search("patriarch")
    assert _search("patriarch")[0] == "The Godfather"


def test_title_hit_ranks_above_keyword_and_overview_hits(catalogue):
    # "Mafia!" has it in the title, The Godfather as a keyword, Goodfellas in the overview.
    assert _search("mafia") == ["Mafia!", "The Godfather", "Goodfellas"]


def test_overview_only_hit_is_found_below_title_hits(catalogue):
    results = _search("wave")
    assert results == ["Heat Wave", "Summer Days"]


def test_unrelated_text_finds_nothing(catalogue):
    assert _search("zzzyyxx") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("godf", "'godf':*"),
        ("The  Godfather, part", "'the' & 'godfather' & 'part':*"),
        ("it's & | ! :* (x)", "'it' & 's' & 'x':*"),
        ("'; DROP TABLE movies_movie; --", "'drop' & 'table' & 'movies_movie':*"),
        ("!!! ", None),
    ],
)
def test_tsquery_is_built_from_words_only(text, expected):
    assert search_tsquery_text(text) == expected


@pytest.mark.parametrize("text", ["a & b |", "'", "\\", ":*:*", "(((", "<->", "!!!", "é"])
def test_hostile_search_text_is_searched_not_executed(catalogue, text):
    assert isinstance(_search(text), list)


def test_search_combines_with_filters(catalogue):
    MovieFactory(title="The Godfather Part III", year=1990, release_date=None, popularity=1)
    titles = [
        m.title
        for m in movie_list(filters=MovieFilters(search="godfather", year_from=1989)).order_by(
            *RELEVANCE
        )
    ]
    assert "The Godfather Part III" in titles
    assert all(t.startswith("The Godfather") for t in titles)


def test_overlong_search_is_rejected():
    with pytest.raises(ValidationError) as exc:
        movie_list(filters=MovieFilters(search="x" * 201))
    assert "search" in exc.value.error_dict
