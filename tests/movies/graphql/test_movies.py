"""The `movies` connection: filters, orders, keyset pages, search, errors, query counts."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from movies.models import Credit
from tests.factories import CreditFactory, GenreFactory, MovieFactory, PersonFactory

pytestmark = pytest.mark.django_db

MOVIES = """
query($first: Int, $after: String, $search: String, $genres: [String!], $yearFrom: Int,
      $yearTo: Int, $minRating: Float, $language: String, $orderBy: MovieOrder) {
  movies(first: $first, after: $after, search: $search, genres: $genres, yearFrom: $yearFrom,
         yearTo: $yearTo, minRating: $minRating, language: $language, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { title } }
  }
}
"""


def _titles(client, **variables):
    return [e["node"]["title"] for e in client.data(MOVIES, variables)["movies"]["edges"]]


def _walk(client, first, **variables):
    """Every title, page by page, following endCursor."""
    seen, after = [], None
    while True:
        page = client.data(MOVIES, {"first": first, "after": after, **variables})["movies"]
        seen += [e["node"]["title"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def _rated(title, *scores, **kwargs):
    return MovieFactory(
        title=title,
        rating_count=len(scores),
        rating_sum=Decimal(str(sum(scores))),
        **kwargs,
    )


def test_default_order_is_popularity_with_count_and_first_default_20(api_client):
    for i in range(25):
        MovieFactory(title=f"m{i:02}", popularity=1000 - i)
    page = api_client.data(MOVIES)["movies"]
    assert page["totalCount"] == 25
    assert [e["node"]["title"] for e in page["edges"]] == [f"m{i:02}" for i in range(20)]
    assert page["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("POPULARITY", ["b", "c", "a", "d"]),
        ("TITLE", ["a", "b", "c", "d"]),
        ("RELEASE_DATE", ["c", "a", "b", "d"]),
        ("RATING", ["c", "a", "b", "d"]),
    ],
)
def test_orders(api_client, order, expected):
    _rated("a", 4.0, 4.0, release_date=date(2001, 1, 1), popularity=5)
    _rated("b", 3.5, release_date=date(1999, 5, 5), popularity=9)
    _rated("c", 5.0, 4.5, release_date=date(2020, 2, 2), popularity=7)
    MovieFactory(title="d", release_date=None, year=None, popularity=1)
    assert _titles(api_client, orderBy=order) == expected


def test_rating_order_pages_by_keyset_with_ties_and_unrated_last(api_client):
    _rated("four-a", 4.0)
    _rated("four-b", 4.5, 3.5)  # same average, more ratings: ahead of four-a
    _rated("third", 1.0, 2.0, 3.0)  # 2.0 exactly; thirds must not round apart
    _rated("two-thirds", 2.5, 2.0, 2.0)  # 2.1666...
    _rated("five", 5.0)
    for i in range(3):
        MovieFactory(title=f"unrated{i}")
    walked = _walk(api_client, 2, orderBy="RATING")
    assert walked == [
        "five",
        "four-b",
        "four-a",
        "two-thirds",
        "third",
        "unrated0",
        "unrated1",
        "unrated2",
    ]


def test_rating_order_is_damped_so_a_few_perfect_scores_do_not_win(api_client, settings):
    settings.MOVIES_RATING_PRIOR_WEIGHT = 10
    _rated("three perfect", 5.0, 5.0, 5.0)
    MovieFactory(title="a thousand 4.8s", rating_count=1000, rating_sum=Decimal("4800.0"))
    _rated("one 4.9", 4.9)
    _rated("many 3.0", *[3.0] * 200)
    # Mean of all 1,204 ratings C = 5,419.9 / 1,204 = 4.5016; score = (sum + 10 C) / (n + 10).
    assert _titles(api_client, orderBy="RATING") == [
        "a thousand 4.8s",  # 4.797
        "three perfect",  # 4.617
        "one 4.9",  # 4.538
        "many 3.0",  # 3.072
    ]
    # The displayed average stays the plain mean.
    query = (
        "{ movies(orderBy: RATING, first: 2) { edges { node { communityRating { average } } } } }"
    )
    averages = [
        e["node"]["communityRating"]["average"] for e in api_client.data(query)["movies"]["edges"]
    ]
    assert averages == [4.8, 5.0]


def test_rating_order_without_damping_is_the_plain_average(api_client, settings):
    settings.MOVIES_RATING_PRIOR_WEIGHT = 0
    _rated("three perfect", 5.0, 5.0, 5.0)
    MovieFactory(title="a thousand 4.8s", rating_count=1000, rating_sum=Decimal("4800.0"))
    assert _titles(api_client, orderBy="RATING") == ["three perfect", "a thousand 4.8s"]


@pytest.mark.parametrize("order", ["POPULARITY", "TITLE", "RELEASE_DATE"])
def test_every_order_walks_all_pages_without_repeats(api_client, order):
    for i in range(11):
        MovieFactory(
            title=f"t{i % 4}",
            popularity=float(i % 3),
            release_date=None if i % 5 else date(2000, 1, 1),
        )
    walked = _walk(api_client, 3, orderBy=order)
    assert len(walked) == 11
    assert walked == _titles(api_client, first=100, orderBy=order)


def test_genre_filter_needs_every_genre_and_ignores_case(api_client):
    drama, crime, comedy = (GenreFactory(name=n) for n in ("Drama", "Crime", "Comedy"))
    MovieFactory(title="both", genres=[drama, crime], popularity=3)
    MovieFactory(title="drama only", genres=[drama], popularity=2)
    MovieFactory(title="comedy", genres=[comedy], popularity=1)
    assert _titles(api_client, genres=["Drama"]) == ["both", "drama only"]
    assert _titles(api_client, genres=["drama", "CRIME"]) == ["both"]


def test_unknown_genre_is_bad_input_on_genres(api_client):
    GenreFactory(name="Drama")
    error = api_client.error(MOVIES, {"genres": ["Drama", "Space Opera"]})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "genres"}
    assert error["message"] == "Unknown genre(s): Space Opera. Valid genres: Drama."


def test_year_language_and_min_rating_filters(api_client):
    _rated("old", 5.0, year=1970, release_date=None, original_language="it")
    _rated("mid", 3.0, year=1995, release_date=None)
    _rated("new", 4.5, year=2015, release_date=None)
    MovieFactory(title="new unrated", year=2016, release_date=None)
    assert _titles(api_client, yearFrom=1990, orderBy="TITLE") == ["mid", "new", "new unrated"]
    assert _titles(api_client, yearTo=1995, orderBy="TITLE") == ["mid", "old"]
    assert _titles(api_client, yearFrom=1995, yearTo=1995) == ["mid"]
    assert _titles(api_client, language="IT") == ["old"]
    assert _titles(api_client, minRating=4.0, orderBy="RATING") == ["old", "new"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"yearFrom": 2001, "yearTo": 2000}, "yearFrom"),
        ({"minRating": 7.5}, "minRating"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"after": "garbage"}, "after"),
        ({"orderBy": "RELEVANCE"}, "orderBy"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_bad_arguments_are_bad_input_with_field(api_client, variables, field):
    MovieFactory()
    body = api_client(MOVIES, variables)
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


def test_cursor_of_another_order_is_rejected(api_client):
    MovieFactory()
    MovieFactory()
    cursor = api_client.data(MOVIES, {"first": 1})["movies"]["pageInfo"]["endCursor"]
    error = api_client.error(MOVIES, {"first": 1, "after": cursor, "orderBy": "RATING"})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


def test_search_defaults_to_relevance_and_pages(api_client):
    MovieFactory(title="Star Wars", popularity=10)
    MovieFactory(title="Star Trek", popularity=50)
    MovieFactory(title="Lone Star", popularity=5)
    MovieFactory(title="Starship Troopers", popularity=1)
    MovieFactory(title="Alien", popularity=100)
    assert _titles(api_client, search="star wars") == ["Star Wars"]
    walked = _walk(api_client, 1, search="star")
    assert walked[:3] == ["Star Trek", "Star Wars", "Lone Star"]
    assert set(walked) == {"Star Wars", "Star Trek", "Lone Star", "Starship Troopers"}
    assert api_client.data(MOVIES, {"search": "star"})["movies"]["totalCount"] == 4
    assert _titles(api_client, search="star", orderBy="TITLE") == [
        "Lone Star",
        "Star Trek",
        "Star Wars",
        "Starship Troopers",
    ]


def test_blank_search_is_no_search(api_client):
    MovieFactory(title="a", popularity=2)
    MovieFactory(title="b", popularity=1)
    assert _titles(api_client, search="   ") == ["a", "b"]


NESTED = """
query($first: Int) {
  movies(first: $first) {
    totalCount
    edges { node {
      title posterUrl communityRating { average count }
      genres { name }
      keywords { name }
      credits { name character job order }
      cast: credits(kind: CAST, first: 2) { name }
    } }
  }
}
"""


def _seed(n):
    genres = [GenreFactory(name=f"G{i}") for i in range(3)]
    person = PersonFactory()
    for i in range(n):
        movie = MovieFactory(genres=genres[: 1 + i % 3], keywords=[f"k{i}"])
        CreditFactory(movie=movie, person=person, order=0)
        CreditFactory(movie=movie, order=1)
        CreditFactory(movie=movie, kind=Credit.Kind.CREW, job="Director", character="")


def _count_queries(client, first):
    with CaptureQueriesContext(connection) as ctx:
        data = client.data(NESTED, {"first": first})
    return len(ctx.captured_queries), data


@pytest.mark.parametrize("viewer", ["anonymous", "user"])
def test_query_count_does_not_grow_with_page_size(api_client, user_api_client, viewer):
    client = api_client if viewer == "anonymous" else user_api_client
    _seed(50)
    small, small_data = _count_queries(client, 5)
    large, large_data = _count_queries(client, 50)
    assert len(small_data["movies"]["edges"]) == 5
    assert len(large_data["movies"]["edges"]) == 50
    node = large_data["movies"]["edges"][0]["node"]
    assert len(node["credits"]) == 3 and len(node["cast"]) == 2
    assert node["genres"] and node["keywords"]
    # page, count, genres, keywords, credits (all), credits (cast, first 2) [+ the viewer]
    assert small == large == (6 if viewer == "anonymous" else 7)


def test_genres_query_count_is_constant(api_client, django_assert_num_queries):
    for i in range(30):
        GenreFactory(name=f"G{i:02}")
    with django_assert_num_queries(1):
        data = api_client.data("{ genres { id name tmdbId } }")
    assert len(data["genres"]) == 30


@pytest.mark.parametrize("order", ["POPULARITY", "TITLE", "RELEASE_DATE"])
def test_lists_not_ordered_by_rating_do_not_scan_the_catalogue_for_the_mean(api_client, order):
    """The damped score's global mean is a scan of every movie (22 ms at 10k movies, once
    per statement): only `orderBy: RATING` may pay it."""
    _rated("a", 4.0, 5.0)
    with CaptureQueriesContext(connection) as ctx:
        page = api_client.data(
            "query($o: MovieOrder) { movies(first: 5, orderBy: $o) "
            "{ edges { node { title communityRating { average count } } } } }",
            {"o": order},
        )
    assert page["movies"]["edges"][0]["node"]["communityRating"] == {"average": 4.5, "count": 2}
    assert not any("SUM(rating_sum)" in q["sql"] for q in ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        api_client.data("{ movies(first: 5, orderBy: RATING) { edges { node { title } } } }")
    assert any("SUM(rating_sum)" in q["sql"] for q in ctx.captured_queries)


def test_search_ranks_bounded_candidates_first_then_pages_through_every_match(api_client, settings):
    # One candidate per source: the exact title, the most popular similar title and the
    # most popular match; the other matches follow them, ranked the same way.
    settings.SEARCH_CANDIDATES = 1
    MovieFactory(title="Night", popularity=1)
    MovieFactory(title="Night Night", popularity=2)
    MovieFactory(title="Night Moves", popularity=3)
    MovieFactory(title="Dawn", overview="A long night.", popularity=90)
    MovieFactory(title="Dusk", overview="The night falls.", popularity=80)
    walked = _walk(api_client, 2, search="night")
    assert walked == ["Night", "Night Moves", "Dawn", "Night Night", "Dusk"]
    assert api_client.data(MOVIES, {"search": "night"})["movies"]["totalCount"] == 5
    settings.SEARCH_CANDIDATES = 100  # every match is a candidate: plain relevance order
    assert _walk(api_client, 2, search="night") == [
        "Night",
        "Night Night",
        "Night Moves",
        "Dawn",
        "Dusk",
    ]


def test_search_page_query_count_is_flat(api_client, django_assert_num_queries):
    for i in range(30):
        MovieFactory(title=f"Star {i}", popularity=i)
    api_client.data(MOVIES, {"search": "star"})  # warm: viewer-independent caches
    # the candidates, the page (filled from them), totalCount
    with django_assert_num_queries(3):
        body = api_client.data(MOVIES, {"search": "star", "first": 20})
    assert len(body["movies"]["edges"]) == 20
