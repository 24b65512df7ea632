"""Redis-backed limits: fixed windows for sign-in, registration and GraphQL; growing delays
for wrong passwords.

One counter per (scope, key) lives in the cache's Redis under the cache key prefix, created
with the window as its TTL (SET NX EX, then INCR, in one round trip), so every web process
shares it and it expires by itself. A Redis outage fails open: limits are a defence, not a
dependency. Rates come from ``settings.RATELIMIT_RATES`` and are read on every call, so tests
can override one scope.

Wrong passwords follow OWASP's authentication guidance instead of a hard lock that anyone
could trigger against the owner: failures are counted per account and per (account, client),
and a client that has failed against an account waits a delay that doubles with each further
failure (``settings.LOGIN_BACKOFF``). A client with no failures against the account is never
held back by the account's counter, so the owner can still sign in while an attacker is being
slowed down; the per-IP window bounds how many accounts one client can try.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from movierec import metrics

logger = structlog.get_logger(__name__)

_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]*)\s*$")


class RateLimitExceeded(Exception):
    """Too many requests in the current window; retry after ``retry_after`` seconds."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"Rate limit {scope!r} exceeded; retry after {retry_after}s.")
        self.scope = scope
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds

    @classmethod
    @functools.lru_cache(maxsize=64)  # rates are read from settings on every request
    def parse(cls, text: str) -> Rate:
        """``"20/60"``, ``"5/5m"``, ``"10/1h"``, ``"100/d"``: requests per window."""
        match = _RATE_RE.match(text.lower())
        if not match or match.group(3) not in _UNITS:
            raise ValueError(f"Invalid rate {text!r}; expected e.g. '20/1m'.")
        limit, count, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
        return cls(limit=limit, window=count * _UNITS[unit])


def rate_for(scope: str) -> Rate:
    return Rate.parse(settings.RATELIMIT_RATES[scope])


def _key(scope: str, key: str) -> str:
    # Hashed so that identifiers typed by clients never become raw Redis key material.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return cache.make_key(f"ratelimit:{scope}:{digest}")


#: One round trip, one reply: count a hit in ``KEYS[1]`` (created with the window as its
#: TTL when ``ARGV[1]`` > 0; SET NX EX and INCR run atomically, so no hit straddles an expiry)
#: and read the values of ``KEYS[2..]``. Returns ``{count, ttl, value...}`` (false for a
#: missing key). A script instead of a MULTI pipeline: the web process packs one command and
#: parses one reply instead of seven, which was a quarter of a signed-in request's CPU.
_HIT_AND_READ_LUA = """
local count, ttl = 0, 0
if tonumber(ARGV[1]) > 0 then
  redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
  count = redis.call('INCR', KEYS[1])
  ttl = redis.call('TTL', KEYS[1])
end
local out = {count, ttl}
for i = 2, #KEYS do
  out[i + 1] = redis.call('GET', KEYS[i])
end
return out
"""
_script: Any = None


def _hit_and_read(redis_key: str, window: int, made: Sequence[str]) -> tuple[int, int, list]:
    """(count, ttl, raw values) through the script (redis-py sends EVALSHA, and loads the
    script again whenever a Redis does not know it yet, so one object serves every client)."""
    global _script
    client = get_redis_connection("default")
    if _script is None:
        _script = client.register_script(_HIT_AND_READ_LUA)
    count, ttl, *values = _script(keys=[redis_key, *made], args=[window], client=client)
    return int(count), int(ttl), values


def hit(scope: str, key: str) -> None:
    """Count one event; raise :class:`RateLimitExceeded` once the window's limit is passed."""
    retry_after, _ = hit_and_read(scope, key, ())
    if retry_after is not None:
        metrics.RATE_LIMITED.labels(scope=scope).inc()
        raise RateLimitExceeded(scope, retry_after)


def hit_and_read(scope: str, key: str, cache_keys: Sequence[str]) -> tuple[int | None, list[Any]]:
    """:func:`hit` plus the cache values of ``cache_keys``, in one Redis round trip.

    Returns (seconds to wait when the limit is passed else None, the values; None for a
    missing key). The GraphQL view reads the viewer's auth state this way, so a signed-in
    request costs one round trip before it executes. Fails open on Redis errors.
    """
    made = [cache.make_key(k) for k in cache_keys]
    rate = rate_for(scope) if settings.RATELIMIT_ENABLED else None
    if rate is None and not made:
        return None, []
    window = rate.window if rate is not None else 0
    try:
        count, ttl, raw = _hit_and_read(_key(scope, key), window, made)
    except RedisError:
        logger.warning("ratelimit.redis_unavailable", scope=scope)
        return None, [None] * len(made)
    decode = cache.client.decode
    values = [None if v is None else decode(v) for v in raw]
    if rate is None or count <= rate.limit:
        return None, values
    return max(1, ttl if ttl and ttl > 0 else rate.window), values


def check(scope: str, key: str) -> None:
    """Raise if the limit is already reached, without counting (for failure-only counters)."""
    if not settings.RATELIMIT_ENABLED:
        return
    rate = rate_for(scope)
    redis_key = _key(scope, key)
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        pipe.get(redis_key)
        pipe.ttl(redis_key)
        count, ttl = pipe.execute()
    except RedisError:
        logger.warning("ratelimit.redis_unavailable", scope=scope)
        return
    if count is not None and int(count) >= rate.limit:
        raise RateLimitExceeded(scope, ttl if ttl and ttl > 0 else rate.window)


def reset(scope: str, key: str) -> None:
    """Forget a counter (a successful sign-in clears the account's failures)."""
    try:
        get_redis_connection("default").delete(_key(scope, key))
    except RedisError:
        logger.warning("ratelimit.redis_unavailable", scope=scope)


def enforce_all(*checks: Callable[[], None]) -> None:
    """Run every check (each may count); if any refuses, raise the one that binds longest.

    A client refused by two limits must be told when *both* let it through, so
    ``retry_after`` is the larger wait, never just the first limit's.
    """
    refusals: list[RateLimitExceeded] = []
    for check_ in checks:
        try:
            check_()
        except RateLimitExceeded as exc:
            refusals.append(exc)
    if refusals:
        raise max(refusals, key=lambda exc: exc.retry_after)


def backoff_delay(failures: int, free: int) -> int:
    """Seconds to wait after ``failures`` wrong passwords when ``free`` are allowed without
    delay: ``base`` after the ``free``-th, doubling with each further one, up to ``cap``."""
    if failures < free:
        return 0
    config = settings.LOGIN_BACKOFF
    return int(min(config["cap"], config["base"] * 2 ** min(failures - free, 32)))


def _failure_keys(account: str, client: str) -> tuple[str, str]:
    return _key("login_fail_client", f"{account}|{client}"), _key("login_fail_account", account)


def login_attempt_check(account: str, client: str) -> None:
    """Raise if ``client`` must still wait before its next password try on ``account``.

    The client's own delay applies once it has ``client_free`` failures here; the account's
    delay (failures from every client) applies only to clients that have failed here too.
    """
    if not settings.RATELIMIT_ENABLED:
        return
    config = settings.LOGIN_BACKOFF
    client_key, account_key = _failure_keys(account, client)
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        pipe.hmget(client_key, "n", "t")
        pipe.hmget(account_key, "n", "t")
        (client_n, client_t), (account_n, account_t) = pipe.execute()
    except RedisError:
        logger.warning("ratelimit.redis_unavailable", scope="login_backoff")
        return
    if not client_n:
        return
    now = time.time()
    wait = float(client_t or 0) + backoff_delay(int(client_n), config["client_free"]) - now
    if account_n:
        account_wait = float(account_t or 0) + backoff_delay(int(account_n), config["account_free"])
        wait = max(wait, account_wait - now)
    if wait > 0:
        raise RateLimitExceeded("login_backoff", math.ceil(wait))


def login_failure_record(account: str, client: str) -> None:
    """Count one wrong password against the account and against this client on it."""
    if not settings.RATELIMIT_ENABLED:
        return
    memory = settings.LOGIN_BACKOFF["memory"]
    now = time.time()
    try:
        pipe = get_redis_connection("default").pipeline(transaction=True)
        for key in _failure_keys(account, client):
            pipe.hincrby(key, "n", 1)
            pipe.hset(key, "t", now)
            pipe.expire(key, memory)
        pipe.execute()
    except RedisError:
        logger.warning("ratelimit.redis_unavailable", scope="login_backoff")


def login_success_record(account: str, client: str) -> None:
    """The client knew the password: forget its failures (the account's count stays, so an
    attacker's other clients remain slowed down)."""
    try:
        get_redis_connection("default").delete(_failure_keys(account, client)[0])
    except RedisError:
        logger.warning("ratelimit.redis_unavailable", scope="login_backoff")


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the hop our ``RATELIMIT_NUM_PROXIES`` proxies saw."""
    proxies = settings.RATELIMIT_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
