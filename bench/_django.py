"""Django in a throwaway database for the DB benchmarks: created, migrated, dropped."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def throwaway_database(name: str) -> Iterator[None]:
    """Set up Django (test settings, real PostgreSQL/Redis) on a fresh database ``name``."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "movierec.settings.test")
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection

    # The suffix keeps a smoke run in the test suite off a benchmark running at the same time.
    settings.DATABASES["default"]["TEST"]["NAME"] = name + os.environ.get(
        "MOVIEREC_TEST_SUFFIX", ""
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
