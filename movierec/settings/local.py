"""Developer settings: debug on, embedded PostgreSQL/Redis when no URLs are given."""

from movierec.embedded import ensure_env

ensure_env()

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = env.bool("DEBUG", default=True)
