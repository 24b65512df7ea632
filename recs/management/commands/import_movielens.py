"""`manage.py import_movielens --ratings F [--movies F] [--links F]`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Import MovieLens CSVs (ml-latest-small layout): users ml_<id>, movies matched by "
        "TMDb id or title + year, ratings upserted by (user, movie). Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ratings", required=True, type=Path, help="ratings.csv")
        parser.add_argument("--movies", type=Path, help="movies.csv (titles and genres)")
        parser.add_argument("--links", type=Path, help="links.csv (imdbId, tmdbId)")

    def handle(self, *args: Any, **options: Any) -> None:
        from recs.management.progress import rich_progress
        from recs.movielens import movielens_import

        for name in ("ratings", "movies", "links"):
            path = options[name]
            if path is not None and not path.is_file():
                raise CommandError(f"--{name}: no such file {path}")
        started = time.perf_counter()
        try:
            with rich_progress(options["verbosity"] > 0) as progress:
                result = movielens_import(
                    ratings=options["ratings"],
                    movies=options["movies"],
                    links=options["links"],
                    progress=progress,
                )
        except (KeyError, ValueError) as exc:
            raise CommandError(f"malformed MovieLens file: {exc!r}") from exc
        self.stdout.write(f"imported in {time.perf_counter() - started:.1f}s: {result}")
