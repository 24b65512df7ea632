"""`manage.py train_model [--async] [--tune]`: train, evaluate, activate if the gate passes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from movierec.outbox import outbox_enqueue, outbox_waiting

TRAIN_TASK = "tasks.training.recs_model_train"


class Command(BaseCommand):
    help = (
        "Train the hybrid (ALS + EASE) on every interaction, re-tuning first when the data "
        "changed materially since the last tuning, evaluate it against the popularity "
        "baseline and activate it if it passes the promotion gate (here unless --async)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--async", action="store_true", dest="run_async", help="Enqueue on the ml queue."
        )
        parser.add_argument(
            "--tune",
            action="store_true",
            help="Re-tune hyper-parameters first even if the data did not change (slower).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        from recs import services
        from recs.management.format import version_summary
        from recs.management.progress import rich_progress

        if options["run_async"]:
            # Through the outbox (a broker outage keeps the request for beat's catch-up), and by
            # name: recs does not import the tasks package that wraps it.
            task_id = outbox_enqueue(TRAIN_TASK, kwargs={"tune": options["tune"]})
            if outbox_waiting([task_id]):
                self.stdout.write(
                    f"training task {task_id} waits in the outbox (broker unreachable); "
                    "beat's outbox-flush sends it once the broker answers"
                )
            else:
                self.stdout.write(f"queued training task {task_id} on the ml queue")
            return
        with rich_progress(options["verbosity"] > 0) as progress:
            try:
                version = services.recs_model_train(tune=options["tune"], progress=progress)
            except services.TrainingLocked as exc:
                raise CommandError("another training is running (lock held); nothing done") from exc
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(version_summary(version))
        if version.validation:
            self.stdout.write(f"tuning: {version.params} validation {version.validation}")
        if version.note:
            self.stdout.write(f"gate: {version.note}")
