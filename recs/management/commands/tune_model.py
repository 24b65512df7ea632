"""`manage.py tune_model`: tune the hybrid; the winner becomes the training default."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Tune ALS, EASE and their blend on a validation split carved from the training part "
        "of the current data and store the winner as the default parameters for training "
        "(train_model also does this by itself when the data changed materially)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-trials", type=int, help="ALS grid points tried at most.")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        from recs import services
        from recs.management.progress import rich_progress

        try:
            with rich_progress(options["verbosity"] > 0) as progress:
                run = services.recs_tune(max_trials=options["max_trials"], progress=progress)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        for row in run.trials:
            values = {k: v for k, v in row.items() if k not in ("stage", "seconds")}
            self.stdout.write(f"{row['stage']:>5}  {values}  {row['seconds']:.1f}s")
        self.stdout.write(
            f"tuning run {run.pk}: {run.best_params} (validation {run.validation}, "
            f"{len(run.trials)} trials, {run.seconds:.1f}s); now the training default"
        )
