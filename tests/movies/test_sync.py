"""TMDb sync services against the dev server over HTTP, into the real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from movierec.locks import job_lock
from movies import services
from movies.models import Credit, Genre, Movie, SyncRun, TrendingEntry
from movies.sync import jobs, runs, upserts
from movies.tmdb import TmdbClient
from tests.factories import GenreFactory, MovieFactory
from tests.movies.sync_fixtures import CATALOGUE_SIZE, PAGES


def _assert_matches_catalogue(catalogue) -> None:
    stored = {m.tmdb_id: m for m in Movie.objects.prefetch_related("genres", "keywords")}
    assert set(stored) == set(catalogue.movies)
    for tmdb_id, movie in stored.items():
        detail = catalogue.detail(tmdb_id, ["credits", "keywords"])
        assert movie.title == detail["title"]
        assert movie.tagline == (detail["tagline"] or "")
        assert movie.vote_count == detail["vote_count"]
        assert sorted(g.tmdb_id for g in movie.genres.all()) == sorted(
            g["id"] for g in detail["genres"]
        )
        names = [k["name"] for k in detail["keywords"]["keywords"]]
        assert movie.keywords_text == " ".join(names)
        assert sorted(k.name for k in movie.keywords.all()) == sorted(set(names))
        assert len(movie.content_hash) == 64
        assert movie.last_synced_at is not None


def test_full_sync_creates_exactly_the_catalogue(db, tmdb_server, sync_catalogue):
    run = jobs.popular_sync(pages=PAGES)

    assert (run.status, run.created, run.updated, run.unchanged, run.failed) == (
        SyncRun.Status.SUCCEEDED,
        CATALOGUE_SIZE,
        0,
        0,
        0,
    )
    assert run.finished_at is not None
    assert run.chunks_total == 6 and sorted(run.chunks_done) == list(range(6))
    _assert_matches_catalogue(sync_catalogue)
    some = next(iter(sync_catalogue.movies))
    credits = sync_catalogue.credits_for(some)
    assert Credit.objects.filter(movie__tmdb_id=some).count() == len(credits["cast"]) + len(
        credits["crew"]
    )


def test_second_run_changes_nothing(db, tmdb_server):
    jobs.popular_sync(pages=PAGES)
    before = dict(Movie.objects.values_list("tmdb_id", "updated_at"))
    credits = Credit.objects.count()

    run = jobs.popular_sync(pages=PAGES)

    assert (run.created, run.updated, run.unchanged, run.failed) == (0, 0, CATALOGUE_SIZE, 0)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert dict(Movie.objects.values_list("tmdb_id", "updated_at")) == before
    assert Credit.objects.count() == credits


def test_touched_movie_is_picked_up_incrementally(db, tmdb_server, sync_catalogue):
    jobs.popular_sync(pages=PAGES)
    first = jobs.changes_sync()
    assert first.status == SyncRun.Status.SUCCEEDED and first.cursor is not None
    touched = sorted(sync_catalogue.movies)[3]
    tmdb_server.catalogue.touch(touched)

    run = jobs.changes_sync()

    assert run.params["since"] == first.cursor.date().isoformat()
    assert (run.created, run.updated, run.unchanged, run.failed) == (0, 1, 0, 0)
    movie = Movie.objects.get(tmdb_id=touched)
    assert movie.tagline.endswith("(revision 1)")
    assert movie.vote_count == sync_catalogue.movies[touched]["vote_count"]


def test_changes_ignore_movies_not_stored(db, tmdb_server, sync_catalogue):
    ids = sorted(sync_catalogue.movies)
    jobs.movie_sync(tmdb_id=ids[0])
    tmdb_server.catalogue.touch(ids[0])
    tmdb_server.catalogue.touch(ids[1])

    run = jobs.changes_sync(since=timezone.now().date())

    assert run.tmdb_ids == [ids[0]]
    assert not Movie.objects.filter(tmdb_id=ids[1]).exists()


def test_rate_limits_and_server_errors_are_retried(db, tmdb_server):
    tmdb_server.inject_faults(429, count=2, retry_after=1)
    tmdb_server.inject_faults(503, count=2)
    tmdb_server.inject_faults(500, count=1)

    run = jobs.popular_sync(pages=PAGES)

    assert (run.status, run.created, run.failed) == (SyncRun.Status.SUCCEEDED, CATALOGUE_SIZE, 0)
    by_status = tmdb_server.stats()["by_status"]
    assert (by_status["429"], by_status["503"], by_status["500"]) == (2, 2, 1)
    assert Movie.objects.count() == CATALOGUE_SIZE


def test_malformed_payloads_are_counted_and_skipped(db, tmdb_server, sync_catalogue):
    broken = sorted(sync_catalogue.movies)[10]
    tmdb_server.catalogue.malform(broken)

    run = jobs.popular_sync(pages=PAGES)

    assert run.status == SyncRun.Status.PARTIAL
    assert (run.created, run.failed) == (CATALOGUE_SIZE - 1, 1)
    assert "expected an integer" in run.error_samples[0]["error"]
    assert not Movie.objects.filter(tmdb_id=broken).exists()

    single = jobs.movie_sync(tmdb_id=broken)
    assert (single.status, single.failed) == (SyncRun.Status.FAILED, 1)
    assert single.error_samples[0]["tmdb_id"] == broken


def test_unknown_movie_is_a_failed_run(db, tmdb_server):
    run = jobs.movie_sync(tmdb_id=999_999_999)

    assert (run.status, run.failed, run.created) == (SyncRun.Status.FAILED, 1, 0)
    assert "could not be found" in run.error_samples[0]["error"]


def test_movie_sync_stores_one_movie_in_full(db, tmdb_server, sync_catalogue):
    run = jobs.movie_sync(tmdb_id=603)  # a real one: The Matrix

    assert (run.status, run.created) == (SyncRun.Status.SUCCEEDED, 1)
    movie = Movie.objects.get(tmdb_id=603)
    assert movie.title == "The Matrix"
    assert movie.credits.count() == len(sync_catalogue.credits_for(603)["cast"]) + len(
        sync_catalogue.credits_for(603)["crew"]
    )


def test_credits_and_keywords_not_received_are_kept(db, tmdb_server):
    jobs.movie_sync(tmdb_id=603)
    movie = Movie.objects.get(tmdb_id=603)
    credits, keywords = movie.credits.count(), movie.keywords_text
    assert credits and keywords
    with TmdbClient(tmdb_server.base_url) as client:
        bare = client.movie(603, append=())
    assert not bare.credits_included and not bare.keywords_included

    result = upserts.movies_upsert_from_tmdb(details=[bare])

    assert (result.updated, result.unchanged) == (1, 0)
    movie.refresh_from_db()
    assert (movie.credits.count(), movie.keywords_text) == (credits, keywords)


def test_genres_sync_counts_and_claims_genres_known_by_name(db, tmdb_server):
    GenreFactory(name="Drama", tmdb_id=None)

    run = jobs.genres_sync()

    assert (run.status, run.created, run.updated, run.unchanged) == (
        SyncRun.Status.SUCCEEDED,
        18,
        1,
        0,
    )
    assert Genre.objects.count() == 19
    assert Genre.objects.get(name="Drama").tmdb_id == 18
    again = jobs.genres_sync()
    assert (again.created, again.unchanged) == (0, 19)


def test_trending_sync_stores_ranks(db, tmdb_server, sync_catalogue):
    run = jobs.trending_sync(window="day", pages=2)

    expected = sync_catalogue.trending_ids("day")[:40]
    assert (run.kind, run.status, run.created) == ("trending_day", SyncRun.Status.SUCCEEDED, 40)
    entries = list(TrendingEntry.objects.filter(window="day").order_by("rank"))
    assert [e.movie.tmdb_id for e in entries] == expected
    assert [e.rank for e in entries] == list(range(1, 41))

    jobs.trending_sync(window="day", pages=1)
    assert TrendingEntry.objects.filter(window="day").count() == 20


def test_sync_bumps_the_trending_cache_version(transactional_db, tmdb_server):
    cache.delete(services.TRENDING_VERSION_KEY)
    assert services.trending_cache_version() == 1

    jobs.trending_sync(window="week", pages=1)

    assert services.trending_cache_version() == 2
    assert cache.get("trending:version") == 2


def test_stale_refresh_refetches_old_movies_first(db, tmdb_server, sync_catalogue):
    ids = sorted(sync_catalogue.movies)[:3]
    for tmdb_id in ids:
        jobs.movie_sync(tmdb_id=tmdb_id)
    Movie.objects.filter(tmdb_id=ids[0]).update(last_synced_at=timezone.now() - timedelta(days=9))
    never = MovieFactory(tmdb_id=sorted(sync_catalogue.movies)[5])

    run = jobs.stale_refresh(days=7)

    assert run.tmdb_ids == [never.tmdb_id, ids[0]]
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    never.refresh_from_db()
    assert never.content_hash and never.title == sync_catalogue.movies[never.tmdb_id]["title"]


def test_a_job_already_running_is_skipped(db, tmdb_server):
    with job_lock("sync:popular", timeout=30) as held:
        assert held
        run = jobs.popular_sync(pages=1)

    assert run.status == SyncRun.Status.SKIPPED
    assert Movie.objects.count() == 0
    assert jobs.popular_sync(pages=1).status == SyncRun.Status.SUCCEEDED


def test_a_redelivered_chunk_is_counted_once(db, tmdb_server, sync_catalogue):
    ids = sorted(sync_catalogue.movies)[:30]
    run = runs.sync_run_begin(kind="popular", params={"pages": 2})
    chunks = runs.sync_run_plan(run=run, tmdb_ids=ids)

    first = runs.sync_chunk_run(run_id=run.pk, index=0, tmdb_ids=chunks[0][1])
    again = runs.sync_chunk_run(run_id=run.pk, index=0, tmdb_ids=chunks[0][1])

    assert first.created == 30 and again is None
    run.refresh_from_db()
    assert (run.created, run.unchanged, run.status) == (30, 0, SyncRun.Status.SUCCEEDED)


def test_concurrent_syncs_do_not_duplicate(transactional_db, tmdb_server, sync_catalogue):
    """Two different jobs over overlapping movies, at once, in two threads."""
    runs: list[SyncRun] = []
    errors: list[BaseException] = []

    def job(fn) -> None:
        try:
            runs.append(fn())
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=job, args=(lambda: jobs.popular_sync(pages=PAGES),)),
        threading.Thread(target=job, args=(lambda: jobs.trending_sync(window="week"),)),
        threading.Thread(target=job, args=(lambda: jobs.popular_sync(pages=PAGES),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    statuses = sorted(r.status for r in runs)
    assert statuses.count(SyncRun.Status.SUCCEEDED) >= 2
    assert Movie.objects.count() == CATALOGUE_SIZE
    assert Movie.objects.values("tmdb_id").distinct().count() == CATALOGUE_SIZE
    dupes = Credit.objects.values("movie", "person", "kind", "character", "job").distinct().count()
    assert dupes == Credit.objects.count()
    _assert_matches_catalogue(sync_catalogue)


@pytest.mark.parametrize("pages", [0, 501])
def test_popular_pages_are_validated(db, tmdb_server, pages):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        jobs.popular_sync(pages=pages)


def test_client_from_settings_uses_the_configured_url_and_limit(db, tmdb_server, settings):
    client = services.tmdb_client_from_settings()
    assert client.base_url == tmdb_server.base_url
    assert client is services.tmdb_client_from_settings()
    settings.TMDB_RATE_LIMIT = 50
    limited = services.tmdb_client_from_settings()
    assert limited is not client
    assert (limited.rate_limiter.rate, limited.rate_limiter.burst) == (50.0, 50)
    assert limited.genres()[0].name == "Action"
    assert tmdb_server.request_log[-1]["auth"] == "bearer"


def test_discover_sync_stores_exactly_the_discovered_slice(db, tmdb_server, sync_catalogue):
    filters = {"with_genres": "28", "sort_by": "popularity.desc"}
    expected = sync_catalogue.discover_ids(filters)[:40]
    assert expected, "the catalogue has Action movies"

    run = jobs.discover_sync(pages=2, filters=filters)

    assert (run.kind, run.status, run.created) == (
        "discover",
        SyncRun.Status.SUCCEEDED,
        len(expected),
    )
    assert run.params["filters"] == filters and run.params["pages"] == 2
    assert set(Movie.objects.values_list("tmdb_id", flat=True)) == set(expected)
    assert all(
        28 in {g.tmdb_id for g in m.genres.all()} for m in Movie.objects.prefetch_related("genres")
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"filters": {"with_genre": "28"}}, "filters"), ({"pages": 501}, "pages")],
)
def test_discover_sync_refuses_unknown_filters_and_pages(db, tmdb_server, kwargs, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        jobs.discover_sync(**kwargs)
    assert list(info.value.error_dict) == [field]
    assert not SyncRun.objects.exists()
