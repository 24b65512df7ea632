"""Running ``python -m bench`` from a test: its own database, cache prefix and model directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(
    tmp_path: Path, name: str, args: list[str], timeout: float
) -> subprocess.CompletedProcess:
    """``python -m bench --scale tiny --seconds 1 ARGS --rebuild --drop``, isolated by ``name``."""
    suffix = os.environ.get("MOVIEREC_TEST_SUFFIX", "") + f"_{name}"
    env = {
        **os.environ,
        "MOVIEREC_TEST_SUFFIX": suffix,
        "CACHE_KEY_PREFIX": f"bench-{name}{suffix}",
        "RECS_MODEL_DIR": str(tmp_path / "models"),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "tiny", "--seconds", "1", *args]
        + ["--rebuild", "--drop"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
