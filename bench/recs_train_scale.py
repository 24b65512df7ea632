"""Training end to end at MovieLens scale, stage by stage, against a raw fit in the same run.

Imports a MovieLens release (``--data DIR``, e.g. one written by ``bench/movielens_synth.py``;
or generates one of ``--ratings`` rows) into a throwaway database with ``import_movielens``,
then, in a fresh Python process (so its peak RSS is the training's alone):

1. **training** as the Celery task runs it: ``recs_model_train`` (extract, split, tune when
   ``--tune``, fit, evaluate, calibrate, refit, publish) then ``recs_model_promote_if_better``
   (gate and activation, which loads and verifies the artifact), seconds per stage;
2. **raw fit**: the same models on the same matrix, nothing else: implicit's ALS ``fit`` on the
   full confidence matrix, the EASE solve (gram + inverse) on the full signal matrix, both
   built before the clock starts, and the co-occurrence fit when the served blend uses it.

Prints each stage as a ratio to the raw fit, the training process's peak RSS and the EASE
memory (kept movies, float32 ``B`` size). Run with DATABASE_URL / REDIS_URL set, e.g.
``python -m movierec.embedded exec -- python bench/recs_train_scale.py --data DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._django import throwaway_database  # noqa: E402

DB_NAME = "movierec_bench_train_scale"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_and_raw_fit(models_dir: Path, tune: bool) -> dict:
    """The training child: the product's training, then the raw fit (Django is set up)."""
    import numpy as np
    from django.conf import settings

    from recs import services
    from recs.engine import cooc as cooc_engine
    from recs.engine import ease as ease_engine
    from recs.engine.hybrid import signal_matrix
    from recs.engine.matrix import IdIndex
    from recs.extract import interactions_extract

    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(models_dir)},
        },
    }
    # The test settings pin one thread for tiny test models; train as production does.
    settings.RECS_NUM_THREADS = int(os.environ.get("RECS_NUM_THREADS", "0"))
    params = None if tune else services.recs_params_default()
    baseline_mb = _peak_mb()
    started = time.perf_counter()
    version = services.recs_model_train(params=params, tune=tune, promote=False)
    trained = time.perf_counter() - started
    started = time.perf_counter()
    version = services.recs_model_promote_if_better(version)
    activate = time.perf_counter() - started
    train_peak_mb = _peak_mb()
    stages = dict(version.timings)
    stages["gate + activate"] = activate
    total = trained + activate
    stages["other (bookkeeping)"] = total - sum(stages.values())
    artifact = models_dir / version.artifact_path
    artifact_mb = {p.name: p.stat().st_size / 1e6 for p in artifact.iterdir()}

    # Raw fit: the same models on the same (full) matrix, inputs built before the clock.
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    hybrid = services.recs_params_default() if params is None else params
    if tune:
        from recs.engine.hybrid import HybridParams

        hybrid = HybridParams.from_dict(version.params)
    weights = services.recs_weights_default()
    extracted = interactions_extract()
    rows = extracted.interactions
    users, items = IdIndex.from_values(rows.user_ids), IdIndex.from_values(rows.item_ids)
    matrix = rows.to_matrix(weights, now=extracted.now, user_index=users, item_index=items)
    signal = signal_matrix(
        rows, weights, hybrid.blend.low_rating_value, now=extracted.now,
        user_index=users, item_index=items,
    )  # fmt: skip
    scaled = matrix.confidence.astype(np.float32, copy=True)
    scaled.data = (1.0 + hybrid.als.alpha * scaled.data).astype(np.float32)
    raw_cooc = 0.0
    if hybrid.blend.cooc_weight:
        started = time.perf_counter()
        cooc_engine.fit(rows, users, items, hybrid.cooc)
        raw_cooc = time.perf_counter() - started
    del extracted, rows
    als = AlternatingLeastSquares(
        factors=hybrid.als.factors, regularization=hybrid.als.regularization, alpha=1.0,
        dtype=np.float32, iterations=hybrid.als.iterations, calculate_training_loss=False,
        num_threads=hybrid.als.num_threads, random_state=hybrid.als.random_state,
    )  # fmt: skip
    started = time.perf_counter()
    with threadpool_limits(1, "blas"):
        als.fit(scaled, show_progress=False)
    raw_als = time.perf_counter() - started
    raw_ease = 0.0
    ease_items = 0
    if hybrid.blend.als_weight < 1:
        started = time.perf_counter()
        ease = ease_engine.fit(signal, hybrid.ease)
        raw_ease = time.perf_counter() - started
        ease_items = int(ease.items.size)
    return {
        "version": version.pk,
        "status": version.status,
        "note": version.note,
        "counts": version.data_counts,
        "params": version.params,
        "metrics": {k: v for k, v in version.metrics.items() if k != "reliability"},
        "baseline": version.baseline_metrics,
        "stages": stages,
        "total": total,
        "raw_als": raw_als,
        "raw_ease": raw_ease,
        "raw_cooc": raw_cooc,
        "ease_items": ease_items,
        "artifact_mb": artifact_mb,
        "baseline_rss_mb": baseline_mb,
        "train_peak_rss_mb": train_peak_mb,
        "peak_rss_mb": _peak_mb(),
    }


def _child(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "movierec.settings.test")
    import django
    from django.conf import settings

    django.setup()
    settings.DATABASES["default"]["NAME"] = args.child_database
    from django.db import connections

    connections.close_all()
    result = train_and_raw_fit(Path(args.models), args.tune)
    Path(args.out).write_text(json.dumps(result, default=str))


RECS_QUERY = (
    "{ recommendations(first: 20) { score source movie { id title year posterUrl "
    "genres { name } } } }"
)
SEARCH_QUERY = (
    "query($q: String!) { movies(first: 20, search: $q) { edges { node { id title year "
    "posterUrl genres { name } } } } }"
)
RATE_QUERY = "mutation($m: ID!, $s: Float!) { rateMovie(movieId: $m, score: $s) { score } }"


def serve(models: Path, workers_list: list[int], seconds: float) -> dict:
    """Serve the trained model with gunicorn: per-worker memory (RSS, PSS, private) after
    uncached recommendations for many viewers, and, with ``seconds``, load at 1 and 8
    connections (uncached recommendations, search over the catalogue, ``rateMovie``)."""
    from django.conf import settings
    from django.db import connection
    from graphql_relay import to_global_id

    from bench import load
    from movies.models import Movie
    from users.models import User
    from users.tokens import RefreshToken

    viewers = list(User.objects.order_by("pk")[:400:8])
    tokens = [str(RefreshToken.for_user(user).access_token) for user in viewers]
    popular = list(Movie.objects.order_by("-rating_count").values_list("pk", flat=True)[:40])
    word = Movie.objects.order_by("-rating_count").values_list("title", flat=True)[0].split()[0]
    base = urlsplit(os.environ["DATABASE_URL"])
    env = {
        "DATABASE_URL": urlunsplit(base._replace(path=f"/{connection.settings_dict['NAME']}")),
        "RECS_MODEL_DIR": str(models),
        "SECRET_KEY": settings.SECRET_KEY,
        "CACHE_KEY_PREFIX": f"bench-scale-{os.getpid()}",
        "RECS_CACHE_TTL": "0",  # every recommendation is computed: the model is touched
        "GRAPHQL_RESPONSE_CACHE_TTL": "0",  # ... and not answered from the response cache
        "JWT_ACCESS_MINUTES": "720",
    }
    recs = [load.Request({"query": RECS_QUERY}, token) for token in tokens]
    out: dict = {"memory": {}, "load": [], "search_word": word}
    connection.close()
    for workers in workers_list:
        server = load.Server(f"ours-{workers}", "movierec.wsgi", "bench.settings", workers, env=env)
        with server:
            started = time.perf_counter()
            for request in recs * max(1, workers // 2):
                answer = load.post(server.url, request.body, request.token)
                assert not answer.get("errors"), answer
            out.setdefault("recs_seconds", {})[str(workers)] = time.perf_counter() - started
            out["memory"][str(workers)] = [load.memory_kb(pid) for pid in server.worker_pids()]
            if seconds and workers == workers_list[0]:
                wrk = load.ensure_wrk()
                scenarios = {
                    "recommendations-uncached": recs,
                    "search": [
                        load.Request(
                            {"query": SEARCH_QUERY, "variables": {"q": word.lower()}}, tokens[0]
                        )
                    ],
                    "rate-movie": [
                        load.Request(
                            {
                                "query": RATE_QUERY,
                                "variables": {
                                    "m": to_global_id("Movie", pk),
                                    "s": 0.5 + i % 10 / 2,
                                },
                            },
                            tokens[i % len(tokens)],
                        )
                        for i, pk in enumerate(popular)
                    ],
                }
                for name, requests in scenarios.items():
                    load.check(server, requests, name)
                    for c in (1, 8):
                        result = load.run(
                            server, name, requests, connections=c, seconds=seconds, wrk=wrk
                        )
                        out["load"].append(result.as_dict())
    return out


def report(result: dict, imported: dict | None) -> str:
    """Human-readable lines: stages as ratios to the raw fit."""
    raw = result["raw_als"] + result["raw_ease"] + result.get("raw_cooc", 0.0)
    lines = []
    if imported:
        lines.append(f"import_movielens {imported['seconds']:8.1f}s   ({imported['summary']})")
    counts = result["counts"]
    lines.append(
        f"data: {counts.get('interactions', 0):,} interactions, {counts.get('users', 0):,} users, "
        f"{counts.get('movies', 0):,} movies; EASE on {result['ease_items']:,} movies "
        f"(B float32 {result['ease_items'] ** 2 * 4 / 1e6:,.0f} MB)"
    )
    lines.append(f"{'raw fit: ALS':<28} {result['raw_als']:8.1f}s")
    lines.append(f"{'raw fit: EASE':<28} {result['raw_ease']:8.1f}s")
    lines.append(f"{'raw fit: co-occurrence':<28} {result.get('raw_cooc', 0.0):8.1f}s")
    lines.append(f"{'raw fit (floor)':<28} {raw:8.1f}s   1.00x")
    for stage, seconds in result["stages"].items():
        lines.append(f"  train: {stage:<20} {seconds:8.1f}s   {seconds / raw:5.2f}x raw fit")
    total = result["total"]
    lines.append(f"{'training end to end':<28} {total:8.1f}s   {total / raw:5.2f}x raw fit")
    ndcg = result["metrics"].get("ndcg@10", 0.0)
    base = result["baseline"].get("ndcg@10", 0.0)
    lines.append(
        f"model v{result['version']} {result['status']}: ndcg@10 {ndcg:.4f} vs popularity "
        f"{base:.4f}; artifact {sum(result['artifact_mb'].values()):,.0f} MB"
    )
    lines.append(
        f"training process peak RSS {result['train_peak_rss_mb']:,.0f} MB "
        f"(at start {result['baseline_rss_mb']:,.0f} MB; with the raw fit "
        f"{result['peak_rss_mb']:,.0f} MB)"
    )
    for workers, rows in result.get("serving", {}).get("memory", {}).items():
        for n, mem in enumerate(rows, 1):
            private = mem.get("Private_Clean", 0) + mem.get("Private_Dirty", 0)
            shared = mem.get("Shared_Clean", 0) + mem.get("Shared_Dirty", 0)
            lines.append(
                f"web worker {n}/{workers}: RSS {mem.get('Rss', 0) / 1024:,.0f} MB, PSS "
                f"{mem.get('Pss', 0) / 1024:,.0f} MB, private (USS) {private / 1024:,.0f} MB, "
                f"shared {shared / 1024:,.0f} MB, peak RSS {mem.get('Peak', 0) / 1024:,.0f} MB"
            )
    for row in result.get("serving", {}).get("load", []):
        lines.append(
            f"load {row['scenario']:<26} c={row['connections']}: {row['rps']:7.1f} req/s, "
            f"p50 {row['p50_ms']:7.1f} ms, p99 {row['p99_ms']:7.1f} ms, errors {row['errors']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="a MovieLens release directory")
    parser.add_argument("--ratings", type=int, default=200_000, help="generate this many")
    parser.add_argument("--tune", action="store_true", help="tune first (slow at scale)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--memory-workers", default="2,4", help="gunicorn worker counts to measure ('' skips)"
    )
    parser.add_argument(
        "--load-seconds", type=float, default=0.0, help="also drive load with wrk (per row)"
    )
    parser.add_argument("--child-database", help=argparse.SUPPRESS)
    parser.add_argument("--models", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_database:
        _child(args)
        return

    with tempfile.TemporaryDirectory() as tmp, throwaway_database(DB_NAME):
        from django.db import connection

        from recs.movielens import movielens_files_detect, movielens_import

        data = args.data
        if data is None:
            from bench.movielens_import import shape_for
            from bench.movielens_synth import movielens_write

            users, movies = shape_for(args.ratings)
            data = Path(tmp) / "release"
            movielens_write(
                data, layout="ml-25m", n_users=users, n_movies=movies, n_ratings=args.ratings
            )
        started = time.perf_counter()
        result = movielens_import(movielens_files_detect(data))
        imported = {"seconds": time.perf_counter() - started, "summary": str(result)}
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        database = connection.settings_dict["NAME"]
        connection.close()
        out = Path(tmp) / "result.json"
        models = Path(tmp) / "models"
        command = [sys.executable, __file__, "--child-database", database]
        command += ["--models", str(models), "--out", str(out)]
        subprocess.run([*command, *(["--tune"] if args.tune else [])], check=True)
        figures = json.loads(out.read_text())
        figures["import_seconds"] = imported["seconds"]
        workers = [int(w) for w in args.memory_workers.split(",") if w]
        if workers:
            figures["serving"] = serve(models, workers, args.load_seconds)
        print(report(figures, imported))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
