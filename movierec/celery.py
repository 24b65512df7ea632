"""The Celery app, configured from Django settings (``CELERY_*``), per Celery's Django guide."""

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "movierec.settings.local")

app = Celery("movierec")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Task modules live in the top-level ``tasks`` package (CELERY_IMPORTS lists them).


def task_by_name(name: str) -> Task:
    """A registered task by name, for code below ``tasks`` in the layering (no import of it).

    A worker imports ``CELERY_IMPORTS`` when it starts; a web process or command has not,
    so import them on the first miss, then look the task up.
    """
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]
