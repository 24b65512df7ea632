"""Whole-response cache for anonymous GraphQL queries, keyed by query, variables and data version.

Every anonymous viewer gets the same answer to the same query (nothing in an anonymous
response depends on who asks), so the encoded body is cached in Redis for
``GRAPHQL_RESPONSE_CACHE_TTL`` seconds. An entry is served only while the *data version* it
was computed under is current: a counter bumped after commit by any write to the public
catalogue (movies, genres, credits, keywords, playlists, model versions), plus the trending
list's version and the active model version. One ``MGET`` reads the entry and the versions
together, so a hit costs one Redis round trip and no SQL.

Writes that bypass model signals (bulk sync/import, the ratings service's F() counter
updates) are bounded by the TTL instead: community-rating counters in an anonymous response
may lag by at most that many seconds. Mutations are never cached.

Signed-in viewers get the same treatment for the root fields apps declare viewer-cacheable
(:func:`track_viewer_field`): the entry is keyed by the viewer as well, and also carries the
viewer's own version, replaced after every feedback event of theirs (rating, watchlist,
favourite, not-interested, playlist item, favourite genres: ``user_feedback_changed``) and
every save of their account (staff flag, profile). Per-viewer fields (``myRating``,
``matchScore``, ...) change only through those, so a hit is one ``MGET`` and no SQL, and a
feedback event, catalogue write or model activation makes the entry unreachable at once.
Authentication and the rate limit still run before the lookup.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from movierec.events import user_feedback_changed

DATA_VERSION_KEY = "graphql:data-version"
#: Apps whose rows anonymous queries show (a signal-visible write to any of them bumps the
#: data version) and cache keys of other versions an entry depends on; apps register both
#: in ``ready()`` (the core names no app).
_public_apps: set[str] = set()
_version_keys: list[str] = [DATA_VERSION_KEY]


#: Root field -> argument names that make a use of it uncacheable (registered by apps).
_viewer_fields: dict[str, frozenset[str]] = {}


def track_viewer_field(field: str, uncacheable_args: Iterable[str] = ()) -> None:
    """Cache signed-in answers of root ``field`` per viewer (see the module docstring); a use
    of any of ``uncacheable_args`` (e.g. another user's id) is never cached."""
    _viewer_fields[field] = frozenset(uncacheable_args)


def viewer_version_key(user_id: int) -> str:
    return f"graphql:viewer-version:{user_id}"


def viewer_cacheable(root_fields: Iterable[tuple[str, frozenset[str]]]) -> bool:
    """Is every root field (name, argument names) viewer-cacheable as used?"""
    named = False
    for name, arguments in root_fields:
        if name == "__typename":
            continue
        uncacheable = _viewer_fields.get(name)
        if uncacheable is None or arguments & uncacheable:
            return False
        named = True
    return named


def track(app_label: str, version_key: str | None = None) -> None:
    """Make writes to ``app_label``'s models, and changes of ``version_key``, invalidate."""
    _public_apps.add(app_label)
    if version_key is not None and version_key not in _version_keys:
        _version_keys.append(version_key)


def enabled() -> bool:
    return settings.GRAPHQL_RESPONSE_CACHE_TTL > 0


def entry_key(
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    viewer: int | None = None,
) -> str:
    material = json.dumps([query, variables or {}, operation_name], sort_keys=True)
    digest = hashlib.blake2b(material.encode(), digest_size=16).hexdigest()
    if viewer is not None:
        return f"graphql:response:u{viewer}:{digest}"
    return "graphql:response:" + digest


def lookup(key: str, viewer: int | None = None) -> tuple[str | bytes | None, tuple[Any, ...]]:
    """(cached body or None, the current versions, the viewer's last) in one round trip."""
    keys = [key, *_version_keys]
    if viewer is not None:
        keys.append(viewer_version_key(viewer))
    values = cache.get_many(keys)
    versions = tuple(values.get(k) for k in keys[1:])
    entry = values.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == versions:
        return entry[1], versions
    return None, versions


def store(
    key: str, versions: tuple[Any, ...], body: str | bytes, viewer: int | None = None
) -> None:
    if versions[0] is None:  # first use: start the counter, this entry's version is stale
        cache.add(DATA_VERSION_KEY, 1, timeout=None)
        return
    if viewer is not None and versions[-1] is None:
        # The viewer's version starts now; this entry's is already stale.
        cache.add(viewer_version_key(viewer), uuid.uuid4().hex, timeout=None)
        return
    cache.set(key, (versions, body), timeout=settings.GRAPHQL_RESPONSE_CACHE_TTL)


def bump() -> None:
    """Invalidate every cached anonymous response (after the current transaction commits)."""

    def _bump() -> None:
        cache.add(DATA_VERSION_KEY, 1, timeout=None)
        try:
            cache.incr(DATA_VERSION_KEY)
        except ValueError:  # evicted between add and incr
            cache.set(DATA_VERSION_KEY, 2, timeout=None)

    transaction.on_commit(_bump)


def bump_viewer(user_id: int) -> None:
    """Invalidate every cached answer of one viewer (after the current transaction commits)."""
    transaction.on_commit(
        lambda: cache.set(viewer_version_key(user_id), uuid.uuid4().hex, timeout=None)
    )


def _on_write(sender: Any, **kwargs: Any) -> None:
    if sender._meta.app_label in _public_apps:
        bump()
    elif sender._meta.label == settings.AUTH_USER_MODEL:
        bump_viewer(kwargs["instance"].pk)


def _on_feedback(sender: Any, *, user_id: int, **kwargs: Any) -> None:
    cache.set(viewer_version_key(user_id), uuid.uuid4().hex, timeout=None)  # already on commit


def connect() -> None:
    """Bump on every signal-visible write to a public app's models (called once at startup)."""
    post_save.connect(_on_write, dispatch_uid="graphql-response-cache-save")
    post_delete.connect(_on_write, dispatch_uid="graphql-response-cache-delete")
    m2m_changed.connect(_on_write, dispatch_uid="graphql-response-cache-m2m")
    user_feedback_changed.connect(_on_feedback, dispatch_uid="graphql-response-cache-feedback")
