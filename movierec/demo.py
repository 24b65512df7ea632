"""The demo data behind `make run`: a catalogue, demo users with real taste, a first model.

Idempotent: a second start finds everything in place and returns at once.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TextIO

from django.db import transaction

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"

#: Size of the demo catalogue served by the TMDb dev server, and the popular pages synced from it.
DEV_TMDB_MOVIES = 3000
DEV_TMDB_SEED = 42
DEMO_POPULAR_PAGES = 150  # 20 movies a page: the whole dev catalogue


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tmdb_devserver_start(
    *, movies: int = DEV_TMDB_MOVIES, seed: int = DEV_TMDB_SEED, timeout: float = 30.0
) -> tuple[subprocess.Popen, str]:
    """Start the TMDb dev server as a subprocess on a free port; return it and its API root.

    Used by ``runstack`` when no TMDb credentials are configured, so the demo, the worker and
    beat all sync from a local, deterministic TMDb.
    """
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.tmdb_devserver", "--port", str(port),
         "--movies", str(movies), "--seed", str(seed)],
        stdout=subprocess.DEVNULL,
        process_group=0,  # runstack stops it with its group; Ctrl-C is not sent to it directly
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/3"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"TMDb dev server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/configuration", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"TMDb dev server did not answer at {url} within {timeout:.0f}s")


def devserver_image_base(api_url: str) -> str:
    """The dev server's placeholder-poster root for its API root (``.../3`` -> ``.../t/p/``),
    the value of ``TMDB_IMAGE_BASE_URL`` in demo mode so poster URLs load."""
    return api_url.rstrip("/").removesuffix("/3") + "/t/p/"


@dataclass
class DemoSummary:
    created: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "demo data: " + (", ".join(self.created) if self.created else "already in place")


def demo_catalogue_seed(
    *, pages: int = DEMO_POPULAR_PAGES, progress: Callable[[int, int], None] | None = None
) -> int:
    """Fill an empty catalogue by a real sync from TMDB_API_URL: genres, then the popular
    pages with every movie in full. Returns the movies created (0 when another run held the
    lock or everything was already there)."""
    from movies import services
    from movies.sync import jobs

    client = services.tmdb_client_from_settings()
    jobs.genres_sync(client=client)
    run = jobs.popular_sync(pages=pages, client=client, progress=progress)
    return run.created


@transaction.atomic
def demo_user_ensure() -> bool:
    from movies.selectors import movie_ids_by_tmdb_ids
    from ratings.services import feedback_bulk_create
    from users.services import user_ensure

    user, created = user_ensure(
        username=DEMO_USERNAME, email="demo@movierec.local", password=DEMO_PASSWORD
    )
    if created:
        movie_ids = movie_ids_by_tmdb_ids([238, 949, 680]).values()
        feedback_bulk_create(
            ratings=[(user.pk, movie_id, Decimal("5.0")) for movie_id in movie_ids],
            ignore_conflicts=True,
        )
    return created


def demo_ensure(out: TextIO | None = None) -> DemoSummary:
    from movies.selectors import movie_count

    summary = DemoSummary()
    if not movie_count():
        from rich.console import Console
        from rich.progress import Progress

        started = time.monotonic()
        with Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task("demo catalogue", total=None)
            created = demo_catalogue_seed(
                progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
        summary.created.append(f"{created} movies synced in {time.monotonic() - started:.1f}s")
    if demo_user_ensure():
        summary.created.append(f"user {DEMO_USERNAME}")
    from recs.demo import demo_model_ensure, demo_users_seed

    if seeded := demo_users_seed():
        summary.created.append(f"{seeded} demo users with ratings")
    if version := demo_model_ensure():
        summary.created.append(
            f"model v{version.pk} ({version.metrics.get('ndcg@10', 0):.3f} ndcg@10)"
        )
    return summary
