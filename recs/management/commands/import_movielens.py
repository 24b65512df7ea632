"""`manage.py import_movielens [DIR] [--ratings F] [--movies F] [--links F]`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from psycopg import Error as PsycopgError


class Command(BaseCommand):
    help = (
        "Import a MovieLens release (ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-latest; the "
        "layout is detected) from its directory or from named files: users ml_<id>, movies "
        "matched by TMDb id or title + year, ratings upserted by (user, movie). Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", nargs="?", type=Path, help="an unpacked release")
        parser.add_argument("--ratings", type=Path, help="u.data, ratings.dat or ratings.csv")
        parser.add_argument("--movies", type=Path, help="u.item, movies.dat or movies.csv")
        parser.add_argument("--links", type=Path, help="links.csv (imdbId, tmdbId)")

    def handle(self, *args: Any, **options: Any) -> None:
        from recs.management.progress import rich_progress
        from recs.movielens import (
            MovieLensFormatError,
            movielens_files,
            movielens_files_detect,
            movielens_import,
        )

        directory, ratings = options["directory"], options["ratings"]
        if (directory is None) == (ratings is None):
            raise CommandError("give a release directory or --ratings (not both)")
        started = time.perf_counter()
        try:
            if directory is not None:
                files = movielens_files_detect(directory)
            else:
                files = movielens_files(
                    ratings=ratings, movies=options["movies"], links=options["links"]
                )
            with rich_progress(options["verbosity"] > 0) as progress:
                result = movielens_import(files, progress=progress)
        except MovieLensFormatError as exc:
            raise CommandError(f"malformed MovieLens file: {exc}") from exc
        except (KeyError, ValueError, IndexError, DatabaseError, PsycopgError) as exc:
            raise CommandError(f"malformed MovieLens file: {exc}") from exc
        stages = " ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
        self.stdout.write(f"imported in {time.perf_counter() - started:.1f}s ({stages}): {result}")
