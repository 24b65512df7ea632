"""Private items never shape what other people see (issue 9's exact scenario).

Shared structures (item factors, EASE weights, ``similar``) learn only from ratings and
PUBLIC/UNLISTED playlists; a PRIVATE playlist, favorites and the watchlist shape only their
owner's own recommendations, at serving time.
"""

from __future__ import annotations

from decimal import Decimal

from django.test import TestCase
from graphql_relay import to_global_id

from playlists.models import Playlist, PlaylistItem
from ratings.models import Rating
from recs import selectors, services, serving
from tests.factories import MovieFactory, UserFactory

SIMILAR = "query ($id: ID!) { movie(id: $id) { title similar(first: 10) { title } } }"


def _listed_by_one_user(visibility: str, x_pk: int, n: int = 3):
    """Three fresh movies that sit only in one user's playlist, next to movie X they rated."""
    owner = UserFactory()
    Rating.objects.create(user=owner, movie_id=x_pk, score=Decimal("5.0"))
    secret = [MovieFactory(title=f"Secret {visibility} {i}") for i in range(n)]
    playlist = Playlist.objects.create(owner=owner, title="mine", visibility=visibility)
    PlaylistItem.objects.bulk_create(
        PlaylistItem(playlist=playlist, movie=m, position=i) for i, m in enumerate(secret)
    )
    return owner, secret


def test_private_playlist_movies_never_reach_an_anonymous_similar_list(planted, api_client):
    x = int(planted.movie_pks[0])
    _, secret = _listed_by_one_user("PRIVATE", x)
    services.recs_model_train()
    serving.registry.reset()

    movie = api_client.data(SIMILAR, {"id": to_global_id("Movie", x)})["movie"]

    titles = {m["title"] for m in movie["similar"]}
    assert len(titles) == 10
    assert not titles & {m.title for m in secret}
    model = serving.active_model().model
    assert not any(m.pk in model.item_index for m in secret)  # not even in the model


def test_public_playlists_do_feed_the_shared_model(planted):
    x = int(planted.movie_pks[0])
    _, listed = _listed_by_one_user("PUBLIC", x)
    services.recs_model_train()
    serving.registry.reset()
    model = serving.active_model().model
    assert all(m.pk in model.item_index for m in listed)


def test_private_signals_shape_only_their_owners_list_at_serving_time(planted, settings):
    settings.RECS_MIN_FEEDBACK = 3
    services.recs_model_train()
    # The owner only has a private playlist and favorites from one taste cluster.
    cluster = planted.data.item_clusters
    liked = [int(planted.movie_pks[i]) for i in range(len(cluster)) if cluster[i] == 0][:6]
    owner, stranger = UserFactory(), UserFactory()
    playlist = Playlist.objects.create(owner=owner, title="private", visibility="PRIVATE")
    with TestCase.captureOnCommitCallbacks(execute=True):
        PlaylistItem.objects.bulk_create(
            PlaylistItem(playlist=playlist, movie_id=m, position=i) for i, m in enumerate(liked[:3])
        )
        for m in liked[3:]:
            owner.favorites.create(movie_id=m)

    mine = selectors.recommendations_for_user(owner, n=10)
    assert [r.source for r in mine] == [selectors.RecSource.PERSONALIZED] * 10
    index = {int(pk): i for i, pk in enumerate(planted.movie_pks)}
    clusters = [cluster[index[r.movie.pk]] for r in mine]
    assert clusters.count(0) >= 7
    # A stranger without feedback sees the public fallback, untouched by the owner's lists.
    theirs = selectors.recommendations_for_user(stranger, n=10)
    assert all(r.source != selectors.RecSource.PERSONALIZED for r in theirs)
