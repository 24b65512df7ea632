"""Benchmark the TMDb sync: movies ingested per second into PostgreSQL from the dev server.

    python bench/sync.py [--movies 5000] [--limited-movies 600] [--rate 50] [--workers N]

1. No rate limit: a full popular sync of the whole dev catalogue into an empty database
   (target: >= 500 movies/s on 2 cores), then the same sync again (everything unchanged).
2. With the shared Redis token bucket at ``--rate`` requests/s (burst 1, so nothing is
   borrowed from an initial burst): the request rate sustained (target: >= 90% of the limit);
   the dev server enforces the same limit and its 429 count shows any overshoot.
3. With ``--workers N``: the same fresh sync into the emptied database through the production
   path, ``tasks.sync.popular_sync`` fanning chunks out to N real Celery worker processes
   (solo pool, ``sync`` queue), timed from enqueueing to the run's close.

The dev server runs as a subprocess (its own interpreter, as TMDb would be remote). The sync
runs in this process, exactly as ``sync_tmdb`` does, into a throwaway database that is
created and dropped here (``test_movierec<suffix>_bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "movierec.settings.test"
os.environ["MOVIEREC_TEST_SUFFIX"] = os.environ.get("MOVIEREC_TEST_SUFFIX", "") + "_bench"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _devserver(movies: int, seed: int, rate: float | None = None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "tools.tmdb_devserver", "--port", str(port),
           "--movies", str(movies), "--seed", str(seed)]  # fmt: skip
    if rate:
        cmd += ["--rate-limit", str(rate)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/_dev/stats", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("dev server did not start")


def _workers_sync(count: int, movies: int, db_name: str) -> tuple[float, object]:
    """Fresh sync of ``movies`` through ``count`` Celery workers; (seconds, the SyncRun)."""
    from django.conf import settings
    from django.db import connection

    from movierec.celery import app
    from movies.models import Genre, Keyword, Movie, Person, SyncRun
    from tasks import sync as sync_tasks

    with connection.cursor() as cursor:
        tables = ", ".join(m._meta.db_table for m in (Movie, Person, Keyword, Genre, SyncRun))
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    proc, root = _devserver(movies, seed=42)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    env = {
        **os.environ,
        "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + db_name,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TMDB_API_URL": f"{root}/3",
        "TMDB_RATE_LIMIT": "0",
    }
    app.control.purge()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "movierec",
                "worker",
                "--pool",
                "solo",
                "-Q",
                "sync",
                "-n",
                f"bench{i}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for i in range(count)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5)) < count:
            if time.monotonic() > deadline:
                raise SystemExit("workers did not start")
        started = time.perf_counter()
        result = sync_tasks.popular_sync.apply_async(kwargs={"pages": -(-movies // 20)})
        while True:
            run = SyncRun.objects.filter(task_id=result.id).first()
            if run is not None and run.status != SyncRun.Status.RUNNING:
                return time.perf_counter() - started, run
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        proc.terminate()
        proc.wait(10)


def _stats(root: str) -> dict:
    with urllib.request.urlopen(f"{root}/_dev/stats", timeout=5) as response:
        return json.load(response)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--movies", type=int, default=5000)
    parser.add_argument("--limited-movies", type=int, default=600)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=0, help="also sync through N workers")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from movies import services
    from movies.models import Movie
    from movies.sync import jobs

    old_name = connection.settings_dict["NAME"]
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    print(
        f"bench/sync.py: {os.cpu_count()} cores, PostgreSQL {connection.pg_version}, "
        f"chunk {settings.TMDB_SYNC_CHUNK_SIZE}, {settings.TMDB_SYNC_THREADS} fetch threads"
    )
    try:
        # 1. unlimited
        proc, root = _devserver(args.movies, seed=42)
        try:
            settings.TMDB_API_URL, settings.TMDB_RATE_LIMIT = f"{root}/3", 0
            client = services.tmdb_client_from_settings()
            pages = -(-args.movies // 20)
            started = time.perf_counter()
            run = jobs.popular_sync(pages=pages, client=client)
            first = time.perf_counter() - started
            started = time.perf_counter()
            again = jobs.popular_sync(pages=pages, client=client)
            second = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(10)
        assert Movie.objects.count() == args.movies == run.created, (run.created, run.status)
        assert again.unchanged == args.movies
        rate_first = run.created / first
        rate_second = again.unchanged / second
        print(
            f"unlimited, empty database: {run.created} movies created in {first:.2f}s "
            f"= {rate_first:.0f} movies/s (target 500: ratio {rate_first / 500:.2f})"
        )
        print(
            f"unlimited, second run:     {again.unchanged} movies unchanged in {second:.2f}s "
            f"= {rate_second:.0f} movies/s"
        )

        # 2. rate limited: our Redis bucket at --rate, the server enforcing the same limit
        proc, root = _devserver(args.limited_movies, seed=43, rate=args.rate)
        try:
            settings.TMDB_API_URL, settings.TMDB_RATE_LIMIT = f"{root}/3", args.rate
            settings.TMDB_RATE_BURST = 1
            client = services.tmdb_client_from_settings()
            time.sleep(1.5)  # let the server's bucket fill, as after any idle second
            pages = -(-args.limited_movies // 20)
            started = time.perf_counter()
            limited = jobs.popular_sync(pages=pages, client=client)
            elapsed = time.perf_counter() - started
            server = _stats(root)
        finally:
            proc.terminate()
            proc.wait(10)
        requests = client.stats.requests
        achieved = requests / elapsed
        stored = limited.created + limited.updated + limited.unchanged
        too_many = server["by_status"].get("429", 0)
        print(
            f"limited to {args.rate:.0f} req/s: {requests} requests ({stored} movies) in "
            f"{elapsed:.2f}s = {achieved:.1f} req/s sustained, {achieved / args.rate:.0%} of "
            f"the limit (target 90%); server answered 429 {too_many} times"
        )

        # 3. the production path: Celery workers
        if args.workers:
            elapsed, run = _workers_sync(args.workers, args.movies, db_name)
            assert run.created == args.movies and run.status == "succeeded", run.status
            print(
                f"{args.workers} Celery workers, empty database: {run.created} movies created "
                f"in {elapsed:.2f}s = {run.created / elapsed:.0f} movies/s"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
