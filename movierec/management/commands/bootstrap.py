"""`manage.py bootstrap`: the one-shot first boot of a deployment (see movierec.bootstrap)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import Progress

from movierec.bootstrap import bootstrap_run


class Command(BaseCommand):
    help = (
        "First boot: sync genres and popular movies into an empty catalogue when TMDb "
        "credentials exist, then train a first model once there is feedback. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--pages", type=int, default=None, help="Popular pages (default TMDB_POPULAR_PAGES)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        pages = options["pages"] or settings.TMDB_POPULAR_PAGES
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("popular sync", total=None)
            summary = bootstrap_run(
                pages=pages,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        self.stdout.write(f"{summary} ({time.monotonic() - started:.1f}s)")
