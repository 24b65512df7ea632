"""What playlists hands recommenders: shared playlists' rows as COPY, the owner's own items
(PRIVATE too) as a queryset, and the bulk seeding service."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from playlists import selectors, services
from playlists.models import Playlist, PlaylistItem
from recs.extract import parse_binary_copy
from tests.factories import MovieFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_bulk_created_playlists_feed_shared_rows_and_owner_rows():
    alice, bob = UserFactory(), UserFactory()
    a, b = MovieFactory(), MovieFactory()
    made = services.playlists_bulk_create(
        movies_by_owner={alice.pk: [a.pk, b.pk]}, title="Seed", visibility="PUBLIC"
    )
    assert made == 1
    assert list(
        PlaylistItem.objects.filter(playlist__owner=alice)
        .order_by("position")
        .values_list("movie_id", "position")
    ) == [(a.pk, 0), (b.pk, 1)]
    services.playlists_bulk_create(
        movies_by_owner={bob.pk: [a.pk]}, title="Mine", visibility="PRIVATE"
    )

    decoded = parse_binary_copy(
        b"".join(bytes(block) for block in selectors.shared_playlist_rows_copy()),
        selectors.SHARED_PLAYLIST_COPY_COLUMNS,
    )
    # bob's PRIVATE playlist never reaches the shared rows ...
    assert sorted(zip(decoded["user"].tolist(), decoded["movie"].tolist(), strict=True)) == [
        (alice.pk, a.pk),
        (alice.pk, b.pk),
    ]
    # ... but is part of bob's own rows
    own = list(selectors.playlist_item_rows_for_owner(user_id=bob.pk, kind=3))
    assert [(movie, score, kind) for movie, score, kind, _ in own] == [(a.pk, 0.0, 3)]

    added = PlaylistItem.objects.filter(playlist__owner=alice).earliest("added_at").added_at
    assert selectors.shared_playlist_items_added_since(added - timedelta(seconds=1)) == 2


def test_bulk_create_refuses_an_unknown_visibility():
    with pytest.raises(ValidationError):
        services.playlists_bulk_create(
            movies_by_owner={UserFactory().pk: []}, title="x", visibility="SECRET"
        )
    assert not Playlist.objects.exists()
