"""``sync_tmdb``, in process against the dev server, and with ``--async``."""

from __future__ import annotations

import io
import re
import time

import pytest
from django.core.management import CommandError, call_command

from movies.models import Genre, Movie, SyncRun, TrendingEntry
from tests.movies.sync_fixtures import CATALOGUE_SIZE, PAGES


def _call(*args: str) -> str:
    out = io.StringIO()
    call_command("sync_tmdb", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_runs_jobs_in_process_with_a_summary(db, tmdb_server):
    out = _call("--genres", "--popular", "--pages", "2", "--movie", "603", "238")

    assert "genres: succeeded, 19 created" in out
    assert "popular: succeeded, 40 created, 0 updated, 0 unchanged, 0 failed" in out
    summary = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"sync_tmdb: 4 jobs \(0 skipped\), \d+ created, 0 updated, \d+ unchanged, 0 failed, "
        r"\d+ requests in \d+\.\ds",
        summary,
    ), summary
    assert Genre.objects.count() == 19
    assert Movie.objects.filter(tmdb_id__in=[603, 238]).count() == 2
    assert SyncRun.objects.filter(kind="movie").count() == 2


def test_discover_takes_filter_pairs(db, tmdb_server, sync_catalogue):
    out = _call("--discover", "with_genres=28", "--pages", "1")

    expected = sync_catalogue.discover_ids({"with_genres": "28"})[:20]
    assert f"discover: succeeded, {len(expected)} created" in out
    assert set(Movie.objects.values_list("tmdb_id", flat=True)) == set(expected)
    with pytest.raises(CommandError, match="Unknown discover filter"):
        _call("--discover", "with_genre=28")
    with pytest.raises(CommandError, match="FILTER=VALUE"):
        _call("--discover", "with_genres")


def test_all_runs_every_default_job(db, tmdb_server, settings):
    settings.TMDB_POPULAR_PAGES = PAGES
    settings.TMDB_TRENDING_PAGES = 1

    out = _call("--all")

    kinds = set(SyncRun.objects.values_list("kind", flat=True))
    assert kinds == {"genres", "trending_day", "trending_week", "popular", "changes"}
    assert Movie.objects.count() == CATALOGUE_SIZE
    assert TrendingEntry.objects.count() == 40
    assert "sync_tmdb: 5 jobs (0 skipped)" in out


def test_async_enqueues(transactional_db, tmdb_server):
    # Committed as the command commits outside tests, so it can tell queued from waiting.
    out = _call("--changes", "--movie", "603", "--async")

    assert re.search(r"enqueued changes: task [0-9a-f-]{36}", out)
    assert re.search(r"enqueued movie 603: task [0-9a-f-]{36}", out)
    assert out.strip().endswith("sync_tmdb: enqueued 2 jobs on the sync queue")
    assert set(SyncRun.objects.values_list("kind", flat=True)) == {"changes", "movie"}


def test_dry_run_lists_jobs(db, tmdb_server):
    out = _call("--trending", "--stale", "7", "--dry-run")
    assert out.strip().endswith("trending_day, trending_week, stale")
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("args", [(), ("--popular", "--pages", "0"), ("--movie", "-3")])
def test_bad_arguments_are_command_errors(db, args):
    with pytest.raises(CommandError):
        call_command("sync_tmdb", *args, stdout=io.StringIO())


def test_repeated_movie_flags_accumulate(db, tmdb_server):
    out = _call("--movie", "603", "--movie", "238", "680")

    assert Movie.objects.filter(tmdb_id__in=[603, 238, 680]).count() == 3
    assert "sync_tmdb: 3 jobs" in out


def test_repeated_discover_flags_accumulate_their_filters(db, tmdb_server, sync_catalogue):
    out = _call(
        "--discover", "with_genres=28", "--discover", "sort_by=vote_count.desc", "--pages", "1"
    )

    expected = sync_catalogue.discover_ids({"with_genres": "28", "sort_by": "vote_count.desc"})
    assert "discover: succeeded" in out
    assert set(Movie.objects.values_list("tmdb_id", flat=True)) == set(expected[:20])


def test_without_credentials_it_stops_at_once_and_shows_the_dev_server(db, settings):
    settings.TMDB_API_URL = "https://api.themoviedb.org/3"
    settings.TMDB_READ_TOKEN = settings.TMDB_API_KEY = ""

    for args in (("--genres",), ("--movie", "550", "--async")):
        started = time.monotonic()
        with pytest.raises(CommandError) as raised:
            _call(*args)
        assert time.monotonic() - started < 1  # no network attempt, no retries
        message = str(raised.value)
        assert message.startswith("No TMDb credentials configured")
        assert "python -m tools.tmdb_devserver --port 8765" in message
        assert "TMDB_API_URL=http://127.0.0.1:8765/3" in message
    assert not SyncRun.objects.exists()


def test_the_dev_server_needs_no_credentials(db, tmdb_server, settings):
    settings.TMDB_READ_TOKEN = settings.TMDB_API_KEY = ""
    assert "genres: succeeded" in _call("--genres")
