"""BENCHMARKS.md from one run's figures: tables, ratios, targets, machine, reproduction."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

#: (label, check) pairs over the run's figures; each returns (value text, met?) or None.
TARGET_C = 8  # targets are stated at 8 connections


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}"


def _index(figures: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["scenario"], r["connections"]): r for r in figures["results"]}


def _ratio(results: dict, scenario: str, reference: str, c: int) -> float | None:
    a, b = results.get((scenario, c)), results.get((reference, c))
    if not a or not b or not b["rps"]:
        return None
    return a["rps"] / b["rps"]


def targets(figures: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(what, target, measured, met) for the issue's serving targets present in this run."""
    r = _index(figures)
    c = TARGET_C if any(k[1] == TARGET_C for k in r) else max((k[1] for k in r), default=1)
    rows: list[tuple[str, str, str, bool | None]] = []

    def ratio(label: str, scenario: str, reference: str, floor: float) -> None:
        value = _ratio(r, scenario, reference, c)
        if value is not None:
            rows.append((label, f">= {floor}x", f"{value:.2f}x", value >= floor))

    def p99(label: str, scenario: str, limit: float) -> None:
        if (scenario, c) in r:
            value = r[(scenario, c)]["p99_ms"]
            rows.append((label, f"<= {limit:.0f} ms", f"{value:.1f} ms", value <= limit))

    ratio("our `{__typename}` (signed in) / bare floor", "typename", "typename-floor", 0.8)
    ratio("our `{__typename}` (anonymous) / bare floor", "typename-anon", "typename-floor", 0.8)
    ratio("cached recommendations / our `{__typename}`", "recommendations", "typename", 0.6)
    p99("cached recommendations p99", "recommendations", 30)
    p99("uncached recommendations p99", "recommendations-uncached", 60)
    ratio("`movies(first: 20)` / our `{__typename}`", "movies", "typename", 0.4)
    ratio(
        "`movies(first: 20)`, no response cache / our `{__typename}`",
        "movies-uncached",
        "typename",
        0.4,
    )
    p99("search p99", "search", 50)
    p99("`rateMovie` p99", "rate-movie", 30)
    return [(a, b, f"{m} (c={c})", ok) for a, b, m, ok in rows]


def summary(figures: dict[str, Any]) -> str:
    rows = targets(figures)
    met = sum(1 for row in rows if row[3])
    return f"{len(figures['results'])} measurements, {met}/{len(rows)} targets met"


def _serving_table(figures: dict[str, Any]) -> list[str]:
    from bench.scenarios import SCENARIOS

    r = _index(figures)
    counts = sorted({k[1] for k in r})
    lines = [
        "| scenario | server | conns | req/s | p50 ms | p99 ms | × floor | × our typename "
        "| errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, (server, label, _) in SCENARIOS.items():
        for c in counts:
            row = r.get((scenario, c))
            if row is None:
                continue
            floor = _ratio(r, scenario, "typename-floor", c)
            ours = _ratio(r, scenario, "typename", c)
            lines.append(
                f"| {label} | {server} | {c} | {row['rps']:.0f} | {row['p50_ms']:.1f} | "
                f"{row['p99_ms']:.1f} | {'' if floor is None else f'{floor:.2f}'} | "
                f"{'' if ours is None else f'{ours:.2f}'} | {row['errors']} |"
            )
    return lines


def _before_after(figures: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    now, before = _index(figures), _index(baseline)
    lines = [
        f"Before: {baseline['date']} ({baseline.get('label') or baseline['command']}). "
        f"After: this run. Ratios are within each run, so the two runs' noise does not mix.",
        "",
        "| scenario | conns | before req/s | after req/s | before p99 ms | after p99 ms "
        "| before × floor | after × floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, row in now.items():
        old = before.get(key)
        if old is None or key[0] == "typename-floor":
            continue
        b, a = (
            _ratio(before, *key[:1], "typename-floor", key[1]),
            _ratio(now, *key[:1], "typename-floor", key[1]),
        )
        lines.append(
            f"| {key[0]} | {key[1]} | {old['rps']:.0f} | {row['rps']:.0f} | "
            f"{old['p99_ms']:.1f} | {row['p99_ms']:.1f} | "
            f"{'' if b is None else f'{b:.2f}'} | {'' if a is None else f'{a:.2f}'} |"
        )
    return lines


def _memory(figures: dict[str, Any]) -> list[str]:
    lines = [
        "| workers | worker | RSS MB | PSS MB | shared MB | private MB | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers, rows in figures["memory"].items():
        for i, m in enumerate(rows):
            shared = (m.get("Shared_Clean", 0) + m.get("Shared_Dirty", 0)) / 1024
            private = (m.get("Private_Clean", 0) + m.get("Private_Dirty", 0)) / 1024
            lines.append(
                f"| {workers} | {i + 1} | {m.get('Rss', 0) / 1024:.0f} | "
                f"{m.get('Pss', 0) / 1024:.0f} | {shared:.0f} | {private:.0f} | "
                f"{m.get('Peak', 0) / 1024:.0f} |"
            )
    return lines


def render(figures: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    shape = figures["shape"]
    out = [
        "# Benchmarks",
        "",
        f"Generated by `{figures['command']}` on {figures['date']}.",
        "",
        f"- Machine: {figures['machine']}; Python {figures['python']}. The cores are shared "
        "with other jobs, so absolute figures are noisy: read the ratios, which are measured "
        "in the same run.",
        f"- Data (`--scale {figures['scale']}`): {shape['users']:,} users, "
        f"{shape['movies']:,} movies, {shape['ratings']:,} ratings (synthetic, "
        "MovieLens-shaped; see `bench/dataset.py`), the model the product trains on them.",
        f"- Servers: gunicorn, {figures['workers']} sync workers each, DEBUG off, one at a "
        f"time; load from `wrk` (1 thread) for {figures['seconds']:g} s per row after a 1 s "
        "warm-up. The floor is a bare graphene-django `GraphQLView` (`bench/floor/`).",
        "",
        "## Targets",
        "",
        "| what | target | measured | met |",
        "|---|---|---|---|",
    ]
    for what, target, measured, met in targets(figures):
        out.append(f"| {what} | {target} | {measured} | {'yes' if met else '**no**'} |")
    out += ["", "## Serving under load", "", *_serving_table(figures), ""]
    if figures.get("memory"):
        out += [
            "## Memory of web workers with the model loaded",
            "",
            "After each worker answered recommendations (so its model is loaded). PSS splits "
            "shared pages (code, and model arrays when the artifacts are memory-mapped) "
            "between the processes that map them.",
            "",
            *_memory(figures),
            "",
        ]
    if figures.get("scaleout"):
        from bench.scaleout import section

        out += section(figures["scaleout"])
    if baseline:
        out += ["## Before / after", "", *_before_after(figures, baseline), ""]
    notes = Path(__file__).with_name("notes.md")
    if notes.exists():
        out += [notes.read_text().rstrip(), ""]
    out += [
        "## Reproduce",
        "",
        "```bash",
        "make bench                                   # = python -m bench, --scale small",
        f"{figures['command']}",
        "python -m bench --scale 25m --seconds 10     # the MovieLens-25M shape",
        "python -m bench --scenarios '' --memory-workers '' --scaleout --connections 8,16",
        "```",
        "",
    ]
    return "\n".join(out)
