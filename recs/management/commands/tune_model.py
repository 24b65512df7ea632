"""`manage.py tune_model`: grid search; the winner becomes the training default."""

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
        "Grid-search ALS factors/regularization/alpha on a validation split of the current "
        "data and store the winner as the default parameters for training."
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
        parser.add_argument("--max-trials", type=int, default=24)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        from recs import services
        from recs.engine.tune import DEFAULT_GRID
        from recs.management.progress import rich_progress

        grid = dict(DEFAULT_GRID)
        if options["factors"]:
            grid["factors"] = [int(v) for v in _flat(options["factors"])]
        for name in ("regularization", "alpha"):
            if options[name]:
                grid[name] = _flat(options[name])
        try:
            with rich_progress(options["verbosity"] > 0) as progress:
                run = services.recs_tune(
                    grid=grid, max_trials=options["max_trials"], progress=progress
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        for row in sorted(run.trials, key=lambda r: -r["ndcg"]):
            self.stdout.write(
                f"factors {row['factors']:>4}  reg {row['regularization']:>8g}  "
                f"alpha {row['alpha']:>5g}  ndcg@10 {row['ndcg']:.4f}  {row['seconds']:.1f}s"
            )
        best = run.best_params
        self.stdout.write(
            f"tuning run {run.pk}: best factors={best['factors']} "
            f"regularization={best['regularization']} alpha={best['alpha']} "
            f"(validation ndcg@10 {run.best_ndcg:.4f}, {len(run.trials)} trials, "
            f"{run.seconds:.1f}s); now the training default"
        )
