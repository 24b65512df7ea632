"""Every Redis key and version token of the recommendation read path, declared once.

Entries are never deleted: a key embeds the versions it depends on (active model version,
the user's feedback generation, the trending version), so bumping a version makes older
entries unreachable and they expire by TTL.
"""

from __future__ import annotations

from movies.services import TRENDING_VERSION_KEY

#: The pk of the active ``ModelVersion``; set by activation, read by every serving process.
ACTIVE_VERSION = "recs:active_version"
#: Bumped by the TMDb trending sync (owned by movies); part of every trending key.
TRENDING_VERSION = TRENDING_VERSION_KEY


def user_generation(user_id: int) -> str:
    """A random token replaced whenever the user's feedback changes."""
    return f"recs:u{user_id}:gen"


def taste_profile(user_id: int, generation: str) -> str:
    return f"recs:u{user_id}:g{generation}:taste"


def recommendations(version: int, user_id: int, generation: str, n: int, genre: int | str) -> str:
    # Not-interested marks need no part of their own: they bump the generation.
    return f"recs:v{version}:u{user_id}:g{generation}:n{n}:genre{genre}"


def anonymous(trending: int, n: int, genre: int | str) -> str:
    return f"recs:anon:t{trending}:n{n}:genre{genre}"


def trending(trending_version: int, window: str) -> str:
    return f"recs:trending:t{trending_version}:{window}"


def trending_last(window: str) -> str:
    """The last list computed for ``window`` under any version: what a request serves when the
    current one is missing and too costly to compute inside the request."""
    return f"recs:trending:last:{window}"


def similar(version: int, movie_id: int, n: int) -> str:
    return f"recs:v{version}:similar:{movie_id}:n{n}"
