"""Demo mode: the dev server serves the posters the API's URLs point at."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from movierec.demo import devserver_image_base
from movies import services
from movies.sync import jobs
from tools.tmdb_devserver.posters import poster_svg


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read()


def test_a_synced_movies_poster_url_loads_a_pinned_image(db, tmdb_server, settings, api_client):
    settings.TMDB_IMAGE_BASE_URL = devserver_image_base(tmdb_server.base_url)
    movie_id = next(m for m, d in tmdb_server.catalogue.movies.items() if d["poster_path"])
    jobs.movie_sync(tmdb_id=movie_id, client=services.tmdb_client_from_settings())

    data = api_client.data(
        "query($id: Int) { movie(tmdbId: $id) { title posterUrl backdropUrl } }",
        {"id": movie_id},
    )["movie"]

    assert data["posterUrl"].startswith(tmdb_server.root_url + "/t/p/")
    status, content_type, body = _get(data["posterUrl"])
    assert (status, content_type) == (200, "image/svg+xml")
    assert body.startswith(b"<svg ") and data["title"][:10].encode() in body
    assert _get(data["posterUrl"])[2] == body  # pinned: the same bytes every time
    if data["backdropUrl"]:
        assert _get(data["backdropUrl"])[:2] == (200, "image/svg+xml")


def test_unknown_sizes_and_paths_are_not_found(tmdb_server):
    with pytest.raises(urllib.error.HTTPError) as raised:
        _get(f"{tmdb_server.root_url}/t/p/w500/../../etc/passwd.jpg")
    assert raised.value.code == 404
    assert poster_svg("/a.jpg", "x12", None) is None
    assert poster_svg("/a.jpg", "w92", None) != poster_svg("/b.jpg", "w92", None)
