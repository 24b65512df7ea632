"""Playlist reads: the title search is served by the trigram index."""

import pytest
from django.db import connection

from playlists import selectors
from playlists.models import Playlist
from tests.factories import PlaylistFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_title_search_predicate_is_served_by_the_trigram_index():
    owner = UserFactory()
    Playlist.objects.bulk_create(
        Playlist(owner=owner, title=f"Weekend list {i}", visibility=Playlist.Visibility.PUBLIC)
        for i in range(300)
    )
    PlaylistFactory(title="Best of NOIR")
    with connection.cursor() as cursor:
        # On a test-sized table the planner prefers the visibility btree; take it away for
        # this transaction (DDL rolls back with the test) to see what serves the search.
        cursor.execute("DROP INDEX playlist_visible_recent_idx")
        cursor.execute("ANALYZE playlists_playlist")
        cursor.execute("SET LOCAL enable_seqscan = off")
    qs = selectors.playlist_list_public(search="Noir")
    assert "Bitmap Index Scan on playlist_title_trgm" in qs.explain()
    assert [p.title for p in qs] == ["Best of NOIR"]
