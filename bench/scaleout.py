"""Scale-out on loopback: 1 then 2 web processes, 2 Celery worker pools, one model volume.

Each web process is a gunicorn master with one sync worker, started as its own process group
(``bench.load.Server``), bound to its own port and to one shared port with ``SO_REUSEPORT``
(``gunicorn --reuse-port``): the kernel spreads ``wrk``'s connections over the processes as a
load balancer spreads them over hosts. The ``sync`` pool (``-Q default,sync``) and the ``ml``
pool (``-Q ml``) run as two more process groups. The figure is the ratio of throughput with 2
web processes to throughput with 1, in the same run. Then the ``ml`` worker trains and
activates a new version (sent by name, routed to ``ml``), and the run measures how long until
both web processes serve it.

``python -m bench --scaleout`` runs it after the serving scenarios (``--scenarios ''
--memory-workers ''`` runs it alone).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from bench import load
from bench.dataset import Built
from bench.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
TRAIN = "tasks.training.recs_model_train"
MEASURED = ("typename", "recommendations")


class Worker:
    """``celery worker -Q <queues>`` in its own process group (solo pool: one process)."""

    def __init__(
        self, queues: str, env: dict[str, str] | None = None, log_path: Path | None = None
    ) -> None:
        self.name = f"{queues.split(',')[-1]}-{uuid.uuid4().hex[:8]}@loopback"
        self.log_path = log_path
        env = {**(env or os.environ)}
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        argv = [sys.executable, "-m", "celery", "-A", "movierec", "worker", "-n", self.name]
        argv += ["-Q", queues, "--pool", "solo", "--loglevel", "INFO", "--without-mingle"]
        with open(log_path or os.devnull, "ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )

    def wait_ready(self, timeout: float = 60) -> None:
        from movierec.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            if app.control.ping(destination=[self.name], timeout=0.5):
                return
        raise RuntimeError(f"{self.name}: no answer to ping after {timeout} s")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        load.stop_group(self.process, timeout=60)


def _serving(server: load.Server) -> int | None:
    url = f"http://127.0.0.1:{server.port}/readyz"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["checks"]["model"].get("serving")


def _propagation(webs: list[load.Server], timeout: float = 600) -> dict[str, Any]:
    """Train on the ``ml`` worker; seconds until every web process serves the new version."""
    from movierec.celery import app

    started = time.perf_counter()
    result = app.send_task(TRAIN).get(timeout=timeout)
    trained = time.perf_counter()
    if result.get("status") != "active":
        raise RuntimeError(f"the ml worker's training was not activated: {result}")
    deadline = time.monotonic() + 120
    while [_serving(web) for web in webs] != [result["version"]] * len(webs):
        if time.monotonic() > deadline:
            raise RuntimeError(f"web processes did not switch to v{result['version']} in 120 s")
        time.sleep(0.1)
    return {
        "version": result["version"],
        "train_seconds": round(trained - started, 1),
        "propagation_seconds": round(time.perf_counter() - trained, 2),
    }


def run(
    built: Built, tokens: list[str], *, connections: list[int], seconds: float, wrk: str
) -> dict[str, Any]:
    """Throughput with 1 and 2 web processes, and how a new model reaches both."""
    shared = load.free_port()
    target = load.Server("shared port", "", "", port=shared)  # never started: wrk's URL only
    # The bench retrains on the same data: the new version passes the gate, so what is
    # measured is propagation, not the promotion rule.
    env = {**os.environ, "RECS_PROMOTION_MARGIN": "1.0"}
    pools = [Worker("default,sync", env), Worker("ml", env)]
    webs: list[load.Server] = []
    rows: list[dict[str, Any]] = []
    try:
        for pool in pools:
            pool.wait_ready()
        for processes in (1, 2):
            while len(webs) < processes:
                webs.append(
                    load.Server(
                        f"web-{len(webs) + 1}",
                        "movierec.wsgi",
                        "bench.settings",
                        workers=1,
                        extra_args=["--bind", f"127.0.0.1:{shared}", "--reuse-port"],
                    ).start()
                )
            for scenario in MEASURED:
                requests = SCENARIOS[scenario][2](built, tokens)
                load.check(target, requests, scenario)
                for c in connections:
                    result = load.run(
                        target, scenario, requests, connections=c, seconds=seconds, wrk=wrk
                    )
                    rows.append({**result.as_dict(), "processes": processes})
        propagation = _propagation(webs)
    finally:
        for web in webs:
            web.stop()
        for pool in pools:
            pool.stop()
    return {"rows": rows, "propagation": propagation, "cores": os.cpu_count()}


def ratios(figures: dict[str, Any]) -> list[tuple[str, int, float]]:
    """(scenario, connections, 2-process req/s / 1-process req/s) for each measured pair."""
    by = {(r["scenario"], r["connections"], r["processes"]): r["rps"] for r in figures["rows"]}
    out = []
    for (scenario, c, processes), rps in by.items():
        one = by.get((scenario, c, 1))
        if processes == 2 and one:
            out.append((scenario, c, rps / one))
    return out


def section(figures: dict[str, Any]) -> list[str]:
    """The BENCHMARKS.md section of one scale-out run."""
    lines = [
        "## Scale-out on loopback (`--scaleout`)",
        "",
        "1, then 2 web process groups (gunicorn, 1 sync worker each, one shared port with "
        "`SO_REUSEPORT`), plus a `sync` and an `ml` Celery worker process group, against one "
        f"PostgreSQL and one Redis, all on this {figures['cores']}-core machine (shared with "
        "other jobs). Perfect scaling would be 2.00x; on 2 cores the second web process "
        "competes with `wrk`, PostgreSQL and Redis for the same cores.",
        "",
        "| scenario | conns | web processes | req/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in figures["rows"]:
        lines.append(
            f"| {r['scenario']} | {r['connections']} | {r['processes']} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |"
        )
    lines += ["", "| scenario | conns | 2 processes / 1 process |", "|---|---:|---:|"]
    lines += [f"| {s} | {c} | {ratio:.2f}x |" for s, c, ratio in ratios(figures)]
    p = figures["propagation"]
    lines += [
        "",
        f"A training on the `ml` worker ({p['train_seconds']:g} s) activated v{p['version']}; "
        f"both web processes served it {p['propagation_seconds']:g} s later (each checks the "
        "active version every `RECS_VERSION_CHECK_SECONDS`, 5 s by default, then loads the "
        "artifact from the model volume).",
        "",
    ]
    return lines
