"""Servers and load: gunicorn process groups on loopback, driven by ``wrk``.

Each server is started as its own process group (``start_new_session``) and stopped by
signalling that group, so no worker outlives a run. ``wrk`` (C, event loop) generates the
load from a Lua script that sets method, headers and body; its latency distribution gives
p50/p99. Every scenario's response is checked once before it is measured: a scenario that
answers errors would otherwise benchmark the error path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def ensure_wrk() -> str:
    """The ``wrk`` binary; installs Debian's package when it is missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: installing Debian's wrk package")
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=False)
            subprocess.run(install, check=False)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("wrk is needed for the load benchmarks: apt-get install wrk")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def stop_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process group ``process`` leads (``start_new_session``); SIGKILL after
    ``timeout`` seconds, so nothing it started outlives the run."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Server:
    """A gunicorn master and its workers, started as one process group."""

    name: str
    wsgi: str
    settings: str
    workers: int = 2
    worker_class: str = "sync"
    threads: int = 1
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    extra_args: list[str] = field(default_factory=list)  # more gunicorn options
    root: Path = ROOT  # the checkout whose code is served (another one: a same-run baseline)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql/"

    def start(self) -> Server:
        self.port = self.port or free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": self.settings, **self.env}
        env["PYTHONPATH"] = str(self.root) + os.pathsep + env.get("PYTHONPATH", "")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            self.wsgi,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            "--timeout",
            "120",
            "--log-level",
            "warning",
            *self.extra_args,
        ]
        self.process = subprocess.Popen(command, cwd=self.root, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited with {self.process.returncode}")
            try:
                post(self.url, {"query": "{__typename}"})
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name}: not answering after 60 s")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def memory_kb(pid: int) -> dict[str, int]:
    """Rss, Pss and shared pages of one process, in kB (``/proc/PID/smaps_rollup``)."""
    values: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].rstrip(":") in (
            "Rss",
            "Pss",
            "Shared_Clean",
            "Shared_Dirty",
            "Private_Clean",
            "Private_Dirty",
        ):
            values[parts[0].rstrip(":")] = int(parts[1])
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+)", status)
    if match:
        values["Peak"] = int(match.group(1))
    return values


@dataclass
class Request:
    """One request a scenario sends: a GraphQL body, signed in or not."""

    body: dict[str, Any]
    token: str | None = None


@dataclass
class Result:
    scenario: str
    server: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _script(requests: list[Request]) -> str:
    """A wrk script cycling through ``requests`` in order."""
    lines = ["local reqs = {}"]
    for i, request in enumerate(requests, start=1):
        headers = ['["Content-Type"] = "application/json"']
        if request.token:
            headers.append(f'["Authorization"] = "Bearer {request.token}"')
        lines.append(
            f'reqs[{i}] = wrk.format("POST", nil, {{{", ".join(headers)}}}, '
            f"{_lua_string(json.dumps(request.body))})"
        )
    lines += [
        "local n = #reqs",
        "local i = 0",
        "function request()",
        "  i = i + 1",
        "  return reqs[(i % n) + 1]",
        "end",
    ]
    return "\n".join(lines) + "\n"


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNIT[match.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    """(req/s, p50 ms, p99 ms, requests, non-2xx + socket errors) from ``wrk --latency``."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if match:
        errors += int(match.group(1))
    match = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if match:
        errors += sum(int(g) for g in match.groups())
    return rps, p50, p99, total, errors


def check(server: Server, requests: list[Request], scenario: str) -> None:
    """Each distinct request once: it must answer data and no errors."""
    for request in requests[:4]:
        answer = post(server.url, request.body, request.token)
        if answer.get("errors") or not answer.get("data"):
            raise RuntimeError(f"{scenario} on {server.name} answered {answer}")


def run(
    server: Server,
    scenario: str,
    requests: list[Request],
    *,
    connections: int,
    seconds: float,
    wrk: str,
) -> Result:
    """Drive ``server`` with ``requests`` for ``seconds`` (after a one-second warm-up)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(_script(requests))
        script = handle.name
    try:
        base = [wrk, "-t1", f"-c{connections}", "--latency", "-s", script, server.url]
        subprocess.run([*base[:1], "-d1s", *base[1:]], capture_output=True, check=True)
        done = subprocess.run(
            [*base[:1], f"-d{max(1, round(seconds))}s", "--timeout", "10s", *base[1:]],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script)
    rps, p50, p99, total, errors = parse_wrk(done.stdout)
    return Result(scenario, server.name, connections, rps, p50, p99, total, errors)
