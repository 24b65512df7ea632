"""Automatic persisted queries (Apollo's APQ protocol) over the Redis cache.

A client first sends only ``extensions.persistedQuery = {version: 1, sha256Hash}``; an unknown
hash answers ``PERSISTED_QUERY_NOT_FOUND`` and the client repeats the request with the query
text, which is checked against the hash and remembered for ``GRAPHQL_APQ_TTL`` seconds. From
then on the hash alone is enough, also in a GET (cacheable by HTTP caches and CDNs).
The cache is derived data: losing it only costs clients one more round trip.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.conf import settings
from django.core.cache import cache

from movierec.graphql.errors import ErrorCode

_SHA256 = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(Exception):
    """The persisted-query extension cannot be honoured; ``code`` says why."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _cache_key(sha256_hash: str) -> str:
    return f"apq:{sha256_hash}"


def persisted_query_resolve(query: str | None, extension: Any) -> str:
    """The query to run for a request carrying ``extensions.persistedQuery``.

    With ``query`` it must hash to ``sha256Hash`` and is stored; without, it is looked up.
    """
    if not isinstance(extension, dict) or extension.get("version") != 1:
        raise PersistedQueryError(
            "Unsupported persistedQuery extension; version 1 is supported.",
            ErrorCode.BAD_USER_INPUT,
        )
    sha256_hash = extension.get("sha256Hash")
    if not isinstance(sha256_hash, str) or not _SHA256.fullmatch(sha256_hash):
        raise PersistedQueryError(
            "persistedQuery.sha256Hash must be 64 lowercase hex digits.", ErrorCode.BAD_USER_INPUT
        )
    if query is None:
        stored = cache.get(_cache_key(sha256_hash))
        if stored is None:
            raise PersistedQueryError("PersistedQueryNotFound", ErrorCode.PERSISTED_QUERY_NOT_FOUND)
        return stored
    if hashlib.sha256(query.encode("utf-8")).hexdigest() != sha256_hash:
        raise PersistedQueryError(
            "provided sha does not match query", ErrorCode.PERSISTED_QUERY_HASH_MISMATCH
        )
    cache.set(_cache_key(sha256_hash), query, settings.GRAPHQL_APQ_TTL)
    return query
