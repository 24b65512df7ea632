"""`manage.py tune_model`: tune the hybrid; the winner becomes the training default."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number list: {text!r}") from None


def _flat(groups: list[list[float]] | None) -> list[float]:
    """Values of a list option: space- or comma-separated, accumulated over repeated flags."""
    return [v for group in groups or [] for v in group]


class Command(BaseCommand):
    help = (
        "Tune ALS, EASE and their blend on a validation split carved from the training part "
        "of the current data and store the winner as the default parameters for training "
        "(train_model also does this by itself when the data changed materially)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Values are comma- or space-separated, and repeated flags accumulate:
        # --factors 32,64 --factors 128 is --factors 32 64 128.
        for name, example in (("factors", "32,64,128"), ("regularization", "10,50,100"),
                              ("alpha", "1,5,20")):  # fmt: skip
            parser.add_argument(
                f"--{name}",
                type=_floats,
                nargs="+",
                action="extend",
                help=f"Values to try, e.g. {example} (repeatable).",
            )
        parser.add_argument("--max-trials", type=int, help="ALS grid points tried at most.")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        from recs import services
        from recs.engine.tune import ALS_GRID
        from recs.management.progress import rich_progress

        grid = dict(ALS_GRID)
        if options["factors"]:
            grid["factors"] = [int(v) for v in _flat(options["factors"])]
        for name in ("regularization", "alpha"):
            if options[name]:
                grid[name] = _flat(options[name])
        try:
            with rich_progress(options["verbosity"] > 0) as progress:
                run = services.recs_tune(
                    als_grid=grid, max_trials=options["max_trials"], progress=progress
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        for row in run.trials:
            values = {k: v for k, v in row.items() if k not in ("stage", "seconds")}
            self.stdout.write(f"{row['stage']:>5}  {values}  {row['seconds']:.1f}s")
        self.stdout.write(
            f"tuning run {run.pk}: {run.best_params} (validation {run.validation}, "
            f"{len(run.trials)} trials, {run.seconds:.1f}s); now the training default"
        )
