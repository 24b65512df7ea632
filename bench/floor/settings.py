"""Minimal Django settings for the floor endpoint (``bench.floor.urls``)."""

SECRET_KEY = "bench-floor-not-a-secret-0123456789-0123456789-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.floor.urls"
INSTALLED_APPS = ["graphene_django"]
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
GRAPHENE = {"SCHEMA": "bench.floor.urls.schema"}
