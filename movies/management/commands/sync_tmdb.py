"""``sync_tmdb``: run TMDb sync jobs now, in this process, or enqueue them with ``--async``."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from movierec.outbox import outbox_waiting
from movies import services
from movies.models import SyncRun
from movies.sync import runs as sync_runs
from movies.sync.jobs import DISCOVER_FILTERS, sync_enqueue, sync_job_run
from movies.tmdb_access import tmdb_credentials_hint, tmdb_credentials_missing


class Command(BaseCommand):
    help = (
        "Sync movie metadata from TMDb (TMDB_API_URL) now, or enqueue the jobs with --async. "
        "--all runs genres, trending (day and week), popular and changes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--genres", action="store_true", help="Sync the genre list.")
        parser.add_argument("--trending", action="store_true", help="Trending, day and week.")
        parser.add_argument("--popular", action="store_true", help="Popular movies in full.")
        # List options take space-separated values and accumulate when repeated:
        # --movie 550 87421 and --movie 550 --movie 87421 are the same.
        parser.add_argument(
            "--discover",
            nargs="*",
            action="extend",
            default=None,
            metavar="FILTER=VALUE",
            help="Discover pages in full, e.g. --discover with_genres=28 year=1999 (repeatable).",
        )
        parser.add_argument(
            "--pages",
            type=int,
            default=None,
            help="Popular/discover pages (default TMDB_POPULAR_PAGES).",
        )
        parser.add_argument(
            "--movie",
            type=int,
            nargs="+",
            action="extend",
            default=[],
            metavar="TMDB_ID",
            help="Movies in full (repeatable).",
        )
        parser.add_argument("--changes", action="store_true", help="Incremental (/movie/changes).")
        parser.add_argument(
            "--stale", type=int, default=None, metavar="DAYS", help="Refresh movies older than N."
        )
        parser.add_argument(
            "--all", action="store_true", help="Genres, trending, popular and changes."
        )
        parser.add_argument("--async", action="store_true", dest="run_async", help="Enqueue.")
        parser.add_argument("--dry-run", action="store_true", help="List the jobs, run nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        kinds: list[str] = []
        if options["genres"] or options["all"]:
            kinds.append(sync_runs.KIND_GENRES)
        if options["trending"] or options["all"]:
            kinds += [sync_runs.KIND_TRENDING_DAY, sync_runs.KIND_TRENDING_WEEK]
        if options["popular"] or options["all"]:
            kinds.append(sync_runs.KIND_POPULAR)
        if options["discover"] is not None:
            kinds.append(sync_runs.KIND_DISCOVER)
            options["filters"] = self._filters(options["discover"])
        if options["changes"] or options["all"]:
            kinds.append(sync_runs.KIND_CHANGES)
        if options["stale"] is not None:
            kinds.append(sync_runs.KIND_STALE)
        movie_ids: list[int] = options["movie"]
        if options["pages"] is not None and not 1 <= options["pages"] <= 500:
            raise CommandError("--pages must be between 1 and 500.")
        if any(tmdb_id < 1 for tmdb_id in movie_ids):
            raise CommandError("TMDb ids are positive integers.")
        if not kinds and not movie_ids:
            raise CommandError(
                "Nothing to do: give --genres, --trending, --popular, --discover, --movie, "
                "--changes, --stale or --all."
            )
        jobs = kinds + [f"movie {tmdb_id}" for tmdb_id in movie_ids]
        if options["dry_run"]:
            self.stdout.write(f"would sync against {settings.TMDB_API_URL}: {', '.join(jobs)}")
            return
        if tmdb_credentials_missing():
            args = " ".join(sys.argv[2:]) if sys.argv[1:2] == ["sync_tmdb"] else ""
            raise CommandError(tmdb_credentials_hint(f"sync_tmdb {args or '--all'}"))
        if options["run_async"]:
            self._enqueue(kinds, movie_ids, options)
        else:
            self._run(kinds, movie_ids, options)

    def _enqueue(self, kinds: list[str], movie_ids: list[int], options: dict[str, Any]) -> None:
        try:
            enqueued = sync_enqueue(
                kinds=kinds,
                tmdb_ids=movie_ids,
                pages=options["pages"],
                days=options["stale"],
                filters=options.get("filters"),
            )
        except ValidationError as exc:
            raise CommandError(str(exc)) from exc
        waiting = outbox_waiting(job.task_id for job in enqueued)
        for job in enqueued:
            label = f"{job.kind} {job.tmdb_id}" if job.tmdb_id else job.kind
            where = "waits in the outbox" if job.task_id in waiting else "enqueued"
            self.stdout.write(f"{where} {label}: task {job.task_id}")
        if waiting:
            self.stdout.write(
                f"sync_tmdb: {len(enqueued) - len(waiting)} jobs on the sync queue, {len(waiting)} "
                "waiting in the outbox (broker unreachable); beat's outbox-flush sends them later"
            )
        else:
            self.stdout.write(f"sync_tmdb: enqueued {len(enqueued)} jobs on the sync queue")

    def _run(self, kinds: list[str], movie_ids: list[int], options: dict[str, Any]) -> None:
        started = time.monotonic()
        client = services.tmdb_client_from_settings()
        job_options = {
            "pages": options["pages"],
            "filters": options.get("filters"),
            "days": options["stale"],
        }
        jobs: list[tuple[str, str, dict[str, Any]]] = [(kind, kind, job_options) for kind in kinds]
        jobs += [(f"movie {t}", sync_runs.KIND_MOVIE, {"tmdb_id": t}) for t in movie_ids]
        runs: list[SyncRun] = []
        with Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),  # stdout keeps the summary lines
        ) as bar:
            for label, kind, job_options in jobs:
                task = bar.add_task(label, total=None)

                def progress(done: int, total: int, task: Any = task) -> None:
                    bar.update(task, completed=done, total=total)

                try:
                    run = sync_job_run(kind, options=job_options, client=client, progress=progress)
                except Exception as exc:
                    raise CommandError(f"{label} failed: {exc}") from exc
                runs.append(run)
                self.stdout.write(self._line(label, run))
        created = sum(r.created for r in runs)
        updated = sum(r.updated for r in runs)
        unchanged = sum(r.unchanged for r in runs)
        failed = sum(r.failed for r in runs)
        skipped = sum(r.status == SyncRun.Status.SKIPPED for r in runs)
        self.stdout.write(
            f"sync_tmdb: {len(runs)} jobs ({skipped} skipped), {created} created, "
            f"{updated} updated, {unchanged} unchanged, {failed} failed, "
            f"{client.stats.requests} requests in {time.monotonic() - started:.1f}s"
        )

    @staticmethod
    def _filters(pairs: list[str]) -> dict[str, str]:
        filters = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key or not value:
                raise CommandError(f"--discover takes FILTER=VALUE pairs, got {pair!r}.")
            filters[key] = value
        unknown = sorted(set(filters) - DISCOVER_FILTERS)
        if unknown:
            raise CommandError(f"Unknown discover filter(s): {', '.join(unknown)}.")
        return filters

    @staticmethod
    def _line(label: str, run: SyncRun) -> str:
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        return (
            f"{label}: {run.status}, {run.created} created, {run.updated} updated, "
            f"{run.unchanged} unchanged, {run.failed} failed in {seconds:.1f}s"
        )
