"""`manage.py train_model [--async] [--tune]`: train, evaluate, activate if the gate passes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from movierec.celery import task_by_name
from movierec.locks import job_lock


class Command(BaseCommand):
    help = (
        "Train an ALS model on every interaction, evaluate it against the popularity baseline "
        "and activate it if it passes the promotion gate (in this process unless --async)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--async", action="store_true", dest="run_async", help="Enqueue on the ml queue."
        )
        parser.add_argument(
            "--tune", action="store_true", help="Grid-search hyper-parameters first (slower)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        from recs import services
        from recs.management.format import version_summary
        from recs.management.progress import rich_progress

        if options["run_async"]:
            # By name: recs does not import the tasks package that wraps it.
            result = task_by_name("tasks.training.recs_model_train").delay(tune=options["tune"])
            self.stdout.write(f"queued training task {result.id} on the ml queue")
            return
        with job_lock(services.TRAIN_LOCK, timeout=settings.RECS_TRAIN_LOCK_TIMEOUT) as mine:
            if not mine:
                raise CommandError("another training is running (lock held); nothing done")
            with rich_progress(options["verbosity"] > 0) as progress:
                try:
                    version = services.recs_model_train_and_promote(
                        tune=options["tune"], progress=progress
                    )
                except ValidationError as exc:
                    raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(version_summary(version))
        if version.note:
            self.stdout.write(f"gate: {version.note}")
