""" "Not interested" through the API: the movie leaves the viewer's list, movies like it sink,
undo brings the same list back; nobody else's list nor any shared structure moves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.test import TestCase

from recs import serving
from recs.extract import interactions_extract
from tests.lists_helpers import gid
from tests.recs.conftest import rate

pytestmark = pytest.mark.django_db

LIST_SIZE = 40
RECS = f"{{ recommendations(first: {LIST_SIZE}) {{ movie {{ id }} source }} }}"
SIMILAR = "query($id: ID!) { movie(id: $id) { similar(first: 10) { id } } }"
TRENDING = "{ trending(first: 20) { id } }"
MARK = "mutation($id: ID!) { markNotInterested(movieId: $id) { ok } }"
UNDO = "mutation($id: ID!) { undoNotInterested(movieId: $id) { ok } }"


def _ids(client: Any) -> list[str]:
    recs = client.data(RECS)["recommendations"]
    return [rec["movie"]["id"] for rec in recs]


def _send(client: Any, mutation: str, movie_id: str) -> None:
    """A mutation whose on-commit hooks run, as they do outside a test transaction."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert list(client.data(mutation, {"id": movie_id}).values()) == [{"ok": True}]


def _position(ids: list[str], movie_id: str) -> int:
    """Place in the list; a movie pushed off the list counts as just past its end."""
    return ids.index(movie_id) if movie_id in ids else len(ids)


def test_dismissed_movie_leaves_the_list_similar_movies_sink_and_undo_restores_it(
    planted: Any, active_model: Any, user: Any, user_api_client: Any
) -> None:
    # Two tastes, so the list mixes Crime and Comedy and has room to reorder.
    rate(user, planted.movies["Crime"][5:10] + planted.movies["Comedy"][5:10])
    before = _ids(user_api_client)
    assert _ids(user_api_client) == before  # the second read is the cached one
    x = before[0]
    similar = [m["id"] for m in user_api_client.data(SIMILAR, {"id": x})["movie"]["similar"]]
    similar = [movie_id for movie_id in similar if movie_id in before]
    assert len(similar) >= 5
    generation = serving.user_generation(user.pk)

    _send(user_api_client, MARK, x)
    _send(user_api_client, MARK, x)  # idempotent
    assert serving.user_generation(user.pk) != generation  # the cached list is dropped
    after = _ids(user_api_client)
    assert x not in after and len(after) == LIST_SIZE
    # Positions in a list without X: X's exit alone moves the rest up by one.
    rest = [movie_id for movie_id in before if movie_id != x]
    moved = [_position(after, m) - _position(rest, m) for m in similar]
    assert sum(moved) > 0 and sum(d > 0 for d in moved) > sum(d < 0 for d in moved), moved
    # Unlike plain hiding, the order changes beyond X.
    assert after[: LIST_SIZE - 1] != rest

    _send(user_api_client, UNDO, x)
    _send(user_api_client, UNDO, x)  # undoing again is fine
    assert _ids(user_api_client) == before


def test_a_dismissal_changes_nobody_elses_list_nor_shared_structures(
    planted: Any,
    active_model: Any,
    user: Any,
    other_user: Any,
    user_api_client: Any,
    other_api_client: Any,
) -> None:
    rate(user, planted.movies["Crime"][5:12])
    rate(other_user, planted.movies["Crime"][8:15])
    theirs = _ids(other_api_client)
    x = _ids(user_api_client)[0]
    assert x in theirs  # the same movie is on the other user's list
    similar = user_api_client.data(SIMILAR, {"id": x})
    trending = user_api_client.data(TRENDING)
    extracted = interactions_extract().interactions

    _send(user_api_client, MARK, x)
    _send(user_api_client, MARK, _ids(user_api_client)[0])

    assert x not in _ids(user_api_client)
    assert _ids(other_api_client) == theirs
    assert user_api_client.data(SIMILAR, {"id": x}) == similar
    assert other_api_client.data(TRENDING) == trending
    now = interactions_extract().interactions  # what the next training would read
    for name in ("user_ids", "item_ids", "scores", "kinds"):
        np.testing.assert_array_equal(getattr(now, name), getattr(extracted, name))


def test_dismissals_alone_do_not_make_a_personal_list(
    planted: Any, active_model: Any, user: Any, user_api_client: Any
) -> None:
    cold = user_api_client.data(RECS)["recommendations"]
    assert {rec["source"] for rec in cold} <= {"TRENDING", "POPULAR"}
    for movie in planted.movies["Drama"][:6]:  # more than RECS_MIN_FEEDBACK
        _send(user_api_client, MARK, gid(movie))
    after = user_api_client.data(RECS)["recommendations"]
    assert {rec["source"] for rec in after} <= {"TRENDING", "POPULAR"}
    dismissed = {gid(m) for m in planted.movies["Drama"][:6]}
    assert not dismissed & {rec["movie"]["id"] for rec in after}
