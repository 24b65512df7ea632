"""Playlists through the real /graphql/ endpoint: mutations, visibility, lists, query counts."""

import datetime as dt

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from playlists.models import Playlist, PlaylistItem
from tests.factories import MovieFactory, PlaylistFactory, PlaylistItemFactory, UserFactory
from tests.lists_helpers import count_queries, gid

pytestmark = pytest.mark.django_db

V = Playlist.Visibility
FIELDS = """id title description visibility createdAt updatedAt itemCount owner { username }
            items { totalCount edges { node { position note addedAt movie { id title } } } }"""
CREATE = f"""
mutation($title: String!, $description: String, $visibility: Visibility) {{
  createPlaylist(title: $title, description: $description, visibility: $visibility) {{ {FIELDS} }}
}}"""
UPDATE = """
mutation($id: ID!, $title: String, $description: String, $visibility: Visibility) {
  updatePlaylist(id: $id, title: $title, description: $description, visibility: $visibility) {
    title description visibility
  }
}"""
DELETE = "mutation($id: ID!) { deletePlaylist(id: $id) { ok } }"
ADD = """
mutation($playlistId: ID!, $movieId: ID!, $position: Int, $note: String) {
  addToPlaylist(playlistId: $playlistId, movieId: $movieId, position: $position, note: $note) {
    itemCount items { edges { node { position note movie { title } } } }
  }
}"""
REMOVE = """
mutation($playlistId: ID!, $movieId: ID!) {
  removeFromPlaylist(playlistId: $playlistId, movieId: $movieId) {
    itemCount items { edges { node { position movie { title } } } }
  }
}"""
MOVE = """
mutation($playlistId: ID!, $movieId: ID!, $position: Int!) {
  movePlaylistItem(playlistId: $playlistId, movieId: $movieId, position: $position) {
    items { edges { node { position movie { title } } } }
  }
}"""
GET = f"query($id: ID!) {{ playlist(id: $id) {{ {FIELDS} }} }}"


def _titles(playlist_data):
    return [e["node"]["movie"]["title"] for e in playlist_data["items"]["edges"]]


def test_create_defaults_to_private_and_returns_the_playlist(user, user_api_client):
    data = user_api_client.data(CREATE, {"title": "  Noir  ", "description": "Dark."})
    created = data["createPlaylist"]
    assert created["title"] == "Noir"
    assert created["description"] == "Dark."
    assert created["visibility"] == "PRIVATE"
    assert created["owner"] == {"username": user.username}
    assert created["itemCount"] == 0
    assert created["items"] == {"totalCount": 0, "edges": []}
    assert Playlist.objects.get().owner == user


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "description": "x" * 2001}, "description"),
    ],
)
def test_create_with_bad_input_is_bad_user_input(user_api_client, variables, field):
    error = user_api_client.error(CREATE, variables)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert Playlist.objects.count() == 0


def test_create_with_unknown_visibility_is_bad_user_input(user_api_client):
    error = user_api_client.error(CREATE, {"title": "t", "visibility": "SECRET"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_update_changes_only_what_is_given(user, user_api_client):
    playlist = PlaylistFactory(owner=user, title="Old", description="Keep", visibility=V.PRIVATE)
    data = user_api_client.data(UPDATE, {"id": gid(playlist), "title": "New"})
    assert data["updatePlaylist"] == {
        "title": "New",
        "description": "Keep",
        "visibility": "PRIVATE",
    }
    data = user_api_client.data(UPDATE, {"id": gid(playlist), "visibility": "UNLISTED"})
    assert data["updatePlaylist"]["visibility"] == "UNLISTED"
    assert Playlist.objects.get().visibility == V.UNLISTED


def test_delete_removes_playlist_and_items(user, user_api_client):
    playlist = PlaylistFactory(owner=user)
    PlaylistItemFactory(playlist=playlist, position=0)
    assert user_api_client.data(DELETE, {"id": gid(playlist)}) == {"deletePlaylist": {"ok": True}}
    assert Playlist.objects.count() == PlaylistItem.objects.count() == 0
    assert user_api_client.error(DELETE, {"id": gid(playlist)})["extensions"] == {
        "code": "NOT_FOUND"
    }


def test_add_remove_move_through_the_api(user, user_api_client):
    playlist = PlaylistFactory(owner=user)
    a, b, c = (MovieFactory(title=t) for t in "abc")
    pid = gid(playlist)
    user_api_client.data(ADD, {"playlistId": pid, "movieId": gid(a)})
    user_api_client.data(ADD, {"playlistId": pid, "movieId": gid(b), "position": 0})
    data = user_api_client.data(
        ADD, {"playlistId": pid, "movieId": gid(c), "position": 7, "note": " last "}
    )["addToPlaylist"]
    assert data["itemCount"] == 3
    assert _titles(data) == ["b", "a", "c"]
    assert [e["node"]["position"] for e in data["items"]["edges"]] == [0, 1, 2]
    assert data["items"]["edges"][2]["node"]["note"] == "last"
    moved = user_api_client.data(MOVE, {"playlistId": pid, "movieId": gid(c), "position": 0})
    assert _titles(moved["movePlaylistItem"]) == ["c", "b", "a"]
    removed = user_api_client.data(REMOVE, {"playlistId": pid, "movieId": gid(b)})
    assert _titles(removed["removeFromPlaylist"]) == ["c", "a"]
    assert removed["removeFromPlaylist"]["itemCount"] == 2
    error = user_api_client.error(REMOVE, {"playlistId": pid, "movieId": gid(b)})
    assert error["extensions"] == {"code": "NOT_FOUND"}


def test_item_input_errors_name_their_argument(user, user_api_client):
    playlist = PlaylistFactory(owner=user)
    movie = MovieFactory()
    pid = gid(playlist)
    user_api_client.data(ADD, {"playlistId": pid, "movieId": gid(movie)})
    cases = [
        (ADD, {"playlistId": pid, "movieId": gid(movie)}, "movieId"),
        (ADD, {"playlistId": pid, "movieId": gid(MovieFactory()), "position": -1}, "position"),
        (MOVE, {"playlistId": pid, "movieId": gid(movie), "position": -2}, "position"),
        (ADD, {"playlistId": "nope", "movieId": gid(movie)}, "playlistId"),
        (ADD, {"playlistId": gid(movie), "movieId": gid(movie)}, "playlistId"),
        (ADD, {"playlistId": pid, "movieId": pid}, "movieId"),
        (ADD, {"playlistId": pid, "movieId": "garbage"}, "movieId"),
        (UPDATE, {"id": "garbage", "title": "x"}, "id"),
        (GET, {"id": gid(movie)}, "id"),
    ]
    for query, variables, field in cases:
        error = user_api_client.error(query, variables)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, variables
    assert PlaylistItem.objects.count() == 1
    error = user_api_client.error(ADD, {"playlistId": pid, "movieId": to_global_id("Movie", 99999)})
    assert error["extensions"] == {"code": "NOT_FOUND"}


@pytest.mark.parametrize("query", [CREATE, UPDATE, DELETE, ADD, REMOVE, MOVE])
def test_mutations_require_authentication(api_client, query):
    playlist = PlaylistFactory(visibility=V.PUBLIC)
    variables = {
        "title": "t",
        "id": gid(playlist),
        "playlistId": gid(playlist),
        "movieId": gid(MovieFactory()),
        "position": 0,
    }
    assert api_client.error(query, variables)["extensions"] == {"code": "UNAUTHENTICATED"}


VIEWERS = ["anonymous", "other", "owner", "staff"]


def _client_for_viewer(kind, owner, client_for):
    return client_for(
        {
            "anonymous": None,
            "other": UserFactory(),
            "owner": owner,
            "staff": UserFactory(is_staff=True),
        }[kind]
    )


@pytest.mark.parametrize("visibility", [V.PUBLIC, V.UNLISTED, V.PRIVATE])
@pytest.mark.parametrize("viewer", VIEWERS)
def test_read_by_id_matrix(client_for, viewer, visibility):
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner, visibility=visibility, title="T")
    client = _client_for_viewer(viewer, owner, client_for)
    data = client.data(GET, {"id": gid(playlist)})["playlist"]
    readable = visibility != V.PRIVATE or viewer == "owner"
    assert (data["title"] if data else None) == ("T" if readable else None)
    unknown = client.data(GET, {"id": to_global_id("Playlist", playlist.pk + 1000)})
    assert unknown == {"playlist": None}


@pytest.mark.parametrize("visibility", [V.PUBLIC, V.UNLISTED, V.PRIVATE])
@pytest.mark.parametrize("viewer", ["other", "staff"])
@pytest.mark.parametrize("query", [UPDATE, DELETE, ADD, REMOVE, MOVE])
def test_edit_matrix_for_non_owners(client_for, viewer, visibility, query):
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner, visibility=visibility, title="T")
    movie = MovieFactory()
    PlaylistItemFactory(playlist=playlist, movie=movie, position=0)
    client = _client_for_viewer(viewer, owner, client_for)
    variables = {
        "id": gid(playlist),
        "playlistId": gid(playlist),
        "movieId": gid(movie),
        "title": "Hijacked",
        "position": 0,
    }
    error = client.error(query, variables)
    if visibility == V.PRIVATE:
        # Exactly what an unknown ID answers: existence does not leak.
        unknown = dict(variables, id=to_global_id("Playlist", 999999))
        unknown["playlistId"] = unknown["id"]
        assert error == client.error(query, unknown)
        assert error["extensions"] == {"code": "NOT_FOUND"}
    else:
        assert error["extensions"] == {"code": "FORBIDDEN"}
    assert Playlist.objects.get().title == "T"
    assert PlaylistItem.objects.count() == 1


@pytest.mark.parametrize("visibility", [V.PUBLIC, V.UNLISTED, V.PRIVATE])
def test_owner_may_edit_every_visibility(user, user_api_client, visibility):
    playlist = PlaylistFactory(owner=user, visibility=visibility)
    data = user_api_client.data(UPDATE, {"id": gid(playlist), "title": "Renamed"})
    assert data["updatePlaylist"]["title"] == "Renamed"


PUBLIC = """
query($first: Int, $after: String, $search: String) {
  publicPlaylists(first: $first, after: $after, search: $search) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { title itemCount owner { username }
      items(first: 3) {
        totalCount pageInfo { hasNextPage } edges { node { position movie { title } } }
      }
    } }
  }
}"""


def _aged(playlist, minutes):
    Playlist.objects.filter(pk=playlist.pk).update(
        updated_at=timezone.now() - dt.timedelta(minutes=minutes)
    )


def test_public_playlists_lists_only_public_newest_updated_first_and_paginates(api_client):
    for i, visibility in enumerate([V.PUBLIC, V.UNLISTED, V.PUBLIC, V.PRIVATE, V.PUBLIC]):
        _aged(PlaylistFactory(title=f"p{i}", visibility=visibility), minutes=10 - i)
    page = api_client.data(PUBLIC, {"first": 2})["publicPlaylists"]
    assert page["totalCount"] == 3
    assert [e["node"]["title"] for e in page["edges"]] == ["p4", "p2"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = api_client.data(PUBLIC, {"first": 2, "after": page["pageInfo"]["endCursor"]})
    assert [e["node"]["title"] for e in rest["publicPlaylists"]["edges"]] == ["p0"]
    assert rest["publicPlaylists"]["pageInfo"]["hasNextPage"] is False


def test_public_playlists_search_is_case_insensitive_on_title(api_client):
    PlaylistFactory(title="Best of NOIR")
    PlaylistFactory(title="noir nights")
    PlaylistFactory(title="Comedy")
    PlaylistFactory(title="Noir, privately", visibility=V.PRIVATE)
    PlaylistFactory(title="100% noir_")
    data = api_client.data(PUBLIC, {"search": "Noir"})["publicPlaylists"]
    assert sorted(e["node"]["title"] for e in data["edges"]) == [
        "100% noir_",
        "Best of NOIR",
        "noir nights",
    ]
    literal = api_client.data(PUBLIC, {"search": "% noir_"})["publicPlaylists"]
    assert [e["node"]["title"] for e in literal["edges"]] == ["100% noir_"]


def test_nested_items_paginate_per_playlist(api_client):
    playlist = PlaylistFactory(title="long")
    for i in range(5):
        PlaylistItemFactory(playlist=playlist, movie=MovieFactory(title=f"m{i}"), position=i)
    PlaylistFactory(title="empty")
    query = """query($id: ID!, $after: String) { playlist(id: $id) {
      items(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
        edges { node { position movie { title } } } } } }"""
    seen, after = [], None
    while True:
        items = api_client.data(query, {"id": gid(playlist), "after": after})["playlist"]["items"]
        assert items["totalCount"] == 5
        seen += [e["node"]["movie"]["title"] for e in items["edges"]]
        if not items["pageInfo"]["hasNextPage"]:
            break
        after = items["pageInfo"]["endCursor"]
    assert seen == [f"m{i}" for i in range(5)]
    data = api_client.data(PUBLIC)["publicPlaylists"]["edges"]
    by_title = {e["node"]["title"]: e["node"] for e in data}
    assert by_title["empty"]["items"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False},
        "edges": [],
    }
    assert by_title["long"]["items"]["pageInfo"]["hasNextPage"] is True
    assert by_title["long"]["itemCount"] == 5
    bad = api_client.error(query, {"id": gid(playlist), "after": "broken"})
    assert bad["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


def _playlists_with_items(n, **kwargs):
    for _ in range(n):
        playlist = PlaylistFactory(**kwargs)
        for position in range(4):
            PlaylistItemFactory(playlist=playlist, position=position)


@pytest.mark.parametrize("n", [5, 50])
def test_public_playlists_query_count_does_not_grow(api_client, n):
    _playlists_with_items(n)
    queries, data = count_queries(lambda: api_client.data(PUBLIC, {"first": 100}))
    edges = data["publicPlaylists"]["edges"]
    assert len(edges) == n
    assert all(len(e["node"]["items"]["edges"]) == 3 for e in edges)
    assert all(e["node"]["items"]["totalCount"] == 4 for e in edges)
    # page, count, owners, item counts, item pages, movies
    assert queries == 6


MINE = """query { myPlaylists(first: 100) { totalCount edges { node { title visibility itemCount
  owner { username } items { edges { node { movie { title } } } } } } } }"""


def test_my_playlists_has_every_visibility_and_only_mine(user, user_api_client, api_client):
    for visibility in V:
        PlaylistFactory(owner=user, visibility=visibility)
    PlaylistFactory()
    data = user_api_client.data(MINE)["myPlaylists"]
    assert data["totalCount"] == 3
    assert sorted(e["node"]["visibility"] for e in data["edges"]) == [
        "PRIVATE",
        "PUBLIC",
        "UNLISTED",
    ]
    assert api_client.error(MINE)["extensions"] == {"code": "UNAUTHENTICATED"}


@pytest.mark.parametrize("n", [5, 50])
def test_my_playlists_query_count_does_not_grow(user, user_api_client, n):
    _playlists_with_items(n, owner=user, visibility=V.PRIVATE)
    queries, data = count_queries(lambda: user_api_client.data(MINE))
    assert len(data["myPlaylists"]["edges"]) == n
    # auth, page, count, owners, item counts, item pages, movies
    assert queries == 7


PROFILE = """query($username: String!) { user(username: $username) { username
  playlists(first: 100) { totalCount edges { node { title itemCount owner { username }
    items { edges { node { movie { title } } } } } } } } }"""


@pytest.mark.parametrize("viewer", VIEWERS)
def test_profile_playlists_are_public_ones_for_others_and_all_for_the_owner(client_for, viewer):
    owner = UserFactory(username="Cinephile")
    for visibility in V:
        PlaylistFactory(owner=owner, visibility=visibility, title=visibility.value)
    client = _client_for_viewer(viewer, owner, client_for)
    data = client.data(PROFILE, {"username": "cinePHILE"})["user"]
    assert data["username"] == "Cinephile"
    titles = sorted(e["node"]["title"] for e in data["playlists"]["edges"])
    assert titles == (["PRIVATE", "PUBLIC", "UNLISTED"] if viewer == "owner" else ["PUBLIC"])
    assert data["playlists"]["totalCount"] == len(titles)


def test_unknown_or_inactive_user_is_null(api_client):
    UserFactory(username="gone", is_active=False)
    assert api_client.data(PROFILE, {"username": "nobody"}) == {"user": None}
    assert api_client.data(PROFILE, {"username": "gone"}) == {"user": None}


@pytest.mark.parametrize("n", [5, 50])
def test_profile_playlists_query_count_does_not_grow(api_client, n):
    owner = UserFactory(username="curator")
    _playlists_with_items(n, owner=owner)
    queries, data = count_queries(lambda: api_client.data(PROFILE, {"username": "curator"}))
    assert len(data["user"]["playlists"]["edges"]) == n
    # user, page, count, owners, item counts, item pages, movies
    assert queries == 7


@pytest.mark.parametrize("n", [5, 50])
def test_playlist_items_query_count_does_not_grow(api_client, n):
    playlist = PlaylistFactory()
    for position in range(n):
        PlaylistItemFactory(playlist=playlist, position=position)
    query = """query($id: ID!) { playlist(id: $id) { itemCount
      items(first: 100) { totalCount edges { node { position movie { title } } } } } }"""
    queries, data = count_queries(lambda: api_client.data(query, {"id": gid(playlist)}))
    assert [e["node"]["position"] for e in data["playlist"]["items"]["edges"]] == list(range(n))
    # playlist, item counts, item page, movies
    assert queries == 4


def test_contains_movie(user, user_api_client):
    playlist = PlaylistFactory(owner=user)
    inside, outside = MovieFactory(), MovieFactory()
    PlaylistItemFactory(playlist=playlist, movie=inside, position=0)
    query = """query($id: ID!, $a: ID!, $b: ID!) { playlist(id: $id) {
      a: containsMovie(movieId: $a) b: containsMovie(movieId: $b) } }"""
    data = user_api_client.data(query, {"id": gid(playlist), "a": gid(inside), "b": gid(outside)})
    assert data == {"playlist": {"a": True, "b": False}}
