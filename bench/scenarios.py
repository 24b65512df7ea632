"""The requests each serving scenario sends (the client contract's own queries)."""

from __future__ import annotations

from collections.abc import Callable

from graphql_relay import to_global_id

from bench.dataset import SEARCH_TEXT, Built
from bench.load import Request

TYPENAME = {"query": "{ __typename }"}
MOVIES = {
    "query": "{ movies(first: 20, orderBy: POPULARITY) { edges { node { id title year posterUrl "
    "genres { name } communityRating { average count } } } } }"
}
SEARCH = {
    "query": "query($q: String!) { movies(first: 20, search: $q) { edges { node { id title "
    "year posterUrl genres { name } } } } }",
    "variables": {"q": SEARCH_TEXT},
}
#: Common words (and a two-word prefix) that match a large part of the synthetic catalogue:
#: at 62k movies "love" matches 40% of it, the p99 case of search.
COMMON_SEARCHES = ["love", "dark ci", "night", "the king"]
MOVIE = (
    "query($id: ID!) { movie(id: $id) { id title overview year runtime genres { name } "
    "communityRating { average count } credits(first: 10) { kind name character job } "
    "similar(first: 10) { id title posterUrl } } }"
)
RECS = {
    "query": "{ recommendations(first: 20) { score source movie { id title year posterUrl "
    "genres { name } } } }"
}
RATE = "mutation($m: ID!, $s: Float!) { rateMovie(movieId: $m, score: $s) { score } }"


def movie_id(pk: int) -> str:
    return to_global_id("Movie", pk)


#: name -> (server, builder of the request cycle from the data and viewers' tokens).
#: "ours" keeps the caches; "ours-uncached" runs with RECS_CACHE_TTL=0 and
#: GRAPHQL_RESPONSE_CACHE_TTL=0 (every request executes).
Builder = Callable[[Built, list[str]], list[Request]]
SCENARIOS: dict[str, tuple[str, str, Builder]] = {
    "typename-floor": (
        "floor",
        "`{__typename}`, bare graphene-django",
        lambda b, t: [Request(TYPENAME)],
    ),
    "typename-anon": ("ours", "`{__typename}`, anonymous", lambda b, t: [Request(TYPENAME)]),
    "typename": ("ours", "`{__typename}`, signed in", lambda b, t: [Request(TYPENAME, t[0])]),
    "movies": (
        "ours",
        "`movies(first: 20)` + genres + communityRating, signed in",
        lambda b, t: [Request(MOVIES, t[0])],
    ),
    "movies-uncached": (
        "ours-uncached",
        "`movies(first: 20)` + genres + communityRating, signed in, no response cache",
        lambda b, t: [Request(MOVIES, t[0])],
    ),
    "movies-anon": (
        "ours",
        "`movies(first: 20)` + genres + communityRating, anonymous",
        lambda b, t: [Request(MOVIES)],
    ),
    "search": (
        "ours",
        f'`movies(search: "{SEARCH_TEXT}")`, signed in',
        lambda b, t: [Request(SEARCH, t[0])],
    ),
    "search-common": (
        "ours-uncached",
        f"`movies(search:)` for common words ({', '.join(COMMON_SEARCHES)}), no response cache",
        lambda b, t: [
            Request({"query": SEARCH["query"], "variables": {"q": q}}, t[0])
            for q in COMMON_SEARCHES
        ],
    ),
    "movie": (
        "ours",
        "`movie(id)` + credits + similar, 10 popular movies",
        lambda b, t: [
            Request({"query": MOVIE, "variables": {"id": movie_id(pk)}}, t[0])
            for pk in b.movie_ids[:10]
        ],
    ),
    "recommendations": (
        "ours",
        "`recommendations(first: 20)`, cached, signed in",
        lambda b, t: [Request(RECS, t[0])],
    ),
    "recommendations-uncached": (
        "ours-uncached",
        "`recommendations(first: 20)`, uncached (cache TTL 0), signed in",
        lambda b, t: [Request(RECS, token) for token in t],
    ),
    "rate-movie": (
        "ours",
        "`rateMovie`, 20 viewers x 10 movies",
        lambda b, t: [
            Request(
                {"query": RATE, "variables": {"m": movie_id(pk), "s": 0.5 + (i % 10) / 2}},
                t[i % len(t)],
            )
            for i, pk in enumerate(b.movie_ids[30:40] * 4)
        ],
    ),
    "mix": (
        "ours",
        "50/50 anonymous / signed-in: movies, recommendations, movie",
        lambda b, t: [
            Request(MOVIES),
            Request(RECS, t[1 % len(t)]),
            Request(RECS),
            Request(MOVIES, t[2 % len(t)]),
            Request({"query": MOVIE, "variables": {"id": movie_id(b.movie_ids[0])}}),
            Request({"query": MOVIE, "variables": {"id": movie_id(b.movie_ids[1])}}, t[0]),
        ],
    ),
}
