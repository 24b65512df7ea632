"""Rolling back a model (docs/operations.md, "Roll back a model") across web processes.

Two gunicorn masters share the database, Redis and the model directory, as two web hosts do.
``manage.py activate_model`` switches the served version; each process notices within
``RECS_VERSION_CHECK_SECONDS`` (the command publishes ``recs:active_version`` on commit) and
serves the other model's recommendations, and both report it in ``/metrics`` and ``/healthz``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from recs.engine.matrix import Interactions
from recs.models import ModelVersion
from tests.conftest import access_token_for
from tests.hardening.conftest import (
    ROOT,
    LiveServer,
    OwnRedis,
    server_env,
)
from tests.recs.conftest import GENRES, Planted, activate_new_model, all_interactions, planted  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RECS = "{ recommendations(first: 10) { movie { title } source } }"
CHECK_SECONDS = 1.0


@pytest.fixture
def models(settings: Any, tmp_path: Path) -> Path:
    """The models directory of the test settings under ``tmp_path`` (what the servers see)."""
    directory = tmp_path / f"test-models{os.environ.get('MOVIEREC_TEST_SUFFIX', '')}"
    settings.RECS_MODEL_DIR = directory
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(directory)},
        },
    }
    return tmp_path


def _shifted(planted: Planted) -> Interactions:  # noqa: F811
    """Every rating moved to the same-rank film of the next genre: a model that ranks the
    fans' films differently (serving folds in their real history, so the genre may stay)."""
    following = {}
    for g, name in enumerate(GENRES):
        nxt = planted.movies[GENRES[(g + 1) % len(GENRES)]]
        following.update({m.pk: nxt[i].pk for i, m in enumerate(planted.movies[name])})
    rows = all_interactions()
    items = rows.item_ids.copy()
    for i, item in enumerate(items.tolist()):
        items[i] = following[item]
    return Interactions.ratings(rows.user_ids, items, rows.scores, rows.timestamps)


@pytest.fixture
def servers(
    models: Path, test_database_url: str, own_redis: OwnRedis, tmp_path_factory: Any
) -> Iterator[tuple[list[LiveServer], dict[str, str]]]:
    """Two web processes with the production habit of checking the version every second."""
    check = {"RECS_VERSION_CHECK_SECONDS": str(CHECK_SECONDS)}
    env = server_env(own_redis.url, own_redis.broker_url, test_database_url, **check)
    env["RECS_MODEL_DIR"] = str(models)
    own_redis.flush()
    started = []
    try:
        for n in range(2):
            server = LiveServer(env, tmp_path_factory.mktemp(f"gunicorn-web{n}") / "server.log")
            server.start()
            started.append(server)
        yield started, env
    finally:
        for server in started:
            server.stop()


def _served(server: LiveServer, token: str) -> list[str]:
    body = server.graphql(RECS, token=token).json()
    assert "errors" not in body, body
    recs = body["data"]["recommendations"]
    assert {r["source"] for r in recs} == {"PERSONALIZED"}, recs
    return [r["movie"]["title"] for r in recs]


def _reported(server: LiveServer) -> tuple[int, int]:
    metrics = requests.get(f"{server.url}/metrics", timeout=10).text
    (gauge,) = re.findall(r"^movierec_model_active_version (\S+)$", metrics, re.M)
    health = requests.get(f"{server.url}/healthz", timeout=10).json()
    return int(float(gauge)), health["checks"]["model"]["version"]


def _activate(env: dict[str, str], version: ModelVersion) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "activate_model", str(version.pk)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_activate_model_switches_every_web_process(planted: Planted, models: Path, servers):  # noqa: F811
    web, env = servers
    older = activate_new_model(publish=False)
    newer = activate_new_model(_shifted(planted), publish=False)  # active; older retired
    fan = planted.users["Crime"][0]
    token = access_token_for(fan)

    served_newer = [_served(server, token) for server in web]
    assert served_newer[0] == served_newer[1]
    assert [_reported(server) for server in web] == [(newer.pk, newer.pk)] * 2

    out = _activate(env, older)
    assert out == f"activated v{older.pk} (was v{newer.pk})"
    assert ModelVersion.objects.get(pk=newer.pk).status == ModelVersion.Status.RETIRED

    for server in web:
        _until(lambda s=server: _served(s, token) != served_newer[0], 10 * CHECK_SECONDS, "v-old")
    served_older = [_served(server, token) for server in web]
    assert served_older[0] == served_older[1]
    # The older model learnt the real tastes: a Crime fan gets mostly Crime films again.
    assert sum(title.startswith("Crime") for title in served_older[0]) >= 6, served_older[0]
    assert [_reported(server) for server in web] == [(older.pk, older.pk)] * 2

    # And forward again: the same command undoes the rollback.
    _activate(env, newer)
    for server in web:
        _until(lambda s=server: _served(s, token) == served_newer[0], 10 * CHECK_SECONDS, "v-new")
    assert [_reported(server) for server in web] == [(newer.pk, newer.pk)] * 2
