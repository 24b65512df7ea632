"""Whether the configured TMDb can be called: TMDb itself refuses anonymous requests."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

#: The dev server's documented port (docs/sync.md), used in the hints below.
DEVSERVER_PORT = 8765
DEVSERVER_HINT = (
    "Without credentials, sync from the bundled TMDb dev server instead. Start it in another "
    "terminal:\n"
    "    python -m tools.tmdb_devserver --port {port}\n"
    "then point at it:\n"
    "    TMDB_API_URL=http://127.0.0.1:{port}/3 python manage.py {command}\n"
    "(`make run` does both by itself.)"
)


def tmdb_credentials_missing() -> bool:
    """True when TMDB_API_URL is TMDb itself and no token or key is set. The dev server, or
    another TMDb-compatible server given in TMDB_API_URL, may need none."""
    anonymous = not (settings.TMDB_READ_TOKEN or settings.TMDB_API_KEY)
    return anonymous and urlsplit(settings.TMDB_API_URL).hostname == "api.themoviedb.org"


def tmdb_credentials_hint(command: str) -> str:
    """What to do about missing credentials, with the dev server command for ``command``."""
    return (
        f"No TMDb credentials configured: set TMDB_READ_TOKEN (or TMDB_API_KEY) to sync from "
        f"{settings.TMDB_API_URL}.\n" + DEVSERVER_HINT.format(port=DEVSERVER_PORT, command=command)
    )
