"""A short-lived Redis proof that a signed-in session still stands, so most requests skip SQL.

PostgreSQL stays the truth for revocations, password changes and deactivations; Redis only
remembers, for ``AUTH_STATE_CACHE_SECONDS``, that PostgreSQL said yes. Two keys per token:

- ``auth:s:<sid>`` = ``ok:<user id>``: the session was not revoked when last checked;
- ``auth:u:<user id>`` = ``ok:<token_version>``: the user was active at that version.

A request is accepted without SQL only when both keys hold exactly those values for its
token. Anything else (a key missing because Redis was flushed or restarted, a Redis error or
open breaker, a marker) means one SQL check, whose success fills the keys with ``SET NX``.

Writers (revocation, password change, deactivation, deletion) overwrite the keys with a
``changed`` marker, before their transaction commits and again after it. Because fills are
``SET NX``, a check that read the old row and fills late cannot overwrite the marker, and
the marker outlives the fill window. The one case left: a writer that cannot reach Redis (it
is down or hung) while an old ``ok`` key survives there (Redis comes back with its data). The
writing process retries the marker before it trusts Redis again, and every ``ok`` key expires
``AUTH_STATE_CACHE_SECONDS`` after the check that wrote it, which bounds that window.
"""

from __future__ import annotations

import threading
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.functional import SimpleLazyObject, empty
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)

_CHANGED = "changed"
_pending: set[str] = set()  # marker keys this process could not write yet
_pending_lock = threading.Lock()


def _ttl() -> int:
    return int(settings.AUTH_STATE_CACHE_SECONDS)


def session_key(sid: str) -> str:
    return f"auth:s:{sid}"


def user_key(user_id: int | str) -> str:
    return f"auth:u:{user_id}"


def state_keys(user_id: int | str | None, sid: str | None) -> list[str]:
    """The cache keys whose values :func:`proven` needs ([] when the token cannot use them)."""
    if _ttl() <= 0 or not sid or user_id is None:
        return []
    return [session_key(sid), user_key(user_id)]


def proven(user_id: int | str, version: int, values: list[Any]) -> bool:
    """Do the values read for :func:`state_keys` prove the token good, without SQL?

    False while this process still owes Redis a marker it could not write: a Redis that came
    back with its old data must not be trusted before the marker is in.
    """
    if _pending:
        flush_pending()  # the values were read before the markers went in
        return False
    if len(values) != 2:
        return False
    return values[0] == f"ok:{user_id}" and values[1] == f"ok:{version}"


def remember(user_id: int, sid: str | None, version: int) -> None:
    """After a successful SQL check: let the next requests of this token skip it (SET NX)."""
    ttl = _ttl()
    if ttl <= 0 or not sid or _pending:
        return
    encode = cache.client.encode
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        pipe.set(cache.make_key(session_key(sid)), encode(f"ok:{user_id}"), ex=ttl, nx=True)
        pipe.set(cache.make_key(user_key(user_id)), encode(f"ok:{version}"), ex=ttl, nx=True)
        pipe.execute()
    except RedisError:
        pass  # the next request checks PostgreSQL again


def _mark(keys: list[str]) -> bool:
    """Overwrite ``keys`` with the marker; remember them for a retry when Redis refuses."""
    made = [cache.make_key(k) for k in keys]
    value = cache.client.encode(_CHANGED)
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        for key in made:
            pipe.set(key, value, ex=max(_ttl(), 1) * 2)
        pipe.execute()
    except RedisError:
        with _pending_lock:
            _pending.update(keys)
        logger.warning("auth_state.marker_deferred", keys=len(keys))
        return False
    return True


def flush_pending() -> bool:
    """Write the markers this process owes; True when none is left."""
    with _pending_lock:
        keys = sorted(_pending)
        _pending.clear()
    return not keys or _mark(keys)


def _changed(keys: list[str]) -> None:
    _mark(keys)
    transaction.on_commit(lambda: _mark(keys))


def session_changed(sid: str) -> None:
    """A session was revoked: its tokens need the SQL check from now on."""
    _changed([session_key(sid)])


def user_changed(user_id: int) -> None:
    """A user's password, active flag or token version changed, or the user was deleted."""
    _changed([user_key(user_id)])


class LazyViewer(SimpleLazyObject):
    """The signed-in user, loaded from PostgreSQL on first use of anything but its id.

    A query that never reads the viewer (``{__typename}``, the catalogue) costs no SQL;
    ``is_authenticated``, ``pk`` and ``id`` answer from the verified token.
    """

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user_id: int) -> None:
        from users.models import User

        self.__dict__["_viewer_id"] = user_id
        super().__init__(lambda: User.objects.get(pk=user_id))

    @property
    def pk(self) -> int:
        return self.__dict__["_viewer_id"]

    id = pk

    @property
    def loaded(self) -> bool:
        return self._wrapped is not empty
