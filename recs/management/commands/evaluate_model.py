"""`manage.py evaluate_model`: a version's recipe against popularity on fresh splits."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Re-run the training recipe of the active model (or --model-version) on fresh holdout "
        "splits of the current data and print popularity, ALS, EASE, the co-occurrence and "
        "the hybrid with the spread over seeds, plus the parameters and validation scores "
        "stored with the version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model-version", type=int, help="A version pk instead of the active one."
        )
        parser.add_argument("--seed", type=int, help="First split seed (default: a fresh one).")
        parser.add_argument("--seeds", type=int, default=1, help="How many splits (default 1).")

    def handle(self, *args: Any, **options: Any) -> None:
        import time

        from django.core.exceptions import ValidationError

        from recs import services
        from recs.management.format import spread_table
        from recs.management.progress import rich_progress
        from recs.models import ModelVersion

        version = None
        if options["model_version"] is not None:
            version = ModelVersion.objects.filter(pk=options["model_version"]).first()
            if version is None or not version.artifact_path:
                raise CommandError(f"no trained model v{options['model_version']}")
        first = options["seed"] if options["seed"] is not None else int(time.time()) % 1_000_000
        seeds = [first + i for i in range(max(1, options["seeds"]))]
        try:
            with rich_progress(options["verbosity"] > 0) as progress:
                result = services.recs_model_evaluate(
                    version=version, seeds=seeds, progress=progress
                )
        except ModelVersion.DoesNotExist as exc:
            raise CommandError("no active model: run `manage.py train_model` first") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        counts = result.data_counts
        self.stdout.write(
            f"model v{result.version.pk} ({result.version.status}) params "
            f"{result.version.params}; validation {result.version.validation}"
        )
        self.stdout.write(
            f"seeds {seeds} over {counts['interactions']} interactions "
            f"({counts['users']} users, {counts['movies']} movies); {result.seconds:.1f}s"
        )
        self.stdout.write(spread_table(result.rows))
        self.stdout.write(
            f"at training: ndcg@10 {result.version.metrics.get('ndcg@10', 0.0):.4f} vs "
            f"popularity {result.version.baseline_metrics.get('ndcg@10', 0.0):.4f}"
        )
