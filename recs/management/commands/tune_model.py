"""`manage.py tune_model`: grid search; the winner becomes the training default."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


class Command(BaseCommand):
    help = (
        "Grid-search ALS factors/regularization/alpha on a validation split of the current "
        "data and store the winner as the default parameters for training."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--factors", help="Comma-separated values, e.g. 32,64,128.")
        parser.add_argument("--regularization", help="Comma-separated values, e.g. 10,50,100.")
        parser.add_argument("--alpha", help="Comma-separated values, e.g. 1,5,20.")
        parser.add_argument("--max-trials", type=int, default=24)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        from recs import services
        from recs.engine.tune import DEFAULT_GRID
        from recs.management.progress import rich_progress

        grid = dict(DEFAULT_GRID)
        if options["factors"]:
            grid["factors"] = [int(v) for v in _floats(options["factors"])]
        for name in ("regularization", "alpha"):
            if options[name]:
                grid[name] = _floats(options[name])
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
