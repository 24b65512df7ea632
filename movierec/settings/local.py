"""Developer settings: debug on, embedded PostgreSQL/Redis when no URLs are given."""

from movierec.embedded import ensure_env

ensure_env()

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = env.bool("DEBUG", default=True)

# Front-end dev servers (Vite, Next.js/CRA, Angular) may call the API; CORS_ALLOWED_ORIGINS adds.
CORS_ALLOWED_ORIGINS = [
    *env.list("CORS_ALLOWED_ORIGINS", default=[]),
    *(
        f"http://{host}:{port}"
        for host in ("localhost", "127.0.0.1")
        for port in (3000, 4200, 5173)
    ),
]

# `make run` serves plain http: a Secure refresh cookie would never be sent back.
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=False)

# Password-reset mails are printed by `runserver`/`make run` unless EMAIL_BACKEND says otherwise.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
