"""Rate limiting shared by every process and Celery worker that talks to TMDb.

TMDb asks for about 40 requests/second per key, and the key is shared by all workers, so the
bucket lives in Redis. One Lua script refills and takes a token atomically using Redis' own clock
(worker clocks may disagree). The script *reserves* the token even when the caller has to wait, so
each ``acquire()`` is a single round-trip and waiters are served in arrival order instead of
stampeding the key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import redis

__all__ = ["NullRateLimiter", "RateLimiter", "RedisTokenBucket"]

# KEYS[1]: bucket hash. ARGV: rate (tokens/s), burst, tokens wanted, max wait (s, -1 = no limit).
# Returns the seconds to wait before using the reserved tokens ("0" when available now), or
# "-<wait>" when the wait would exceed max wait; then nothing is reserved.
_TOKEN_BUCKET_LUA = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
  ts = now
end
tokens = tokens - wanted
local wait = 0
if tokens < 0 then
  wait = -tokens / rate
end
if max_wait >= 0 and wait > max_wait then
  return '-' .. string.format('%.6f', wait)
end
redis.call('HSET', key, 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.0f', ts))
local ttl = math.ceil((burst + wanted) / rate * 1000) + 60000
redis.call('PEXPIRE', key, ttl)
return string.format('%.6f', wait)
"""


class RateLimiter(Protocol):
    """What :class:`~movies.tmdb.client.TmdbClient` needs from a limiter."""

    def acquire(self, tokens: int = 1, *, timeout: float | None = None) -> float: ...


class NullRateLimiter:
    """No limiting: for tests and single-shot commands."""

    def acquire(self, tokens: int = 1, *, timeout: float | None = None) -> float:
        return 0.0


class RedisTokenBucket:
    """Token bucket in Redis: ``rate`` tokens/second on average, bursts up to ``burst``.

    ``name`` lets several buckets share a prefix (e.g. one per API key). The caller builds the
    ``redis.Redis`` client (from ``REDIS_URL``) so connection pooling stays under its control.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        rate: float = 40.0,
        burst: int = 40,
        key_prefix: str = "movierec:tmdb:ratelimit",
        name: str = "default",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self.key = f"{key_prefix}:{name}"
        self._sleep = sleep
        self._script = client.register_script(_TOKEN_BUCKET_LUA)

    def acquire(self, tokens: int = 1, *, timeout: float | None = None) -> float:
        """Block until ``tokens`` may be used; return the seconds waited.

        With ``timeout``, raise :class:`TimeoutError` (reserving nothing) when the wait would
        be longer.
        """
        if tokens < 1 or tokens > self.burst:
            raise ValueError(f"tokens must be between 1 and burst ({self.burst})")
        max_wait = -1.0 if timeout is None else max(0.0, timeout)
        raw = self._script(keys=[self.key], args=[self.rate, self.burst, tokens, max_wait])
        wait = float(raw.decode() if isinstance(raw, bytes) else raw)
        if wait < 0:
            raise TimeoutError(f"rate limit wait {-wait:.3f}s exceeds timeout {timeout}s")
        if wait > 0:
            self._sleep(wait)
        return wait
