"""Web processes run BLAS on one thread (movierec/wsgi.py): on a busy host a threaded BLAS
made an uncached recommendation 12x slower, waiting for its own threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, movierec.wsgi, numpy, scipy.linalg; "
    "from threadpoolctl import threadpool_info; "
    "print(json.dumps([i['num_threads'] for i in threadpool_info()]))"
)


def _blas_threads(**env: str) -> list[int]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "movierec.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_web_process_runs_blas_on_one_thread() -> None:
    threads = _blas_threads()
    assert threads and set(threads) == {1}


def test_the_environment_can_still_choose() -> None:
    assert 2 in _blas_threads(OPENBLAS_NUM_THREADS="2")
