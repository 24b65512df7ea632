"""Production settings refuse unsafe configuration and pass Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from movierec.settings.base import DEV_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 20 + "-a-long-random-production-secret-0123456789"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "movierec.settings.production",
        "ALLOWED_HOSTS": "api.example.com",
        **env,
    }
    full_env.pop("DEBUG", None) if "DEBUG" not in env else None
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("key", [DEV_SECRET_KEY, "", "short-but-not-default"])
def test_production_refuses_the_default_or_a_weak_secret_key(key):
    result = _manage("check", SECRET_KEY=key)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_debug():
    result = _manage("check", SECRET_KEY=STRONG_KEY, DEBUG="true")
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=STRONG_KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
