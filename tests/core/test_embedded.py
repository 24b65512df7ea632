"""The embedded PostgreSQL and Redis start, serve, are reused and stop cleanly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_embedded_services_start_serve_and_stop(tmp_path_factory):
    data_dir = Path("/tmp") / f"mr-emb-{os.getpid()}"  # short: Unix socket paths are limited
    env = {**os.environ, "MOVIEREC_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    probe = (
        "import os, psycopg, redis, environ, urllib.parse;"
        "cfg = environ.Env.db_url_config(os.environ['DATABASE_URL']);"
        "c = psycopg.connect(host=urllib.parse.unquote(cfg['HOST']), user=cfg['USER'],"
        " dbname=cfg['NAME']);"
        "print('pg', c.execute('select 1').fetchone()[0]);"
        "r = redis.Redis.from_url(os.environ['REDIS_URL']); r.set('k', 'v');"
        "print('redis', r.get('k').decode())"
    )
    try:
        first = subprocess.run(
            [sys.executable, "-m", "movierec.embedded", "exec", "--", sys.executable, "-c", probe],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert first.returncode == 0, first.stdout + first.stderr
        assert "pg 1" in first.stdout and "redis v" in first.stdout
        assert "embedded services started: postgres, redis" in first.stdout
        assert "embedded services stopped" in first.stdout
        assert (data_dir / "postgres" / "PG_VERSION").exists()

        status = subprocess.run(
            [sys.executable, "-m", "movierec.embedded", "status"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert "postgres: stopped" in status.stdout and "redis:    stopped" in status.stdout

        # A second start reuses the data directory (no initdb) and the Redis snapshot.
        second = subprocess.run(
            [sys.executable, "-m", "movierec.embedded", "exec", "--", sys.executable, "-c",
             probe.replace("r.set('k', 'v');", "")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode == 0, second.stdout + second.stderr
        assert "redis v" in second.stdout
    finally:
        subprocess.run(
            [sys.executable, "-m", "movierec.embedded", "wipe"], cwd=ROOT, env=env, timeout=60
        )
