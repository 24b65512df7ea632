"""The demo catalogue comes from a real sync of the TMDb dev server."""

from __future__ import annotations

import json
import urllib.request

from movierec import demo
from movies.models import Genre, Movie


def test_demo_catalogue_is_synced_from_the_dev_server_once(db, tmdb_server, sync_catalogue):
    created = demo.demo_catalogue_seed(pages=3)

    assert created == 60
    assert set(Movie.objects.values_list("tmdb_id", flat=True)) == set(
        sync_catalogue.popular_ids()[:60]
    )
    assert Genre.objects.count() == 19
    first = str(demo.demo_ensure())
    assert first.startswith("demo data: user demo, ")
    assert "demo users with ratings" in first and "ndcg@10" in first
    assert str(demo.demo_ensure()) == "demo data: already in place"
    assert demo.demo_catalogue_seed(pages=3) == 0
    assert Movie.objects.count() == 60


def test_dev_server_subprocess_serves_tmdb():
    proc, url = demo.tmdb_devserver_start(movies=50, seed=3)
    try:
        with urllib.request.urlopen(f"{url}/movie/popular?page=1", timeout=5) as response:
            body = json.load(response)
        assert body["total_results"] == 50
    finally:
        proc.terminate()
        proc.wait(10)
