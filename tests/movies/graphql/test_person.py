"""People: person(id), Credit.person, Person.filmography and movies(person:)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import override_settings

from movies.models import Credit
from tests.factories import CreditFactory, MovieFactory, PersonFactory
from tests.lists_helpers import count_queries, gid

PERSON = """query($id: ID!, $kind: CreditKind, $first: Int) {
  person(id: $id) {
    name tmdbId profileUrl
    filmography(kind: $kind, first: $first) {
      kind character job movie { title } person { name }
    }
  }
}"""


@pytest.fixture
def career(db: Any) -> Any:
    """One director-actor: three films, one undated, one credit of each kind on the newest."""
    person = PersonFactory(name="Clint Eastwood", tmdb_id=190, profile_path="/clint.jpg")
    old = MovieFactory(title="Dirty Harry", release_date=datetime.date(1971, 12, 23), year=1971)
    new = MovieFactory(title="Unforgiven", release_date=datetime.date(1992, 8, 7), year=1992)
    undated = MovieFactory(title="Untitled", release_date=None, year=None)
    CreditFactory(person=person, movie=old, character="Harry Callahan", order=0)
    CreditFactory(person=person, movie=new, character="William Munny", order=0)
    CreditFactory(
        person=person,
        movie=new,
        kind=Credit.Kind.CREW,
        character="",
        job="Director",
        department="Directing",
    )
    CreditFactory(person=person, movie=undated, character="Himself", order=3)
    return person


@override_settings(TMDB_IMAGE_BASE_URL="https://img.example/t/p/", TMDB_POSTER_SIZE="w500")
def test_person_with_filmography_newest_first(career: Any, api_client: Any) -> None:
    data = api_client.data(PERSON, {"id": gid(career)})["person"]
    assert data["name"] == "Clint Eastwood"
    assert data["tmdbId"] == 190
    assert data["profileUrl"] == "https://img.example/t/p/w500/clint.jpg"
    assert [
        (c["movie"]["title"], c["kind"], c["character"], c["job"]) for c in data["filmography"]
    ] == [
        ("Unforgiven", "CAST", "William Munny", None),
        ("Unforgiven", "CREW", None, "Director"),
        ("Dirty Harry", "CAST", "Harry Callahan", None),
        ("Untitled", "CAST", "Himself", None),
    ]
    assert {c["person"]["name"] for c in data["filmography"]} == {"Clint Eastwood"}


def test_filmography_kind_and_first(career: Any, api_client: Any) -> None:
    crew = api_client.data(PERSON, {"id": gid(career), "kind": "CREW"})["person"]["filmography"]
    assert [c["job"] for c in crew] == ["Director"]
    two = api_client.data(PERSON, {"id": gid(career), "first": 2})["person"]["filmography"]
    assert [c["movie"]["title"] for c in two] == ["Unforgiven", "Unforgiven"]
    error = api_client.error(PERSON, {"id": gid(career), "first": 101})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


def test_unknown_person_is_null_and_a_bad_id_is_bad_input(db: Any, api_client: Any) -> None:
    from graphql_relay import to_global_id

    assert api_client.data(PERSON, {"id": to_global_id("Person", 999999)}) == {"person": None}
    error = api_client.error(PERSON, {"id": to_global_id("Movie", 1)})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


def test_credit_person_links_to_the_person(career: Any, api_client: Any) -> None:
    movie = Credit.objects.get(job="Director").movie
    data = api_client.data(
        "query($id: ID!) { movie(id: $id) { credits { person { id name } } } }", {"id": gid(movie)}
    )
    assert (
        data["movie"]["credits"] == [{"person": {"id": gid(career), "name": "Clint Eastwood"}}] * 2
    )


def test_movies_by_person(career: Any, api_client: Any) -> None:
    MovieFactory(title="Heat")
    query = """query($p: ID) {
      movies(person: $p, orderBy: TITLE) { totalCount edges { node { title } } }
    }"""
    data = api_client.data(query, {"p": gid(career)})["movies"]
    assert data["totalCount"] == 3  # two credits on Unforgiven count it once
    assert [e["node"]["title"] for e in data["edges"]] == ["Dirty Harry", "Unforgiven", "Untitled"]
    error = api_client.error(query, {"p": "nonsense"})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "person"}


def test_movie_credits_people_and_filmographies_are_flat_in_queries(
    db: Any, api_client: Any
) -> None:
    query = """{ movies(first: 100) { edges { node { title credits(first: 5) {
        person { name filmography(first: 3) { character movie { title } } } } } } } }"""
    counts = []
    for batch in (2, 18):  # 2 movies, then 20, each with 3 cast members of several films
        for _ in range(batch):
            movie = MovieFactory()
            for _ in range(3):
                person = PersonFactory()
                CreditFactory(movie=movie, person=person)
                CreditFactory(person=person)  # another film of theirs
        queries, data = count_queries(lambda: api_client.data(query))
        counts.append(queries)
    assert len(data["movies"]["edges"]) == 20 * 4  # each "other film" is a movie too
    assert counts[0] == counts[1]
