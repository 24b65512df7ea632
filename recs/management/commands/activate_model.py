"""`manage.py activate_model PK`: serve a given model version (rollback or override)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Make a ready, retired or rejected model version the active one (a rollback). The "
        "artifact is verified first; serving processes reload within RECS_VERSION_CHECK_SECONDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", type=int, help="The ModelVersion pk to serve.")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        from recs import services
        from recs.models import ModelVersion

        try:
            version = ModelVersion.objects.get(pk=options["version"])
        except ModelVersion.DoesNotExist as exc:
            raise CommandError(f"no model version {options['version']}") from exc
        previous = services.recs_model_active()
        try:
            version = services.recs_model_activate(version)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        before = f"v{previous.pk}" if previous else "the popularity fallback"
        self.stdout.write(f"activated v{version.pk} (was {before})")
