"""Every name the client contract promises to clients exists in the schema, with its arguments.

Web and mobile clients are built against these names; this test fails before they would.
"""

import pytest
from graphql import GraphQLNonNull, get_named_type

from movierec.schema import schema

GRAPHQL = schema.graphql_schema

QUERIES = {
    "me": [],
    "user": ["username"],
    "movie": ["id", "tmdbId"],
    "movies": ["first", "after", "search", "genres", "yearFrom", "yearTo", "orderBy"],
    "genres": [],
    "trending": ["window", "first"],
    "recommendations": ["first", "genre", "userId"],
    "playlist": ["id"],
    "publicPlaylists": ["first", "after", "search"],
    "myPlaylists": ["first", "after"],
    "myRatings": ["first", "after"],
}

MUTATIONS = {
    "register": ["username", "email", "password"],
    "tokenAuth": ["username", "password"],
    "refreshToken": ["refresh"],
    "revokeToken": ["refresh"],
    "verifyToken": ["token"],
    "setFavoriteGenres": ["genres"],
    "rateMovie": ["movieId", "score", "review"],
    "deleteRating": ["movieId"],
    "createPlaylist": ["title", "description", "visibility"],
    "updatePlaylist": ["id", "title", "description", "visibility"],
    "deletePlaylist": ["id"],
    "addToPlaylist": ["playlistId", "movieId", "position", "note"],
    "removeFromPlaylist": ["playlistId", "movieId"],
    "movePlaylistItem": ["playlistId", "movieId", "position"],
    "addToWatchlist": ["movieId"],
    "removeFromWatchlist": ["movieId"],
}

TYPES = {
    "Movie": [
        "id", "tmdbId", "title", "originalTitle", "overview", "releaseDate", "year", "runtime",
        "posterUrl", "backdropUrl", "genres", "popularity", "tmdbVoteAverage", "tmdbVoteCount",
        "communityRating", "myRating", "matchScore", "similar", "credits",
    ],
    "Recommendation": ["movie", "score", "source", "because", "reason"],
    "Playlist": [
        "id", "title", "description", "visibility", "owner", "createdAt", "updatedAt", "items",
        "itemCount",
    ],
    "Rating": ["movie", "score", "review", "createdAt", "updatedAt", "user"],
    "User": ["id", "username", "dateJoined", "favoriteGenres", "watchlist", "playlists",
             "ratingCount"],
    "AuthPayload": ["access", "refresh", "user"],
    "OkPayload": ["ok"],
    "Genre": ["name"],
}  # fmt: skip

ENUMS = {
    "MovieOrder": {"POPULARITY", "RATING", "RELEASE_DATE", "TITLE", "RELEVANCE"},
    "TrendWindow": {"DAY", "WEEK"},
    "RecSource": {"PERSONALIZED", "POPULAR", "TRENDING", "GENRE"},
    "Visibility": {"PUBLIC", "PRIVATE", "UNLISTED"},
}


@pytest.mark.parametrize(("root", "expected"), [("query", QUERIES), ("mutation", MUTATIONS)])
def test_root_fields_and_arguments(root, expected):
    root_type = GRAPHQL.query_type if root == "query" else GRAPHQL.mutation_type
    for name, args in expected.items():
        assert name in root_type.fields, f"{root} {name} missing"
        assert set(args) <= set(root_type.fields[name].args), (name, root_type.fields[name].args)


@pytest.mark.parametrize(("type_name", "fields"), TYPES.items())
def test_types_have_contract_fields(type_name, fields):
    graphql_type = GRAPHQL.get_type(type_name)
    assert graphql_type is not None, type_name
    assert set(fields) <= set(graphql_type.fields), set(fields) - set(graphql_type.fields)


@pytest.mark.parametrize(("enum_name", "values"), ENUMS.items())
def test_enums_have_contract_values(enum_name, values):
    assert set(GRAPHQL.get_type(enum_name).values) == values


def test_ids_are_non_null_ids_and_lists_are_connections():
    for type_name in ("Movie", "Playlist", "User"):
        field = GRAPHQL.get_type(type_name).fields["id"]
        assert isinstance(field.type, GraphQLNonNull) and get_named_type(field.type).name == "ID"
    for name in ("movies", "publicPlaylists", "myPlaylists", "myRatings"):
        connection = get_named_type(GRAPHQL.query_type.fields[name].type)
        assert {"edges", "pageInfo", "totalCount"} <= set(connection.fields), name
    for type_name, field_name in (
        ("User", "watchlist"),
        ("User", "playlists"),
        ("Playlist", "items"),
    ):
        connection = get_named_type(GRAPHQL.get_type(type_name).fields[field_name].type)
        assert {"edges", "pageInfo", "totalCount"} <= set(connection.fields), field_name
