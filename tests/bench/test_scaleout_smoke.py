"""``python -m bench --scaleout`` runs end to end at the tiny scale, and its report reads right.

No figure is asserted (throughput ratios belong in BENCHMARKS.md); what is checked is that
both process counts were measured without errors and that the new model reached both web
processes, so the scale-out bench cannot rot unnoticed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import scaleout
from tests.bench.helpers import run_bench


def _row(scenario: str, processes: int, rps: float) -> dict:
    return {
        "scenario": scenario,
        "connections": 8,
        "processes": processes,
        "rps": rps,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "errors": 0,
    }


def test_the_ratio_is_two_processes_over_one_in_the_same_run() -> None:
    figures = {
        "rows": [_row("typename", 1, 400), _row("typename", 2, 600), _row("movies", 1, 100)],
        "propagation": {"version": 7, "train_seconds": 3.0, "propagation_seconds": 1.5},
        "cores": 2,
    }
    assert scaleout.ratios(figures) == [("typename", 8, 1.5)]
    text = "\n".join(scaleout.section(figures))
    assert "| typename | 8 | 1.50x |" in text
    assert "activated v7" in text


@pytest.mark.slow
def test_python_m_bench_scaleout_runs_end_to_end(tmp_path: Path) -> None:
    out, raw = tmp_path / "BENCHMARKS.md", tmp_path / "figures.json"
    args = ["--connections", "2", "--scenarios", "", "--memory-workers", "", "--scaleout"]
    done = run_bench(tmp_path, "scaleout", [*args, "--out", str(out), "--json", str(raw)], 280)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(raw.read_text())["scaleout"]
    measured = {(r["scenario"], r["processes"]) for r in figures["rows"]}
    assert measured == {(s, p) for s in scaleout.MEASURED for p in (1, 2)}
    assert all(r["requests"] > 0 and r["errors"] == 0 for r in figures["rows"])
    assert figures["propagation"]["version"] > 0
    assert "## Scale-out on loopback" in out.read_text()
