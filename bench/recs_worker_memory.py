"""Web-worker memory with a model of the MovieLens-25M shape, without a 25-minute training.

Why: the memory target (a gunicorn worker with the 25M model <= 400 MB RSS, model arrays
shared) depends on the model's *shape* (users, movies, factors, EASE movies, co-occurrence
neighbours), not on what it learnt. This builds that shape directly: random factors, a random
dense EASE ``B`` over the most-rated movies and a co-occurrence matrix with ``--neighbours``
entries per movie (the documented maximum), through the engine's own classes, written with the
real artifact code (``recs.engine.artifacts.save``). It imports a synthetic release with the
25M catalogue and ``--viewers`` viewers (about 150 ratings each, the 25M mean) into a
throwaway database and serves the model with gunicorn at each worker count (``measure``):
uncached recommendations (recommendation and response caches off) for every viewer, then
every worker's ``/proc/PID/smaps_rollup`` (RSS, PSS, USS) after the first 50 viewers and
after all of them, with how much of its RSS is pages of the artifact's files
(``/proc/PID/smaps``); then ``--rounds`` timed passes over the first 50 viewers.

``--baseline DIR`` also serves the model from another checkout (e.g. ``git worktree add DIR
main``; it gets a format 2 copy of the artifact) and from this one with that format 2 copy,
all servers up at once and the timed requests interleaved, so before and after are measured
in the same run under the same load. Run with DATABASE_URL / REDIS_URL set, e.g.
``python -m movierec.embedded exec -- python bench/recs_worker_memory.py --baseline DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._django import throwaway_database  # noqa: E402

DB_NAME = "movierec_bench_worker_memory"
RECS_QUERY = (
    "{ recommendations(first: 20) { score source reason because { id } movie { id title "
    "year posterUrl genres { name } } } }"
)
VERSION = "v-25m-shape"
SHAPE_25M = {"users": 162_541, "movies": 62_423, "factors": 64, "ease_items": 10_000}


def model_build(
    movie_ids: np.ndarray,
    rating_counts: np.ndarray,
    user_ids: np.ndarray,
    *,
    n_users: int,
    factors: int,
    ease_items: int,
    neighbours: int,
    seed: int = 0,
):  # noqa: ANN201 - a HybridModel; imported lazily with Django set up
    """A hybrid model of the given shape with random weights (the real users' ids first)."""
    import scipy.sparse as sp

    from recs.engine.als import AlsModel
    from recs.engine.cooc import CoocModel
    from recs.engine.ease import EaseModel
    from recs.engine.hybrid import BlendParams, HybridModel, HybridParams
    from recs.engine.matrix import IdIndex

    rng = np.random.default_rng(seed)
    n_items = movie_ids.size
    extra = np.arange(n_users - user_ids.size, dtype=np.int64) + int(user_ids.max()) + 1
    params = HybridParams(blend=BlendParams(als_weight=0.4, cooc_weight=0.3))
    als = AlsModel(
        user_factors=(rng.standard_normal((n_users, factors), np.float32) * 0.1),
        item_factors=(rng.standard_normal((n_items, factors), np.float32) * 0.1),
        params=params.als,
        user_index=IdIndex(np.concatenate([user_ids, extra])),
        item_index=IdIndex(movie_ids),
        item_popularity=rating_counts.astype(np.int64),
    )
    kept = np.sort(np.argsort(-rating_counts, kind="stable")[:ease_items]).astype(np.int64)
    # EASE's B of a real model: mostly small weights of both signs, a zero diagonal.
    b = rng.standard_normal((kept.size, kept.size), np.float32)
    b *= np.float32(0.01)
    np.fill_diagonal(b, 0.0)
    diag = rng.uniform(0.5, 1.5, kept.size).astype(np.float32)  # P's diagonal, as fit keeps
    ease = EaseModel(weights=b, items=kept, n_items=n_items, params=params.ease, diag=diag)
    cols = rng.integers(0, n_items, size=(n_items, neighbours), dtype=np.int32)
    data = rng.random((n_items, neighbours), np.float32) * np.float32(0.1)
    cooc = sp.csr_matrix(
        (data.ravel(), cols.ravel(), np.arange(0, n_items * neighbours + 1, neighbours)),
        shape=(n_items, n_items),
    )
    cooc.sum_duplicates()
    cooc.sort_indices()
    calibration_x = np.linspace(-3.0, 6.0, 20)
    return HybridModel(
        als=als,
        ease=ease,
        params=params,
        calibration_x=calibration_x,
        calibration_p=np.linspace(0.2, 0.95, 20),
        cooc=CoocModel(weights=cooc, params=params.cooc),
    )


def artifact_rss_kb(pid: int, root: Path) -> dict[str, int]:
    """RSS (kB) of each artifact file mapped by ``pid`` (``/proc/PID/smaps``)."""
    out: dict[str, int] = {}
    current: str | None = None
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if parts and "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
            path = parts[5] if len(parts) >= 6 else ""
            current = Path(path).name if path.startswith(str(root)) else None
        elif current and parts and parts[0] == "Rss:":
            out[current] = out.get(current, 0) + int(parts[1])
    return out


def format_2_copy(source: Path, target: Path, weights: np.ndarray) -> None:
    """A copy of the version ``source`` as format 2 wrote it (``B`` float32, no diagonal),
    for a baseline checkout that only reads format 2."""
    import hashlib
    import shutil

    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)
    (target / "ease_bf16.npy").unlink()
    (target / "ease_diag.npy").unlink()
    np.save(target / "ease_weights.npy", np.asarray(weights, np.float32))
    params = json.loads((target / "params.json").read_text())
    params.pop("has_ease_diag")
    (target / "params.json").write_text(json.dumps(params))
    meta = json.loads((target / "meta.json").read_text())
    sums = meta["checksums"]
    sums.pop("ease_bf16.npy")
    sums.pop("ease_diag.npy")
    for name in ("ease_weights.npy", "params.json"):
        sums[name] = hashlib.sha256((target / name).read_bytes()).hexdigest()
    meta["format_version"] = 2
    (target / "meta.json").write_text(json.dumps(meta))


def servers_env(models: Path) -> dict[str, str]:
    """Environment of every server: uncached recommendations, the throwaway database."""
    from django.conf import settings
    from django.db import connection

    base = urlsplit(os.environ["DATABASE_URL"])
    return {
        "DATABASE_URL": urlunsplit(base._replace(path=f"/{connection.settings_dict['NAME']}")),
        "RECS_MODEL_DIR": str(models),
        "SECRET_KEY": settings.SECRET_KEY,
        "RECS_CACHE_TTL": "0",  # every recommendation is computed: the model is touched
        "GRAPHQL_RESPONSE_CACHE_TTL": "0",  # ... and not answered from the response cache
        "JWT_ACCESS_MINUTES": "720",
    }


def ask(url: str, token: str) -> float:
    """One uncached recommendation list; milliseconds."""
    from bench import load

    started = time.perf_counter()
    answer = load.post(url, {"query": RECS_QUERY}, token)
    elapsed = (time.perf_counter() - started) * 1000
    assert not answer.get("errors"), answer
    assert answer["data"]["recommendations"][0]["source"] == "PERSONALIZED", answer
    return elapsed


def measure(
    runs: list[tuple[str, Path, Path]], workers: int, tokens: list[str], rounds: int
) -> list[dict[str, Any]]:
    """Every run (label, checkout, model directory) as its own gunicorn server with
    ``workers`` workers, all up at once, each serving the active version ``VERSION`` from its
    own directory (its own copy of the files: the pages of one copy count only for the
    servers mapping it). Memory: each server in turn answers every
    viewer, then its workers are read (after 50 viewers and after all). Latency: ``rounds``
    passes over the first 50 viewers, each request sent to every server in a rotating
    order, so the machine's load (2 shared cores) falls on all of them alike."""
    from django.db import connection

    from bench import load

    connection.close()
    servers = []
    for n, (label, root, models) in enumerate(runs):
        prefix = f"bench-worker-memory-{os.getpid()}-{workers}-{n}"
        server = load.Server(
            f"{label}-{workers}", "movierec.wsgi", "bench.settings", workers, root=root,
            env={**servers_env(models), "CACHE_KEY_PREFIX": prefix},
        )  # fmt: skip
        servers.append(server.start())
    connection.close()
    try:
        out = []
        for (label, _, models), server in zip(runs, servers, strict=True):
            memory_at: dict[str, list] = {}
            for k, token in enumerate(tokens, 1):
                ask(server.url, token)
                if k in (50, len(tokens)):
                    memory_at[str(k)] = [
                        {**load.memory_kb(pid), "artifact": artifact_rss_kb(pid, models / VERSION)}
                        for pid in server.worker_pids()
                    ]
            out.append({"code": label, "workers": workers, "memory": memory_at})
        latencies: list[list[float]] = [[] for _ in servers]
        for r in range(rounds):
            for k, token in enumerate(tokens[:50]):
                for j in range(len(servers)):
                    s = (j + k + r) % len(servers)
                    latencies[s].append(ask(servers[s].url, token))
        for row, values in zip(out, latencies, strict=True):
            values.sort()
            row["p50_ms"] = statistics.median(values)
            row["p90_ms"] = values[int(0.9 * (len(values) - 1))]
        return out
    finally:
        for server in servers:
            server.stop()


def report(results: dict) -> str:
    """Markdown tables: memory per worker, then the timed pass."""
    lines = [
        f"artifact (format 3) {results['artifact_mb']:,.0f} MB; {results['viewers']} viewers",
        "",
        "| code | workers | viewers | worker | RSS MB | PSS MB | USS MB | shared MB "
        "| artifact pages in RSS MB (EASE B) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    timing = ["| code | workers | uncached p50 ms | p90 ms |", "|---|---:|---:|---:|"]
    for row in results["runs"]:
        code, workers = row["code"], row["workers"]
        timing.append(f"| {code} | {workers} | {row['p50_ms']:.1f} | {row['p90_ms']:.1f} |")
        for viewers, mems in row["memory"].items():
            for n, mem in enumerate(mems, 1):
                uss = mem.get("Private_Clean", 0) + mem.get("Private_Dirty", 0)
                shared = mem.get("Shared_Clean", 0) + mem.get("Shared_Dirty", 0)
                art = mem["artifact"]
                b = art.get("ease_weights.npy", 0) + art.get("ease_bf16.npy", 0)
                lines.append(
                    f"| {code} | {workers} | {viewers} | {n} | {mem['Rss'] / 1024:.0f} "
                    f"| {mem['Pss'] / 1024:.0f} | {uss / 1024:.0f} | {shared / 1024:.0f} "
                    f"| {sum(art.values()) / 1024:.0f} "
                    f"({b / 1024:.0f}) |"
                )
    return "\n".join([*lines, "", *timing])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="2,4", help="gunicorn worker counts")
    parser.add_argument("--viewers", type=int, default=200, help="signed-in viewers to ask for")
    parser.add_argument("--baseline", type=Path, help="another checkout to serve (before)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over 50 viewers")
    parser.add_argument("--users", type=int, default=SHAPE_25M["users"])
    parser.add_argument("--movies", type=int, default=SHAPE_25M["movies"])
    parser.add_argument("--factors", type=int, default=SHAPE_25M["factors"])
    parser.add_argument("--ease-items", type=int, default=SHAPE_25M["ease_items"])
    parser.add_argument("--neighbours", type=int, default=300, help="co-occurrence, per movie")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.viewers < 50:
        parser.error("--viewers must be at least 50")

    with tempfile.TemporaryDirectory() as tmp, throwaway_database(DB_NAME):
        from bench.load import ROOT
        from bench.movielens_synth import movielens_write
        from movies.models import Movie
        from recs.engine import artifacts
        from recs.movielens import movielens_files_detect, movielens_import
        from users.models import User
        from users.tokens import RefreshToken

        release = Path(tmp) / "release"
        movielens_write(
            release, layout="ml-25m", n_users=args.viewers, n_movies=args.movies,
            n_ratings=args.viewers * 150, tags=False,
        )  # fmt: skip
        movielens_import(movielens_files_detect(release))
        movies = list(Movie.objects.order_by("pk").values_list("pk", "rating_count"))
        viewers = list(User.objects.filter(ratings__isnull=False).distinct().order_by("pk"))
        tokens = [str(RefreshToken.for_user(user).access_token) for user in viewers]
        user_ids = np.array([u.pk for u in User.objects.order_by("pk")], dtype=np.int64)
        model = model_build(
            np.array([pk for pk, _ in movies], dtype=np.int64),
            np.array([count for _, count in movies], dtype=np.int64),
            user_ids, n_users=args.users, factors=args.factors, ease_items=args.ease_items,
            neighbours=args.neighbours,
        )  # fmt: skip
        models = Path(tmp) / "models"
        artifacts.save(model, models / "after" / VERSION)
        runs = [("this", ROOT, models / "after")]
        if args.baseline:  # a checkout from before format 3 reads format 2 only
            for name in ("before", "after-format-2"):
                format_2_copy(
                    models / "after" / VERSION, models / name / VERSION, model.ease.weights
                )
            runs = [
                ("before", args.baseline.resolve(), models / "before"),
                ("after, format 2 artifact", ROOT, models / "after-format-2"),
                ("after", ROOT, models / "after"),
            ]
        del model
        from recs.models import ModelVersion

        ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE, artifact_path=VERSION)
        size = sum(p.stat().st_size for p in (models / "after" / VERSION).iterdir())
        results: dict[str, Any] = {
            "shape": {k: v for k, v in vars(args).items() if k not in ("json", "baseline")},
            "viewers": len(tokens),
            "artifact_mb": size / 1e6,
            "runs": [],
        }
        for workers in [int(w) for w in args.workers.split(",") if w]:
            rows = measure(runs, workers, tokens, args.rounds)
            results["runs"] += rows
            for row in rows:
                print(f"{row['code']}, {workers} workers: p50 {row['p50_ms']:.1f} ms", flush=True)
        print(report(results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
