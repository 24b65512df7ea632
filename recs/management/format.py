"""Plain-text renderings of versions and metric tables shared by the recs commands."""

from __future__ import annotations

from recs.models import ModelVersion

STAGES = ("extract", "split", "tune", "fit", "evaluate", "calibrate", "refit", "publish")
COLUMNS = ("precision@10", "recall@10", "ndcg@10", "map@10", "coverage")


def timings_line(timings: dict[str, float]) -> str:
    parts = [f"{name} {timings[name]:.2f}s" for name in STAGES if name in timings]
    return ", ".join(parts) + f" (total {sum(timings.values()):.2f}s)"


def version_summary(version: ModelVersion) -> str:
    """One line: status, key metrics against popularity, timings per stage."""
    m, b = version.metrics, version.baseline_metrics
    ndcg, base = m.get("ndcg@10", 0.0), b.get("ndcg@10", 0.0)
    ratio = f"x{ndcg / base:.2f}" if base else "x-"
    return (
        f"model v{version.pk} {version.status}: ndcg@10 {ndcg:.4f} vs popularity {base:.4f} "
        f"({ratio}), precision@10 {m.get('precision@10', 0.0):.4f}, "
        f"recall@10 {m.get('recall@10', 0.0):.4f}, coverage {m.get('coverage', 0.0):.3f}; "
        f"{version.data_counts.get('interactions', 0)} interactions; "
        f"timings: {timings_line(version.timings)}"
    )


def metrics_table(rows: list[tuple[str, dict[str, float | int]]]) -> str:
    """Fixed-width table, one row per (label, metrics) plus a ratio row of the first two."""
    label_width = max([len("model / baseline")] + [len(label) for label, _ in rows])
    header = f"{'':<{label_width}}  " + "  ".join(f"{c:>12}" for c in COLUMNS)
    lines = [header, "-" * len(header)]
    for label, values in rows:
        cells = "  ".join(f"{float(values.get(c, 0.0)):>12.4f}" for c in COLUMNS)
        lines.append(f"{label:<{label_width}}  {cells}")
    if len(rows) >= 2:
        (_, a), (_, b) = rows[0], rows[1]
        ratios = []
        for c in COLUMNS:
            base = float(b.get(c, 0.0))
            ratios.append(f"{float(a.get(c, 0.0)) / base:>12.2f}" if base else f"{'-':>12}")
        lines.append(f"{'model / baseline':<{label_width}}  " + "  ".join(ratios))
    return "\n".join(lines)


def spread_table(rows: dict[str, list[dict[str, float | int]]]) -> str:
    """One row per model: mean ± spread (half the range) of each metric over the seeds."""
    label_width = max([5] + [len(label) for label in rows])
    header = f"{'model':<{label_width}}  " + "  ".join(f"{c:>17}" for c in COLUMNS)
    lines = [header, "-" * len(header)]
    for label, runs in rows.items():
        cells = []
        for c in COLUMNS:
            values = [float(r.get(c, 0.0)) for r in runs]
            mean, spread = sum(values) / len(values), (max(values) - min(values)) / 2
            cells.append(f"{mean:>9.4f} ± {spread:.4f}")
        lines.append(f"{label:<{label_width}}  " + "  ".join(cells))
    return "\n".join(lines)
