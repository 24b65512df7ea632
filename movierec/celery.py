"""The Celery app, configured from Django settings (``CELERY_*``), per Celery's Django guide."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "movierec.settings.local")

app = Celery("movierec")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Task modules live in the top-level ``tasks`` package (CELERY_IMPORTS lists them).
