"""`make run` (runstack under `movierec.embedded exec`) starts, answers and stops cleanly.

The real command runs in its own session with a free port, its own database and Redis
databases: Ctrl-C is typed into a pseudo-terminal (so the terminal signals the whole foreground
group, the wrapper and runstack alike), SIGTERM is sent to the wrapper alone. Each stop must
end with exit 0, no traceback, within 10 s, and leave no process of the session behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings

from movierec.demo import free_port
from movierec.embedded import redis_url_to_broker

ROOT = Path(__file__).resolve().parents[2]
STOP_BUDGET = 10.0
START_TIMEOUT = 240.0

pytestmark = pytest.mark.slow


def _with_db_number(url: str, number: int) -> str:
    if url.startswith("unix://"):
        return re.sub(r"db=\d+", f"db={number}", url) if "db=" in url else f"{url}?db={number}"
    base, _, _ = url.rpartition("/")
    return f"{base}/{number}" if base.count("/") >= 2 else f"{url}/{number}"


@pytest.fixture(scope="module")
def stack_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a runstack: a database of its own, Redis databases of their own
    (so its worker never takes the suite's tasks), no TMDb credentials (dev server mode)."""
    db = settings.DATABASES["default"]
    name = f"movierec_runstack{os.environ.get('MOVIEREC_TEST_SUFFIX', '')}"
    params = {
        "host": db["HOST"],
        "port": db["PORT"] or None,
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    auth = quote(db["USER"], safe="") + (
        f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    )
    port = f":{db['PORT']}" if db["PORT"] else ""
    redis_url = _with_db_number(settings.REDIS_URL, 11)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TMDB_", "CELERY_", "DJANGO_", "PYTEST_", "RECS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="movierec.settings.local",
        DATABASE_URL=f"postgres://{auth}@{quote(db['HOST'], safe='')}{port}/{name}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url_to_broker(_with_db_number(settings.REDIS_URL, 12)),
        RECS_MODEL_DIR=str(tmp_path_factory.mktemp("models")),
        PYTHONUNBUFFERED="1",
    )
    yield env
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _command(port: int) -> list[str]:
    python = sys.executable
    return [python, "-m", "movierec.embedded", "exec", "--",
            python, "manage.py", "runstack", "--no-demo", "--port", str(port)]  # fmt: skip


class Run:
    """One `make run` in its own session, its output collected by a thread."""

    def __init__(self, env: dict[str, str], *, tty: bool) -> None:
        self.port = free_port()
        self.lines: list[str] = []
        self._master: int | None = None
        if tty:
            master, slave = pty.openpty()

            def take_terminal() -> None:  # runs in the child, after setsid
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

            self.proc = subprocess.Popen(
                _command(self.port), cwd=ROOT, env=env, stdin=slave, stdout=slave,
                stderr=slave, start_new_session=True, preexec_fn=take_terminal,
            )  # fmt: skip
            os.close(slave)
            self._master = master
            reader = self._read_pty
        else:
            self.proc = subprocess.Popen(
                _command(self.port), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            reader = self._read_pipe
        self._reader = threading.Thread(target=reader, daemon=True)
        self._reader.start()

    def _read_pty(self) -> None:
        assert self._master is not None
        buffer = b""
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except OSError:  # EIO: every process holding the terminal is gone
                break
            if not chunk:
                break
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            self.lines += [line.decode(errors="replace").rstrip("\r") for line in done]
        self.lines.append(buffer.decode(errors="replace"))

    def _read_pipe(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.decode(errors="replace").rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if "Ctrl-C stops everything" in self.output:
                return
            assert self.proc.poll() is None, f"exited {self.proc.returncode}:\n{self.output}"
            time.sleep(0.2)
        pytest.fail(f"not up within {START_TIMEOUT:.0f}s:\n{self.output}")

    def ctrl_c(self) -> None:
        assert self._master is not None
        os.write(self._master, b"\x03")  # the terminal sends SIGINT to its foreground group

    def stop_within_budget(self) -> float:
        started = time.monotonic()
        returncode = self.proc.wait(timeout=STOP_BUDGET + 5)
        took = time.monotonic() - started
        self._reader.join(timeout=5)
        if self._master is not None:
            os.close(self._master)
        assert returncode == 0, self.output
        assert took < STOP_BUDGET, f"stop took {took:.1f}s:\n{self.output}"
        print(f"stop took {took:.2f}s")  # shown with -rP: the figure the docs quote
        return took

    def leftovers(self) -> list[str]:
        """Live (non-zombie) processes still in the run's session."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, _ppid, _pgrp, session = stat.rsplit(")", 1)[1].split()[:4]
            if int(session) == self.proc.pid and state != "Z":
                found.append(stat[:80])
        return found

    def kill_session(self) -> None:
        """Clean up after a failed test: nothing of this run may outlive the suite."""
        for line in self.leftovers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGKILL)


def _graphql(port: int, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql/",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _assert_clean_start(run: Run) -> None:
    out = run.output
    up = out.index("movierec is up")
    assert re.search(r"^worker +\| .*celery@\S+ ready\.", out, re.M), out
    assert out.index(" ready.") < up, "the ready banner comes after the worker is ready"
    assert re.search(r"^web +\| ", out, re.M) and re.search(r"^beat +\| ", out, re.M), out
    assert "docs/clients.md" in out[up:] and "tokenAuth" in out[up:]
    # The Celery banner and the superuser warning stay off the console by default.
    assert "[config]" not in out and "[queues]" not in out
    assert "superuser" not in out
    assert _graphql(run.port, "{ genres { name } }") == {"data": {"genres": []}}


def test_ctrl_c_in_a_terminal_stops_everything_quietly(stack_env):
    run = Run(stack_env, tty=True)
    try:
        run.wait_up()
        _assert_clean_start(run)
        run.ctrl_c()
        run.stop_within_budget()
        assert "Traceback" not in run.output, run.output
        assert "stopped tmdb-dev, web, worker, beat" in run.output
        assert not run.leftovers(), run.leftovers()
        with socket.socket() as sock:  # the port is free again
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", run.port))
    finally:
        run.kill_session()


def test_sigterm_then_a_second_sigterm_stops_everything_quietly(stack_env):
    run = Run(stack_env, tty=False)
    try:
        run.wait_up()
        run.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        run.proc.send_signal(signal.SIGTERM)  # an impatient supervisor repeats itself
        run.stop_within_budget()
        assert "Traceback" not in run.output, run.output
        assert not run.leftovers(), run.leftovers()
    finally:
        run.kill_session()


def test_a_busy_port_fails_at_once_with_a_clear_message(stack_env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "manage.py", "runstack", "--no-demo", "--port", str(port)],
            cwd=ROOT, env=stack_env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is not available" in result.stderr
    assert "make run" in result.stderr and "Traceback" not in result.stderr
    assert "is up" not in result.stdout
    assert time.monotonic() - started < 60


def test_a_web_server_that_dies_at_start_is_an_error_not_up(stack_env):
    env = {**stack_env, "GUNICORN_CMD_ARGS": "--workers not-a-number"}
    result = subprocess.run(
        [sys.executable, "manage.py", "runstack", "--no-demo", "--port", str(free_port())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=START_TIMEOUT,
    )  # fmt: skip
    assert result.returncode != 0
    assert "web exited during start-up" in result.stderr
    assert "is up" not in result.stdout
    assert "Traceback" not in result.stderr
