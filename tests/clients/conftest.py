"""Run the client examples of docs/clients.md (tools/clients/) against a live server.

The JavaScript ones need Node.js and ``make test``'s ``npm ci`` of tools/clients (a lockfile);
without them the tests fail with a message saying so, never skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD, UserFactory
from users.tokens import RefreshToken

CLIENTS = Path(__file__).resolve().parents[2] / "tools" / "clients"


def expired_access_for(user: Any) -> str:
    access = RefreshToken.for_user(user).access_token
    access.set_exp(lifetime=timedelta(seconds=-5))
    return str(access)


@pytest.fixture
def member(transactional_db: Any) -> Any:
    return UserFactory(username="morpheus")


def node_installed() -> str:
    """The ``node`` executable, once tools/clients' packages are installed (else a failure)."""
    node = shutil.which("node")
    if node is None or not (CLIENTS / "node_modules" / ".installed").exists():
        pytest.fail("Node.js and tools/clients/node_modules are needed: run `make test`.")
    return node


@pytest.fixture
def run_node(live_server: Any, member: Any) -> Any:
    """``run_node("run_apollo.mjs")`` -> the JSON the driver printed."""
    node = node_installed()
    env = {
        **os.environ,
        "API_URL": f"{live_server.url}/graphql/",
        "API_USERNAME": member.username,
        "API_PASSWORD": PASSWORD,
        "EXPIRED_ACCESS": expired_access_for(member),
    }

    def run(script: str) -> dict:
        done = subprocess.run(
            [node, script], cwd=CLIENTS, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run
