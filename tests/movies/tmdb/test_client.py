"""TmdbClient against the dev server over a real socket (no mocks)."""

from __future__ import annotations

import random
import socket
from datetime import UTC, date, datetime, timedelta

import pytest

from movies.tmdb import (
    TmdbAuthError,
    TmdbBadRequest,
    TmdbClient,
    TmdbConnectionError,
    TmdbNotFound,
    TmdbPage,
    TmdbPayloadError,
    TmdbRateLimited,
    TmdbServerError,
)
from movies.tmdb.schemas import parse_movie_detail
from tools.tmdb_devserver import Catalogue, DevServer

from .conftest import RecordingSleep


@pytest.fixture(scope="module")
def small_catalogue() -> Catalogue:
    return Catalogue.generate(200, seed=3)


def test_bearer_token_goes_in_header_not_url(small_catalogue: Catalogue) -> None:
    with (
        DevServer(small_catalogue, read_token="secret-token") as server,
        TmdbClient(server.base_url, read_token="secret-token", api_key="ignored") as tmdb,
    ):
        genres = tmdb.genres()

        [entry] = server.request_log
    assert len(genres) == 19
    assert entry["auth"] == "bearer" and "api_key" not in entry["query"]
    assert "secret-token" not in repr(tmdb)


def test_api_key_goes_in_query_when_no_token(small_catalogue: Catalogue) -> None:
    with (
        DevServer(small_catalogue, api_key="k123") as server,
        TmdbClient(server.base_url, api_key="k123") as tmdb,
    ):
        tmdb.configuration()

        [entry] = server.request_log
    assert entry["auth"] == "api_key" and entry["query"]["api_key"] == "***"
    assert "k123" not in repr(tmdb)


@pytest.mark.parametrize("credentials", [{}, {"read_token": "wrong"}, {"api_key": "wrong"}])
def test_missing_or_wrong_credentials_raise_auth_error_without_retry(
    small_catalogue: Catalogue, credentials: dict[str, str]
) -> None:
    sleeps = RecordingSleep()
    with (
        DevServer(small_catalogue, require_auth=True, api_key="k", read_token="t") as server,
        TmdbClient(server.base_url, sleep=sleeps, **credentials) as tmdb,
    ):
        with pytest.raises(TmdbAuthError) as info:
            tmdb.popular()

        assert server.stats()["requests"] == 1
    assert (info.value.http_status, info.value.status_code) == (401, 7)
    assert sleeps.calls == [] and tmdb.stats.errors == 1


def test_popular_pages_follow_catalogue_order(client: TmdbClient, catalogue: Catalogue) -> None:
    pages = list(client.iter_pages(client.popular, max_pages=3))

    assert [p.page for p in pages] == [1, 2, 3]
    ids = [m.id for p in pages for m in p.results]
    assert ids == catalogue.popular_ids()[:60]
    assert pages[0].total_results == len(catalogue.movies)
    assert client.stats.requests == 3


def test_iter_pages_stops_at_last_page(client: TmdbClient, catalogue: Catalogue) -> None:
    filters = {"with_genres": [28, 53], "primary_release_date__gte": date(1990, 1, 1)}
    expected = catalogue.discover_ids(
        {"with_genres": "28,53", "primary_release_date.gte": "1990-01-01"}
    )
    assert 20 < len(expected) < 200  # the fixture catalogue must exercise several pages

    pages = list(client.iter_pages(client.discover, **filters))

    assert len(pages) == pages[0].total_pages == -(-len(expected) // 20)
    assert [m.id for p in pages for m in p.results] == expected


def test_iter_pages_is_capped_at_page_500(client: TmdbClient) -> None:
    requested: list[int] = []

    def fake(page: int) -> TmdbPage[int]:
        requested.append(page)
        return TmdbPage(page=page, total_pages=38020, total_results=760385, results=())

    assert len(list(client.iter_pages(fake))) == 500
    assert requested[-1] == 500
    assert len(list(client.iter_pages(fake, max_pages=2))) == 2


def test_page_outside_range_is_rejected_locally(client: TmdbClient) -> None:
    with pytest.raises(ValueError):
        client.popular(page=501)
    with pytest.raises(ValueError):
        client.trending("month")  # type: ignore[arg-type]
    assert client.stats.requests == 0


def test_server_rejects_page_501_with_code_22(client: TmdbClient) -> None:
    with pytest.raises(TmdbBadRequest) as info:
        client.get_json("movie/popular", {"page": 501})
    assert info.value.status_code == 22


def test_movie_detail_matches_catalogue(
    client: TmdbClient, dev_server: DevServer, catalogue: Catalogue
) -> None:
    movie = client.movie(550)

    expected = parse_movie_detail(catalogue.detail(550, ("credits", "keywords")))
    assert movie == expected
    assert movie.title == "Fight Club" and movie.credits_included and movie.keywords_included
    assert ("David Fincher", "Director") in {(c.name, c.job) for c in movie.crew}
    assert movie.cast[0].name == "Edward Norton"
    [entry] = dev_server.request_log
    assert entry["query"]["append_to_response"] == "credits,keywords"


def test_credits_and_keywords_endpoints(client: TmdbClient, catalogue: Catalogue) -> None:
    movie_id = catalogue.popular_ids()[10]

    credits = client.credits(movie_id)
    keywords = client.keywords(movie_id)

    assert [c.person_id for c in credits.cast] == [
        c["id"] for c in catalogue.credits_for(movie_id)["cast"]
    ]
    assert {k.name for k in keywords} == {
        k["name"] for k in catalogue.keywords_for(movie_id)["keywords"]
    }


def test_unknown_movie_raises_not_found_without_retry(
    client: TmdbClient, sleeps: RecordingSleep
) -> None:
    with pytest.raises(TmdbNotFound) as info:
        client.movie(1)

    assert (info.value.http_status, info.value.status_code) == (404, 34)
    assert sleeps.calls == [] and client.stats.requests == 1


def test_429_honours_retry_after_then_succeeds(
    client: TmdbClient, dev_server: DevServer, sleeps: RecordingSleep
) -> None:
    dev_server.inject_faults(429, count=2, retry_after=3)

    genres = client.genres()

    assert len(genres) == 19
    assert sleeps.calls == [3.0, 3.0]
    assert client.stats.as_dict() == {"requests": 3, "retries": 2, "rate_limited": 2, "errors": 0}


def test_429_without_retry_after_uses_jittered_backoff(
    client: TmdbClient, dev_server: DevServer, sleeps: RecordingSleep
) -> None:
    dev_server.inject_faults(429, count=3)

    client.configuration()

    assert len(sleeps.calls) == 3
    for attempt, delay in enumerate(sleeps.calls):
        assert 0 <= delay <= client.backoff_base * 2**attempt


def test_429_after_retries_raises_rate_limited(dev_server: DevServer) -> None:
    dev_server.inject_faults(429, count=5, retry_after=7)
    sleeps = RecordingSleep()
    tmdb = TmdbClient(dev_server.base_url, max_retries=2, sleep=sleeps)

    with pytest.raises(TmdbRateLimited) as info:
        tmdb.genres()

    assert info.value.retry_after == 7 and info.value.status_code == 25
    assert sleeps.calls == [7.0, 7.0]
    assert tmdb.stats.rate_limited == 3 and tmdb.stats.errors == 1


def test_retry_after_is_capped(dev_server: DevServer) -> None:
    dev_server.inject_faults(429, count=1, retry_after=3600)
    sleeps = RecordingSleep()
    tmdb = TmdbClient(dev_server.base_url, retry_after_max=30, sleep=sleeps)

    tmdb.genres()

    assert sleeps.calls == [30]


def test_5xx_is_retried_then_succeeds(
    client: TmdbClient, dev_server: DevServer, sleeps: RecordingSleep
) -> None:
    dev_server.inject_faults(503, count=1)
    dev_server.inject_faults(500, count=1)

    page = client.popular()

    assert len(page.results) == 20
    assert len(sleeps.calls) == 2 and client.stats.retries == 2


def test_5xx_after_retries_raises_server_error(dev_server: DevServer) -> None:
    dev_server.inject_faults(500, count=10)
    sleeps = RecordingSleep()
    tmdb = TmdbClient(dev_server.base_url, max_retries=3, sleep=sleeps, rng=random.Random(1))

    with pytest.raises(TmdbServerError) as info:
        tmdb.popular()

    assert info.value.http_status == 500 and info.value.status_code == 11
    assert len(sleeps.calls) == 3
    assert dev_server.stats()["by_status"] == {"500": 4}


def test_connection_errors_are_retried_then_raised() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = RecordingSleep()
    tmdb = TmdbClient(f"http://127.0.0.1:{port}/3", max_retries=2, timeout=0.5, sleep=sleeps)

    with pytest.raises(TmdbConnectionError):
        tmdb.genres()

    assert len(sleeps.calls) == 2 and tmdb.stats.requests == 3


def test_random_server_errors_are_absorbed_by_retries(small_catalogue: Catalogue) -> None:
    sleeps = RecordingSleep()
    with (
        DevServer(small_catalogue, error_rate=0.4, seed=5) as server,
        TmdbClient(server.base_url, max_retries=10, sleep=sleeps) as tmdb,
    ):
        ids = small_catalogue.popular_ids()[:15]
        titles = [tmdb.movie(movie_id).title for movie_id in ids]

        status = server.stats()["by_status"]
    assert titles == [small_catalogue.movies[i]["title"] for i in ids]
    assert int(status.get("500", 0)) + int(status.get("503", 0)) == tmdb.stats.retries > 0


def test_server_rate_limit_answers_429_with_retry_after(small_catalogue: Catalogue) -> None:
    with (
        DevServer(small_catalogue, rate_limit=3) as server,
        TmdbClient(server.base_url, max_retries=0) as tmdb,
    ):
        errors = []
        for _ in range(8):
            try:
                tmdb.configuration()
            except TmdbRateLimited as exc:
                errors.append(exc)
    assert errors, "8 immediate requests must exceed 3 requests/second"
    assert errors[0].status_code == 25 and errors[0].retry_after >= 1


def test_changes_windows_split_at_14_days() -> None:
    windows = TmdbClient.changes_windows(date(2025, 1, 1), date(2025, 2, 5))

    assert windows == [
        (date(2025, 1, 1), date(2025, 1, 14)),
        (date(2025, 1, 15), date(2025, 1, 28)),
        (date(2025, 1, 29), date(2025, 2, 5)),
    ]
    assert TmdbClient.changes_windows(date(2025, 1, 1), date(2025, 1, 1)) == [
        (date(2025, 1, 1), date(2025, 1, 1))
    ]


def test_changes_rejects_windows_over_14_days(client: TmdbClient) -> None:
    with pytest.raises(ValueError):
        client.changes(date(2025, 1, 1), date(2025, 1, 16))
    with pytest.raises(TmdbBadRequest) as info:
        client.get_json("movie/changes", {"start_date": "2025-01-01", "end_date": "2025-01-16"})
    assert info.value.status_code == 47


def test_iter_changes_covers_long_range_once_per_id(
    client: TmdbClient, dev_server: DevServer, catalogue: Catalogue
) -> None:
    today = datetime.now(UTC).date()
    since = today - timedelta(days=35)

    ids = list(client.iter_changes(since, today))

    assert len(ids) == len(set(ids))
    assert set(ids) == set(catalogue.changed_ids(since, today)) and ids
    windows = [
        (date.fromisoformat(e["query"]["start_date"]), date.fromisoformat(e["query"]["end_date"]))
        for e in dev_server.request_log
    ]
    assert len(set(windows)) == 3
    assert all(end - start <= timedelta(days=14) for start, end in windows)
    assert min(s for s, _ in windows) == since and max(e for _, e in windows) == today


def test_changes_page_through_100_ids(client: TmdbClient, catalogue: Catalogue) -> None:
    today = datetime.now(UTC).date()
    for movie_id in catalogue.popular_ids()[:150]:
        catalogue.touch(movie_id)

    pages = list(client.iter_pages(client.changes, start_date=today, end_date=today))

    assert [len(p.ids) for p in pages] == [100, 50]
    assert pages[0].total_results == 150


def test_touched_movie_shows_up_in_changes(
    client: TmdbClient, dev_server: DevServer, catalogue: Catalogue
) -> None:
    movie_id = catalogue.popular_ids()[-1]
    before = client.movie(movie_id)
    today = datetime.now(UTC).date()

    catalogue.touch(movie_id)
    after = client.movie(movie_id)

    assert movie_id in set(client.iter_changes(today, today))
    assert after.popularity > before.popularity and after.tagline.endswith("(revision 1)")
    assert {c.key for c in client.movie_changes(movie_id)} >= {"popularity", "tagline"}


def test_malformed_movie_raises_payload_error_and_is_skipped_in_lists(
    client: TmdbClient, catalogue: Catalogue
) -> None:
    movie_id = catalogue.popular_ids()[0]
    catalogue.malform(movie_id)

    with pytest.raises(TmdbPayloadError):
        client.movie(movie_id)
    page = client.popular()

    assert page.skipped == 1 and len(page.results) == 19
    assert movie_id not in {m.id for m in page.results}
    assert client.stats.errors == 1


def test_discover_sends_dotted_filters(client: TmdbClient, dev_server: DevServer) -> None:
    page = client.discover(
        sort_by="primary_release_date.asc",
        primary_release_date__gte=date(2000, 1, 1),
        primary_release_date__lte="2009-12-31",
        with_genres=[18],
    )

    [entry] = dev_server.request_log
    assert entry["query"]["primary_release_date.gte"] == "2000-01-01"
    assert entry["query"]["with_genres"] == "18"
    dates = [m.release_date for m in page.results]
    assert dates == sorted(dates) and all(
        date(2000, 1, 1) <= d <= date(2009, 12, 31) for d in dates
    )
    assert all(18 in m.genre_ids for m in page.results)


def test_trending_windows_differ(client: TmdbClient, catalogue: Catalogue) -> None:
    day = client.trending("day")
    week = client.trending("week", page=2)

    assert [m.id for m in day.results] == catalogue.trending_ids("day")[:20]
    assert [m.id for m in week.results] == catalogue.trending_ids("week")[20:40]
    assert catalogue.trending_ids("day")[:20] != catalogue.trending_ids("week")[:20]
