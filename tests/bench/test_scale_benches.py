"""The MovieLens-scale benches (import and training by stage) run end to end on a tiny release.

Figures are not asserted (they go to BENCHMARKS.md as ratios measured in one run); what is
checked is that both scripts finish, read an existing release with ``--data`` and print every
stage, so the bench code cannot rot unnoticed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.movielens_synth import movielens_write

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    suffix = os.environ.get("MOVIEREC_TEST_SUFFIX", "") + "_smoke"
    env = {**os.environ, "RECS_MODEL_DIR": str(tmp_path / "models"), "MOVIEREC_TEST_SUFFIX": suffix}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_training_bench_reports_every_stage_against_the_raw_fit(tmp_path: Path) -> None:
    data = tmp_path / "release"
    movielens_write(data, layout="ml-25m", n_users=120, n_movies=300, n_ratings=6_000)
    figures = tmp_path / "train.json"
    args = ["bench/recs_train_scale.py", "--data", str(data), "--json", str(figures)]
    done = _run([*args, "--memory-workers", "2"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(figures.read_text())
    assert {
        "extract",
        "split",
        "fit",
        "evaluate",
        "calibrate",
        "publish",
        "gate + activate",
    } <= set(result["stages"])
    assert result["raw_als"] > 0 and result["raw_ease"] > 0 and result["ease_items"] > 0
    assert result["counts"]["interactions"] == 6_000
    assert result["train_peak_rss_mb"] > 0
    served = result["serving"]["memory"]["2"]
    assert len(served) == 2 and all(row["Rss"] > 0 and "Private_Dirty" in row for row in served)
    for line in ("raw fit (floor)", "training end to end", "training process peak RSS"):
        assert line in done.stdout


def test_import_bench_reads_an_existing_release(tmp_path: Path) -> None:
    data = tmp_path / "release"
    movielens_write(data, layout="ml-25m", n_users=60, n_movies=200, n_ratings=3_000)
    done = _run(["bench/movielens_import.py", "--data", str(data)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for stage in ("COPY + indexes + FKs", "import: upsert", "import: indexes",
                  "import: recount", "re-import (no changes)"):  # fmt: skip
        assert stage in done.stdout
    assert "summary: 3,000 ratings" in done.stdout


def test_worker_memory_bench_serves_the_model_shape_from_both_checkouts(tmp_path: Path) -> None:
    """This checkout as its own baseline: the format 2 copy and the format 3 artifact both
    serve personalised lists, and every worker's memory is read."""
    figures = tmp_path / "memory.json"
    args = ["bench/recs_worker_memory.py", "--baseline", str(ROOT), "--json", str(figures)]
    args += ["--users", "500", "--movies", "300", "--ease-items", "100", "--neighbours", "10"]
    done = _run([*args, "--viewers", "50", "--workers", "1", "--rounds", "1"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(figures.read_text())
    codes = [row["code"] for row in result["runs"]]
    assert codes == ["before", "after, format 2 artifact", "after"]
    for row in result["runs"]:
        (worker,) = row["memory"]["50"]
        assert worker["Rss"] > 0 and row["p50_ms"] > 0
        assert worker["artifact"].get("item_factors.npy", 0) > 0
    assert "uncached p50 ms" in done.stdout
