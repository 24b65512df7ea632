"""Production: base settings, hardened. Refuses to start with an unsafe configuration."""

import structlog
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env("SECRET_KEY", default=env("DJANGO_SECRET_KEY", default=""))
if not SECRET_KEY or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters.")
if DEBUG:  # noqa: F405
    raise ImproperlyConfigured("DEBUG must be off in production.")

# Attack surface: no schema introspection, no field-name hints (schema.graphql is published).
GRAPHQL_INTROSPECTION = env.bool("GRAPHQL_INTROSPECTION", default=False)
GRAPHQL_SUGGESTIONS = env.bool("GRAPHQL_SUGGESTIONS", default=False)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
LOG_JSON = True
LOGGING["formatters"]["structlog"]["processor"] = structlog.processors.JSONRenderer()  # noqa: F405
