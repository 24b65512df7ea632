"""``python -m bench``: the serving benchmark suite, written to BENCHMARKS.md.

Builds (once per scale, kept between runs) a benchmark database with a synthetic
MovieLens-shaped catalogue and ratings and the model the product trains on them, then serves
the product and a bare graphene-django floor with gunicorn (same worker count and class,
DEBUG off) and drives both with ``wrk`` at each connection count. Every headline figure is a
ratio against the floor or against our own ``{__typename}``, measured in the same run.

    python -m bench                                # --scale small, 5 s per measurement
    python -m bench --scale 25m --seconds 10       # MovieLens-25M shape
    python -m bench --scenarios typename,movies --json after.json --baseline before.json
    python -m bench --scenarios '' --memory-workers '' --scaleout   # only the scale-out run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from rich.progress import Progress

ROOT = Path(__file__).resolve().parents[1]


def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _prepare_database(base_url: str, name: str, rebuild: bool) -> None:
    import psycopg

    admin = _database_url(base_url, "postgres")
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and rebuild:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(base_url: str, name: str) -> None:
    import psycopg

    admin = _database_url(base_url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    from bench.dataset import SCALES
    from bench.scenarios import SCENARIOS

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--connections", default="1,8", help="comma-separated")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument(
        "--memory-workers", default="2,4", help="worker counts for the RSS measurement ('' skips)"
    )
    parser.add_argument(
        "--scaleout",
        action="store_true",
        help="also run 1 then 2 web processes + 2 worker pools on loopback (bench/scaleout.py)",
    )
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--json", dest="json_out", help="also write the raw figures here")
    parser.add_argument("--baseline", help="raw figures of an earlier run, for before/after")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the benchmark data")
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database after")
    args = parser.parse_args(argv)
    wanted = [s for s in args.scenarios.split(",") if s]
    unknown = set(wanted) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    connections = [int(c) for c in args.connections.split(",")]

    sys.path.insert(0, str(ROOT))
    from bench import load, report
    from movierec.embedded import ensure_env

    wrk = load.ensure_wrk()
    ensure_env()
    base_url = os.environ["DATABASE_URL"]
    db_name = f"movierec_bench_{args.scale}{os.environ.get('MOVIEREC_TEST_SUFFIX', '')}"
    _prepare_database(base_url, db_name, args.rebuild)
    os.environ["DATABASE_URL"] = _database_url(base_url, db_name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("CACHE_KEY_PREFIX", f"bench-{db_name}")
    os.environ.setdefault("RECS_MODEL_DIR", str(ROOT / "var" / "bench" / db_name))
    os.environ["JWT_ACCESS_MINUTES"] = "720"  # the tokens minted below outlive the run

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    from bench.dataset import build, describe
    from movies.models import Movie
    from users.models import User
    from users.tokens import RefreshToken

    shape = SCALES[args.scale]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if Movie.objects.count() != shape.movies:
        call_command("flush", interactive=False, verbosity=0)
        print(f"building the {args.scale} data set: {shape.label}")
        built = build(shape)
    else:
        print(f"reusing the {args.scale} data set ({db_name}): {shape.label}")
        built = describe(shape)
    cache.clear()
    tokens = [
        str(RefreshToken.for_user(user).access_token)
        for user in User.objects.filter(pk__in=built.viewer_ids)
    ]

    servers = {
        "floor": load.Server("floor", "bench.floor.wsgi", "bench.floor.settings", args.workers),
        "ours": load.Server("ours", "movierec.wsgi", "bench.settings", args.workers),
        "ours-uncached": load.Server(
            "ours-uncached",
            "movierec.wsgi",
            "bench.settings",
            args.workers,
            env={"RECS_CACHE_TTL": "0", "GRAPHQL_RESPONSE_CACHE_TTL": "0"},
        ),
    }
    results: list[load.Result] = []
    memory: dict[str, list[dict[str, int]]] = {}
    order = [s for s in SCENARIOS if s in wanted]
    steps = sum(len(connections) for _ in order)
    with Progress() as progress:
        task = progress.add_task("serving scenarios", total=steps)
        for server_name, server in servers.items():
            mine = [s for s in order if SCENARIOS[s][0] == server_name]
            if not mine:
                continue
            with server:
                for scenario in mine:
                    requests = SCENARIOS[scenario][2](built, tokens)
                    load.check(server, requests, scenario)
                    for c in connections:
                        progress.update(task, description=f"{scenario} c={c}")
                        results.append(
                            load.run(
                                server,
                                scenario,
                                requests,
                                connections=c,
                                seconds=args.seconds,
                                wrk=wrk,
                            )
                        )
                        progress.advance(task)
        for workers in [int(w) for w in args.memory_workers.split(",") if w]:
            progress.update(task, description=f"memory, {workers} workers")
            server = load.Server(f"ours-{workers}", "movierec.wsgi", "bench.settings", workers)
            with server:
                requests = SCENARIOS["recommendations"][2](built, tokens)
                for _ in range(workers * 8):
                    load.post(server.url, requests[0].body, requests[0].token)
                memory[str(workers)] = [load.memory_kb(pid) for pid in server.worker_pids()]

    scaleout = None
    if args.scaleout:
        from bench import scaleout as scaleout_bench

        print("scale-out: 1 then 2 web processes, 2 worker pools")
        scaleout = scaleout_bench.run(
            built, tokens, connections=connections, seconds=args.seconds, wrk=wrk
        )

    figures = {
        "scale": args.scale,
        "shape": shape.__dict__,
        "build_seconds": built.seconds,
        "workers": args.workers,
        "seconds": args.seconds,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "python": platform.python_version(),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "results": [r.as_dict() for r in results],
        "memory": memory,
        "scaleout": scaleout,
    }
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2))
    baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
    Path(args.out).write_text(report.render(figures, baseline))
    if args.drop:
        from django.db import connections

        connections.close_all()
        _drop_database(base_url, db_name)
    summary = report.summary(figures)
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f}s: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
