"""`manage.py evaluate_model`: the active model against popularity on a fresh split."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Print the metrics of the active model's recipe against the popularity baseline, "
        "recomputed on a fresh holdout split of the current data, with ratios."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model-version", type=int, help="A version pk instead of the active one."
        )
        parser.add_argument("--seed", type=int, help="Split seed (default: a fresh one).")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        from recs import services
        from recs.management.format import metrics_table
        from recs.management.progress import rich_progress
        from recs.models import ModelVersion

        version = None
        if options["model_version"] is not None:
            version = ModelVersion.objects.filter(pk=options["model_version"]).first()
            if version is None or not version.artifact_path:
                raise CommandError(f"no trained model v{options['version']}")
        try:
            with rich_progress(options["verbosity"] > 0) as progress:
                result = services.recs_model_evaluate(
                    version=version, seed=options["seed"], progress=progress
                )
        except ModelVersion.DoesNotExist as exc:
            raise CommandError("no active model: run `manage.py train_model` first") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        counts = result.data_counts
        self.stdout.write(
            f"model v{result.version.pk} ({result.version.status}) params "
            f"factors={result.version.params.get('factors')} "
            f"regularization={result.version.params.get('regularization')} "
            f"alpha={result.version.params.get('alpha')}; fresh split seed {result.seed} over "
            f"{counts['interactions']} interactions ({counts['users']} users, "
            f"{counts['movies']} movies); {result.seconds:.1f}s"
        )
        self.stdout.write(
            metrics_table(
                [(f"model v{result.version.pk}", result.model), ("popularity", result.baseline)]
            )
        )
        self.stdout.write(
            f"at training: ndcg@10 {result.version.metrics.get('ndcg@10', 0.0):.4f} vs "
            f"popularity {result.version.baseline_metrics.get('ndcg@10', 0.0):.4f}"
        )
