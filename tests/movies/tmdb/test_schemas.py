from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from movies.tmdb.errors import TmdbError, TmdbPayloadError
from movies.tmdb.schemas import (
    TmdbChangesPage,
    TmdbConfiguration,
    TmdbCredits,
    TmdbKeyword,
    TmdbMovieDetail,
    TmdbPage,
    parse_changes_page,
    parse_configuration,
    parse_credits,
    parse_genres,
    parse_keywords,
    parse_movie_changes,
    parse_movie_detail,
    parse_movie_page,
    parse_movie_summary,
)

from .conftest import SAMPLES

# File-name suffix -> parser. Every sample must match exactly one rule (nothing is skipped).
PARSERS = (
    ("configuration.json", parse_configuration, TmdbConfiguration),
    ("genre_movie_list.json", parse_genres, tuple),
    ("movie_id_changes.json", parse_movie_changes, tuple),
    ("movie_changes.json", parse_changes_page, TmdbChangesPage),
    ("credits.json", parse_credits, TmdbCredits),
    ("keywords.json", parse_keywords, tuple),
    ("discover_movie.json", parse_movie_page, TmdbPage),
    ("movie_popular.json", parse_movie_page, TmdbPage),
    ("trending_movie.json", parse_movie_page, TmdbPage),
    ("movie_details.json", parse_movie_detail, TmdbMovieDetail),
    ("movie_550.json", parse_movie_detail, TmdbMovieDetail),
    ("append_response.json", parse_movie_detail, TmdbMovieDetail),
    ("append_all.json", parse_movie_detail, TmdbMovieDetail),
)
SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))


def load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def test_samples_directory_is_complete() -> None:
    assert len(SAMPLE_FILES) >= 19


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_parses(path: Path) -> None:
    rules = [rule for rule in PARSERS if path.name.endswith(rule[0])]
    assert len(rules) == 1, f"no single parser rule for {path.name}"
    _, parser, expected_type = rules[0]

    result = parser(json.loads(path.read_text()))

    assert isinstance(result, expected_type)
    if isinstance(result, TmdbPage | TmdbChangesPage):
        assert result.skipped == 0
    if isinstance(result, TmdbPage):
        assert len(result.results) == 20


def test_appended_sections_parse_as_their_own_endpoints() -> None:
    """Extra ``append_to_response`` sections are ignored by the detail parser but still valid."""
    payload = load("phptmdb_movie_87421_append_all.json")
    similar = parse_movie_page(payload["similar_movies"])
    assert (len(similar.results), similar.skipped) == (20, 0)
    assert similar.results[0].overview == ""  # field missing in this old capture
    appended = load("adamayoung_movie_550_append_response.json")
    for section in ("recommendations", "similar"):
        assert parse_movie_page(appended[section]).results


def test_fight_club_append_response_details() -> None:
    movie = parse_movie_detail(load("adamayoung_movie_550_append_response.json"))

    assert (movie.id, movie.title, movie.imdb_id) == (550, "Fight Club", "tt0137523")
    assert movie.release_date == date(1999, 10, 12)
    assert movie.poster_path is None and movie.homepage is None
    assert movie.genre_ids == (18,) and movie.genres[0].name == "Drama"
    assert movie.credits_included and movie.keywords_included
    assert movie.cast[0].name == "Edward Norton" and movie.cast[0].character == "The Narrator"
    assert [(c.name, c.job) for c in movie.crew] == [("David Fincher", "Director")]
    assert TmdbKeyword(851, "dual identity") in movie.keywords
    assert (movie.budget, movie.revenue, movie.runtime) == (63000000, 100853753, 139)


def test_old_capture_with_string_popularity_and_twelve_sections() -> None:
    movie = parse_movie_detail(load("phptmdb_movie_87421_append_all.json"))

    assert movie.popularity == pytest.approx(93.4917224393659)
    assert len(movie.genres) == 3 and len(movie.keywords) == 4
    assert (len(movie.cast), len(movie.crew)) == (11, 14)
    assert movie.cast[0].order == 0 and movie.crew[1].profile_path is None


def test_details_without_append_report_missing_sections() -> None:
    movie = parse_movie_detail(load("spec_movie_details.json"))

    assert not movie.credits_included and not movie.keywords_included
    assert movie.cast == () and movie.keywords == ()
    assert movie.runtime == 121 and movie.status == "Released"


def test_changes_page_tolerates_null_adult() -> None:
    payload = load("spec_movie_changes.json")
    assert any(item["adult"] is None for item in payload["results"])

    page = parse_changes_page(payload)

    assert (page.page, page.total_pages, len(page.ids), page.skipped) == (3, 57, 100, 0)
    assert page.has_next


def test_retired_genres_are_kept_as_data() -> None:
    genres = parse_genres(load("phptmdb_genre_movie_list.json"))

    assert len(genres) == 35
    assert (10754, "Neo-noir") in {(g.id, g.name) for g in genres}


def test_configuration_builds_image_urls() -> None:
    config = parse_configuration(load("spec_configuration.json"))

    assert config.image_url("/abc.jpg", "w500") == "https://image.tmdb.org/t/p/w500/abc.jpg"
    assert config.image_url(None) is None and config.image_url("") is None
    assert "w500" in config.poster_sizes


def test_movie_changes_are_flattened() -> None:
    changes = parse_movie_changes(load("spec_movie_id_changes.json"))

    assert changes[0].key == "images" and changes[0].action == "added"
    assert changes[0].time == "2023-04-08 16:35:05 UTC"


GOOD_ITEM = {"id": 1, "title": "A", "release_date": "", "genre_ids": [18], "popularity": 1.5}


def test_empty_release_date_and_nulls_become_none() -> None:
    movie = parse_movie_summary({**GOOD_ITEM, "poster_path": None, "backdrop_path": ""})

    assert movie.release_date is None
    assert movie.poster_path is None and movie.backdrop_path is None
    assert movie.original_title == "A" and movie.vote_count == 0


@pytest.mark.parametrize(
    "change",
    [
        {"id": None},
        {"id": "1"},
        {"id": True},
        {"title": None},
        {"title": "   "},
        {"popularity": "high"},
        {"popularity": [1]},
        {"genre_ids": ["18"]},
        {"genre_ids": "18"},
        {"release_date": "2023-13-45"},
        {"adult": "no"},
        {"vote_count": 1.5},
    ],
    ids=repr,
)
def test_malformed_summary_raises(change: dict[str, Any]) -> None:
    with pytest.raises(TmdbPayloadError):
        parse_movie_summary({**GOOD_ITEM, **change})


def test_payload_error_is_a_value_error_and_a_tmdb_error() -> None:
    with pytest.raises(ValueError) as info:
        parse_movie_summary(["not", "an", "object"])
    assert isinstance(info.value, TmdbError)


@pytest.mark.parametrize(
    "payload",
    [
        {"id": 5, "title": "X", "credits": {"cast": [{"name": "No Id"}], "crew": []}},
        {"id": 5, "title": "X", "keywords": {"keywords": [{"id": 1}]}},
        {"id": 5, "title": "X", "genres": [{"id": "18", "name": "Drama"}]},
        {"id": 5, "title": "X", "runtime": "long"},
        {"id": 5, "title": "X", "credits": "none"},
        {"title": "X"},
    ],
    ids=repr,
)
def test_malformed_detail_raises(payload: dict[str, Any]) -> None:
    with pytest.raises(TmdbPayloadError):
        parse_movie_detail(payload)


def test_zero_runtime_budget_revenue_mean_unknown() -> None:
    movie = parse_movie_detail({"id": 5, "title": "X", "runtime": 0, "budget": 0, "revenue": 0})

    assert (movie.runtime, movie.budget, movie.revenue) == (None, None, None)


def test_page_skips_and_counts_malformed_items() -> None:
    payload = {
        "page": 2,
        "total_pages": 3,
        "total_results": 60,
        "results": [GOOD_ITEM, {"id": 2}, {**GOOD_ITEM, "id": 3, "genre_ids": [None]}, "junk"],
    }

    page = parse_movie_page(payload)

    assert [m.id for m in page.results] == [1]
    assert page.skipped == 3
    assert all(isinstance(e, TmdbPayloadError) for e in page.errors)


@pytest.mark.parametrize(
    "payload",
    [
        {"results": []},
        {"page": 1, "results": None},
        {"page": 1, "results": {"id": 1}},
        [],
    ],
    ids=repr,
)
def test_malformed_page_envelope_raises(payload: Any) -> None:
    with pytest.raises(TmdbPayloadError):
        parse_movie_page(payload)


def test_changes_page_skips_items_without_integer_id() -> None:
    payload = {
        "page": 1,
        "total_pages": 1,
        "total_results": 3,
        "results": [{"id": 1, "adult": None}, {"id": "2"}, {"adult": False}],
    }

    page = parse_changes_page(payload)

    assert page.ids == (1,) and page.skipped == 2


def test_configuration_requires_secure_base_url() -> None:
    with pytest.raises(TmdbPayloadError):
        parse_configuration({"images": {"base_url": "http://x/"}})
