"""RedisTokenBucket against the real Redis at redis://127.0.0.1:6379/15."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from movies.tmdb import TmdbClient
from movies.tmdb.ratelimit import NullRateLimiter, RedisTokenBucket
from tools.tmdb_devserver import DevServer

from .conftest import REDIS_URL, RecordingSleep


def test_burst_is_free_then_waits_are_reserved(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    sleeps = RecordingSleep()
    bucket = RedisTokenBucket(redis_client, rate=10, burst=5, key_prefix=redis_prefix, sleep=sleeps)

    started = time.monotonic()
    waits = [bucket.acquire() for _ in range(7)]
    # Real time passing between the calls refills the bucket a little (a loaded machine can
    # take tens of ms per round trip), so the waits may be shorter by up to that much.
    slack = 0.01 + (time.monotonic() - started)

    assert waits[:5] == [0.0] * 5
    # Tokens 6 and 7 are reserved ahead: ~0.1 s and ~0.2 s from now.
    assert 0.1 - slack <= waits[5] <= 0.1 + 0.01
    assert 0.2 - slack <= waits[6] <= 0.2 + 0.01
    assert waits[5] < waits[6]
    assert sleeps.calls == waits[5:]


def test_timeout_raises_without_reserving(redis_client: redis.Redis, redis_prefix: str) -> None:
    sleeps = RecordingSleep()
    bucket = RedisTokenBucket(redis_client, rate=2, burst=1, key_prefix=redis_prefix, sleep=sleeps)
    started = time.monotonic()
    bucket.acquire()

    with pytest.raises(TimeoutError):
        bucket.acquire(timeout=0.01)
    wait = bucket.acquire()
    elapsed = time.monotonic() - started

    # The bucket refills by Redis's clock, which moved at most `elapsed` between the calls:
    # one token costs 0.5 s less that; had the timed-out call reserved a token, this one
    # would wait for two (1.0 s less that). Exact bounds, so a slow machine cannot fail it.
    assert 0.5 - elapsed - 0.001 <= wait <= 0.5 + 0.001


def test_bucket_key_lives_under_prefix_and_expires(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bucket = RedisTokenBucket(redis_client, rate=40, burst=40, key_prefix=redis_prefix, name="k1")

    bucket.acquire()

    assert bucket.key == f"{redis_prefix}:k1"
    assert redis_client.exists(bucket.key) and 0 < redis_client.pttl(bucket.key) <= 62_000


def test_two_threads_sharing_one_bucket_never_exceed_the_rate(redis_prefix: str) -> None:
    rate, burst, per_thread = 40.0, 4, 20
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        # Each thread has its own Redis connection and limiter object, like separate workers.
        client = redis.Redis.from_url(REDIS_URL)
        bucket = RedisTokenBucket(client, rate=rate, burst=burst, key_prefix=redis_prefix)
        for _ in range(per_thread):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    stamps.sort()
    total = 2 * per_thread
    assert len(stamps) == total
    assert stamps[-1] - started >= (total - burst) / rate * 0.95
    # In any interval, at most burst + rate * length acquisitions (small slack for clocks).
    for i, first in enumerate(stamps):
        for j in range(i, len(stamps)):
            assert j - i + 1 <= burst + rate * (stamps[j] - first) + 1


def test_client_takes_one_token_per_request(redis_client: redis.Redis, redis_prefix: str) -> None:
    bucket = RedisTokenBucket(redis_client, rate=0.01, burst=10, key_prefix=redis_prefix)
    with DevServer() as server, TmdbClient(server.base_url, rate_limiter=bucket) as tmdb:
        started = time.monotonic()
        tmdb.genres()
        tmdb.popular()
        elapsed = time.monotonic() - started

    # Two tokens taken; the refill between the two requests is 0.01 per second of Redis time.
    tokens = float(redis_client.hget(bucket.key, "tokens"))
    assert 8.0 - 1e-6 <= tokens <= 8.0 + 0.01 * elapsed + 1e-6


def test_invalid_settings_are_rejected(redis_client: redis.Redis, redis_prefix: str) -> None:
    with pytest.raises(ValueError):
        RedisTokenBucket(redis_client, rate=0, key_prefix=redis_prefix)
    with pytest.raises(ValueError):
        RedisTokenBucket(redis_client, burst=0, key_prefix=redis_prefix)
    bucket = RedisTokenBucket(redis_client, rate=1, burst=2, key_prefix=redis_prefix)
    with pytest.raises(ValueError):
        bucket.acquire(3)


def test_null_rate_limiter_never_waits() -> None:
    assert NullRateLimiter().acquire() == 0.0
