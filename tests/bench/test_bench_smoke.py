"""The benchmark suite runs: a tiny end-to-end run of ``python -m bench`` and its parsers.

Figures are not asserted (performance targets live in BENCHMARKS.md, not in timed tests);
what is checked is that every measured scenario answered without errors and the report has
its sections, so the bench code cannot rot unnoticed.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import load, report
from tests.bench.helpers import run_bench

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000/graphql/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.10ms    1.20ms  30.00ms   90.00%
    Req/Sec     1.57k   100.00     1.70k    70.00%
  Latency Distribution
     50%    4.90ms
     75%    5.50ms
     90%    6.20ms
     99%    1.20s
  7850 requests in 5.00s, 1.50MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   1570.12
Transfer/sec:    300.00KB
"""


def test_wrk_output_is_parsed_with_units() -> None:
    assert load.parse_wrk(WRK_OUTPUT) == (1570.12, 4.9, 1200.0, 7850, 7)


def test_the_lua_script_cycles_through_every_request() -> None:
    script = load._script(
        [load.Request({"query": "{a}"}), load.Request({"query": "{b}"}, token="t0k")]
    )
    assert 'reqs[1] = wrk.format("POST", nil, {["Content-Type"] = "application/json"}' in script
    assert '["Authorization"] = "Bearer t0k"' in script
    assert "return reqs[(i % n) + 1]" in script


def test_targets_are_ratios_within_one_run() -> None:
    def row(scenario: str, rps: float, p99: float = 10.0) -> dict:
        return {"scenario": scenario, "connections": 8, "rps": rps, "p99_ms": p99}

    figures = {"results": [row("typename-floor", 1000), row("typename", 850), row("movies", 300)]}
    rows = {what: (measured, met) for what, _, measured, met in report.targets(figures)}
    assert rows["our `{__typename}` (signed in) / bare floor"] == ("0.85x (c=8)", True)
    assert rows["`movies(first: 20)` / our `{__typename}`"] == ("0.35x (c=8)", False)


def test_python_m_bench_runs_end_to_end(tmp_path: Path) -> None:
    out, raw = tmp_path / "BENCHMARKS.md", tmp_path / "figures.json"
    scenarios = "typename-floor,typename,movies-anon,recommendations,rate-movie"
    args = ["--connections", "2", "--scenarios", scenarios, "--memory-workers", "2"]
    done = run_bench(tmp_path, "smoke", [*args, "--out", str(out), "--json", str(raw)], 240)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(raw.read_text())
    measured = {(r["scenario"], r["connections"]) for r in figures["results"]}
    assert measured == {(s, 2) for s in scenarios.split(",")}
    assert all(r["requests"] > 0 and r["errors"] == 0 for r in figures["results"])
    assert len(figures["memory"]["2"]) == 2
    text = out.read_text()
    for section in ("## Targets", "## Serving under load", "## Memory", "## Reproduce"):
        assert section in text
    assert "wrote" in done.stdout.splitlines()[-1]
