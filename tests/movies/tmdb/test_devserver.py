"""The dev server speaks TMDb's exact JSON shapes; the catalogue is deterministic."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from tools.tmdb_devserver import GENRES, REAL_MOVIE_IDS, Catalogue, DevServer

from .conftest import SAMPLES


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def get(server: DevServer, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{server.base_url}/{path}", params=params, timeout=5)


def keys(obj: dict[str, Any]) -> set[str]:
    return set(obj)


# --- catalogue ---


def test_catalogue_is_deterministic() -> None:
    first = Catalogue.generate(10_000, seed=42)
    second = Catalogue.generate(10_000, seed=42)
    other = Catalogue.generate(10_000, seed=43)

    assert len(first.movies) == 10_000
    assert first.movies == second.movies
    some = list(first.movies)[::997]
    assert [first.credits_for(i) for i in some] == [second.credits_for(i) for i in reversed(some)][
        ::-1
    ]
    assert first.movies != other.movies


def test_catalogue_contents_are_plausible(catalogue: Catalogue) -> None:
    genre_ids = {gid for gid, _ in GENRES}
    assert len(genre_ids) == 19 and {28, 878, 10770, 10751} <= genre_ids
    for movie in catalogue.movies.values():
        # Real movies keep TMDb's genres (The Dark Knight has 4).
        if movie["id"] not in REAL_MOVIE_IDS:
            assert len(movie["genres"]) in range(1, 3 + 1)
        assert {g["id"] for g in movie["genres"]} <= genre_ids
        assert 1950 <= int(movie["release_date"][:4]) <= 2025
        assert movie["poster_path"] is None or movie["poster_path"].endswith(".jpg")
        assert movie["title"] and movie["overview"]
    popularity = sorted(m["popularity"] for m in catalogue.movies.values())
    assert popularity[-1] > 20 * popularity[len(popularity) // 2]  # long tail


def test_real_movies_keep_their_ids(catalogue: Catalogue) -> None:
    assert set(REAL_MOVIE_IDS) <= set(catalogue.movies)
    assert catalogue.movies[238]["title"] == "The Godfather"
    assert catalogue.movies[27205]["title"] == "Inception"
    crew = catalogue.credits_for(157336)["crew"]
    assert ("Christopher Nolan", "Director") in {(c["name"], c["job"]) for c in crew}


def test_credits_have_cast_and_the_four_crew_jobs(catalogue: Catalogue) -> None:
    for movie_id in list(catalogue.movies)[:50]:
        credit = catalogue.credits_for(movie_id)
        assert 5 <= len(credit["cast"]) <= 13
        assert [c["order"] for c in credit["cast"]] == list(range(len(credit["cast"])))
        assert {c["job"] for c in credit["crew"]} == {
            "Director",
            "Screenplay",
            "Producer",
            "Original Music Composer",
        }
        assert catalogue.keywords_for(movie_id)["keywords"]


def test_reset_restores_touched_and_malformed(catalogue: Catalogue) -> None:
    movie_id = catalogue.popular_ids()[5]
    original = dict(catalogue.movies[movie_id])
    changes = len(catalogue.changes)
    catalogue.touch(movie_id)
    catalogue.touch(movie_id)
    catalogue.malform(movie_id)
    assert catalogue.movies[movie_id]["tagline"].endswith("(revision 2)")

    catalogue.reset()

    assert catalogue.movies[movie_id] == original
    assert not catalogue.malformed and len(catalogue.changes) == changes


# --- shapes, compared with the captured samples ---


def test_configuration_shape(dev_server: DevServer) -> None:
    body = get(dev_server, "configuration").json()
    expected = sample("spec_configuration.json")

    assert keys(body) == keys(expected)
    assert keys(body["images"]) == keys(expected["images"])
    assert body["change_keys"] == expected["change_keys"]


def test_genre_list_shape(dev_server: DevServer) -> None:
    body = get(dev_server, "genre/movie/list").json()
    expected = sample("spec_genre_movie_list.json")

    assert keys(body) == keys(expected)
    assert {g["id"] for g in body["genres"]} == {g["id"] for g in expected["genres"]}
    assert all(keys(g) == {"id", "name"} for g in body["genres"])


@pytest.mark.parametrize(
    ("path", "sample_name"),
    [
        ("movie/popular", "spec_movie_popular.json"),
        ("discover/movie", "spec_discover_movie.json"),
        ("trending/movie/week", "spec_trending_movie.json"),
        ("trending/movie/day", "spec_trending_movie.json"),
    ],
)
def test_list_shapes(dev_server: DevServer, path: str, sample_name: str) -> None:
    body = get(dev_server, path).json()
    expected = sample(sample_name)

    assert keys(body) == keys(expected)
    assert len(body["results"]) == 20
    for item in body["results"]:
        assert keys(item) == keys(expected["results"][0])


def test_movie_detail_shape(dev_server: DevServer) -> None:
    body = get(dev_server, "movie/550").json()

    assert keys(body) == keys(sample("spec_movie_details.json"))
    production = sample("spec_movie_details.json")["production_companies"][0]
    assert keys(body["production_companies"][0]) == keys(production)


def test_movie_detail_with_appended_sections_shape(dev_server: DevServer) -> None:
    body = get(dev_server, "movie/603", append_to_response="credits,keywords").json()
    expected = sample("adamayoung_movie_550_append_response.json")

    assert keys(body["credits"]) == keys(expected["credits"]) == {"cast", "crew"}
    assert keys(body["keywords"]) == keys(expected["keywords"]) == {"keywords"}
    assert keys(body["credits"]["cast"][0]) == keys(expected["credits"]["cast"][0])
    assert keys(body["credits"]["crew"][0]) == keys(expected["credits"]["crew"][0])


def test_credits_and_keywords_shapes(dev_server: DevServer) -> None:
    credits = get(dev_server, "movie/13/credits").json()
    keywords = get(dev_server, "movie/13/keywords").json()
    expected_credits = sample("spec_movie_credits.json")
    expected_keywords = sample("spec_movie_keywords.json")

    assert keys(credits) == keys(expected_credits)
    assert keys(credits["cast"][0]) == keys(expected_credits["cast"][0])
    assert keys(credits["crew"][0]) == keys(expected_credits["crew"][0])
    assert keys(keywords) == keys(expected_keywords)
    assert keys(keywords["keywords"][0]) == keys(expected_keywords["keywords"][0])


def test_changes_shape(dev_server: DevServer) -> None:
    body = get(dev_server, "movie/changes").json()  # defaults: the last day
    expected = sample("spec_movie_changes.json")

    assert keys(body) == keys(expected)
    assert body["results"] and keys(body["results"][0]) == {"id", "adult"}


def test_movie_changes_shape(dev_server: DevServer) -> None:
    requests.post(f"{dev_server.root_url}/_dev/movies/680/touch", timeout=5)

    body = get(dev_server, "movie/680/changes").json()
    expected = sample("spec_movie_id_changes.json")

    assert keys(body) == keys(expected)
    assert keys(body["changes"][0]) == keys(expected["changes"][0])
    assert {"id", "action", "time", "value"} <= keys(body["changes"][0]["items"][0])


# --- errors ---


def _assert_tmdb_error(response: requests.Response, status: int, code: int) -> None:
    assert response.status_code == status
    body = response.json()
    assert keys(body) == {"status_code", "status_message", "success"}
    assert body["status_code"] == code and body["success"] is False


@pytest.mark.parametrize("page", ["0", "501", "abc", "-1"])
def test_invalid_page_is_error_22(dev_server: DevServer, page: str) -> None:
    _assert_tmdb_error(get(dev_server, "movie/popular", page=page), 400, 22)


def test_page_past_the_end_is_empty(dev_server: DevServer, catalogue: Catalogue) -> None:
    body = get(dev_server, "movie/popular", page=500).json()

    assert body["results"] == [] and body["total_results"] == len(catalogue.movies)


def test_unknown_movie_and_route_are_error_34(dev_server: DevServer) -> None:
    _assert_tmdb_error(get(dev_server, "movie/1"), 404, 34)
    _assert_tmdb_error(get(dev_server, "movie/1/credits"), 404, 34)
    _assert_tmdb_error(get(dev_server, "tv/popular"), 404, 34)


def test_changes_window_over_14_days_is_rejected(dev_server: DevServer) -> None:
    response = get(dev_server, "movie/changes", start_date="2025-01-01", end_date="2025-01-16")
    _assert_tmdb_error(response, 422, 47)
    ok = get(dev_server, "movie/changes", start_date="2025-01-01", end_date="2025-01-15")
    assert ok.status_code == 200


def test_invalid_discover_filter_is_rejected(dev_server: DevServer) -> None:
    _assert_tmdb_error(get(dev_server, "discover/movie", sort_by="nonsense.desc"), 422, 47)


def test_require_auth_answers_401_code_7(catalogue: Catalogue) -> None:
    with DevServer(catalogue, require_auth=True) as server:
        _assert_tmdb_error(get(server, "configuration"), 401, 7)
        assert get(server, "configuration", api_key="anything").status_code == 200
        response = requests.get(
            f"{server.base_url}/configuration", headers={"Authorization": "Bearer x"}, timeout=5
        )
        assert response.status_code == 200


def test_rate_limit_answers_429_code_25_with_retry_after(catalogue: Catalogue) -> None:
    with DevServer(catalogue, rate_limit=2) as server:
        responses = [get(server, "genre/movie/list") for _ in range(5)]

    limited = [r for r in responses if r.status_code == 429]
    assert limited
    _assert_tmdb_error(limited[0], 429, 25)
    assert int(limited[0].headers["Retry-After"]) >= 1


# --- behaviour and /_dev controls ---


def test_discover_filters_and_sorting(dev_server: DevServer, catalogue: Catalogue) -> None:
    body = get(
        dev_server,
        "discover/movie",
        with_genres="35|27",
        sort_by="vote_count.desc",
        **{"primary_release_date.lte": "1999-12-31"},
    ).json()

    results = body["results"]
    assert results
    assert all({35, 27} & set(m["genre_ids"]) for m in results)
    assert all(m["release_date"] <= "1999-12-31" for m in results)
    counts = [m["vote_count"] for m in results]
    assert counts == sorted(counts, reverse=True)


def test_dev_endpoints_touch_malform_faults_stats_reset(
    dev_server: DevServer, catalogue: Catalogue
) -> None:
    root = dev_server.root_url
    movie_id = catalogue.popular_ids()[3]
    today = datetime.now(UTC).date()

    touched = requests.post(f"{root}/_dev/movies/{movie_id}/touch", timeout=5).json()
    changes = get(dev_server, "movie/changes", start_date=today, end_date=today).json()
    requests.post(f"{root}/_dev/movies/{movie_id}/malform", timeout=5)
    malformed = get(dev_server, f"movie/{movie_id}").json()
    requests.post(f"{root}/_dev/faults", json={"status": 503, "count": 1}, timeout=5)
    faulted = get(dev_server, "configuration")
    stats = requests.get(f"{root}/_dev/stats", timeout=5).json()

    assert touched["tagline"].endswith("(revision 1)")
    assert movie_id in {r["id"] for r in changes["results"]}
    assert malformed["title"] is None and isinstance(malformed["id"], str)
    assert faulted.status_code == 503
    assert stats["requests"] == 3 and stats["malformed"] == [movie_id]
    assert stats["by_status"] == {"200": 2, "503": 1}

    assert requests.post(f"{root}/_dev/reset", timeout=5).json() == {"success": True}
    assert (
        get(dev_server, f"movie/{movie_id}").json()["title"] == catalogue.movies[movie_id]["title"]
    )
    assert requests.get(f"{root}/_dev/stats", timeout=5).json()["requests"] == 1
    assert requests.post(f"{root}/_dev/movies/1/touch", timeout=5).status_code == 404


def test_changed_ids_follow_the_change_log(catalogue: Catalogue) -> None:
    today = datetime.now(UTC).date()
    week = catalogue.changed_ids(today - timedelta(days=7), today)
    month = catalogue.changed_ids(today - timedelta(days=30), today)

    assert week and set(week) <= set(month)
    assert len(month) == len(set(month))
    assert catalogue.changed_ids(date(2000, 1, 1), date(2000, 1, 14)) == []
