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

Signed-in viewers get the same treatment for the root fields an app declares viewer-cacheable
(:func:`track_viewer_field`: an answer that depends only on public data and the viewer's own
feedback): the entry is keyed by the viewer as well, and also carries the viewer's versions
(e.g. recs' feedback generation, replaced by every rating, watchlist or favourite change), so
a hit is one ``MGET`` and no SQL, and any feedback event, catalogue write or model activation
makes it unreachable at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

DATA_VERSION_KEY = "graphql:data-version"
#: Apps whose rows anonymous queries show (a signal-visible write to any of them bumps the
#: data version) and cache keys of other versions an entry depends on; apps register both
#: in ``ready()`` (the core names no app).
_public_apps: set[str] = set()
_version_keys: list[str] = [DATA_VERSION_KEY]


@dataclass(frozen=True)
class _ViewerField:
    version_keys: Callable[[int], list[str]]
    uncacheable_args: frozenset[str]


#: Root field -> how a signed-in viewer's answer to it is versioned (registered by apps).
_viewer_fields: dict[str, _ViewerField] = {}


def track_viewer_field(
    field: str, version_keys: Callable[[int], list[str]], uncacheable_args: Iterable[str] = ()
) -> None:
    """Cache signed-in answers of root ``field`` per viewer, valid while the public data
    versions and ``version_keys(viewer id)`` are unchanged; a use of any of
    ``uncacheable_args`` (e.g. another user's id) is never cached."""
    _viewer_fields[field] = _ViewerField(version_keys, frozenset(uncacheable_args))


def viewer_version_keys(
    root_fields: Iterable[tuple[str, frozenset[str]]], user_id: int
) -> list[str] | None:
    """The viewer's version keys when every root field (name, argument names) is
    viewer-cacheable, else None (not cached)."""
    found: list[str] = []
    for name, arguments in root_fields:
        if name == "__typename":
            continue
        spec = _viewer_fields.get(name)
        if spec is None or arguments & spec.uncacheable_args:
            return None
        found += [k for k in spec.version_keys(user_id) if k not in found]
    return found or None


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


def lookup(key: str, viewer_keys: Iterable[str] = ()) -> tuple[str | bytes | None, tuple[Any, ...]]:
    """(cached body or None, the current versions) in one round trip."""
    keys = [key, *_version_keys, *viewer_keys]
    values = cache.get_many(keys)
    versions = tuple(values.get(k) for k in keys[1:])
    entry = values.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == versions:
        return entry[1], versions
    return None, versions


def store(key: str, versions: tuple[Any, ...], body: str | bytes) -> None:
    if versions[0] is None:  # first use: start the counter, this entry's version is stale
        cache.add(DATA_VERSION_KEY, 1, timeout=None)
        return
    if any(v is None for v in versions[len(_version_keys) :]):
        return  # a viewer version not started yet (or Redis failing): nothing to key on
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


def _on_write(sender: Any, **kwargs: Any) -> None:
    if sender._meta.app_label in _public_apps:
        bump()


def connect() -> None:
    """Bump on every signal-visible write to a public app's models (called once at startup)."""
    post_save.connect(_on_write, dispatch_uid="graphql-response-cache-save")
    post_delete.connect(_on_write, dispatch_uid="graphql-response-cache-delete")
    m2m_changed.connect(_on_write, dispatch_uid="graphql-response-cache-m2m")
