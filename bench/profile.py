"""``python -m bench.profile SCENARIO``: where one serving scenario's time goes, in-process.

Runs the scenario's requests through Django's WSGI handler (the same stack gunicorn calls,
without the socket) against an already built benchmark database, under pyinstrument, and
prints the call tree, then wall and CPU time per request (CPU of this process only, so
PostgreSQL's and Redis's own work is not in it; on a busy host it is steadier than wall
time). Build the data first with ``python -m bench --scale tiny`` (or any).

    python -m bench.profile typename --scale tiny --requests 500
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    # As in movierec/wsgi.py (one BLAS thread per web process), before numpy loads (the
    # scenarios import it): with the default threads a viewer's small solves wait for the
    # busy cores, and their spinning counts as this process's CPU.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from bench.scenarios import SCENARIOS

    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-profile", action="store_true", help="only time the requests")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from movierec.embedded import ensure_env

    ensure_env()
    db_name = f"movierec_bench_{args.scale}{os.environ.get('MOVIEREC_TEST_SUFFIX', '')}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{db_name}"))
    server = SCENARIOS[args.scenario][0]
    os.environ["DJANGO_SETTINGS_MODULE"] = (
        "bench.floor.settings" if server == "floor" else "bench.settings"
    )
    if server == "ours-uncached":
        os.environ["RECS_CACHE_TTL"] = "0"
        os.environ["GRAPHQL_RESPONSE_CACHE_TTL"] = "0"
    os.environ.setdefault("CACHE_KEY_PREFIX", f"bench-{db_name}")
    os.environ.setdefault("RECS_MODEL_DIR", str(ROOT / "var" / "bench" / db_name))
    os.environ["JWT_ACCESS_MINUTES"] = "720"
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    from bench.dataset import SCALES, describe

    tokens: list[str] = []
    built = None
    if server != "floor":
        from users.models import User
        from users.tokens import RefreshToken

        built = describe(SCALES[args.scale])
        tokens = [
            str(RefreshToken.for_user(u).access_token)
            for u in User.objects.filter(pk__in=built.viewer_ids)
        ]
    requests = SCENARIOS[args.scenario][2](built, tokens)
    handler = WSGIHandler()

    def call(i: int) -> None:
        request = requests[i % len(requests)]
        body = json.dumps(request.body).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/graphql/",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
        }
        if request.token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {request.token}"
        response = handler(environ, lambda status, headers: None)
        b"".join(response)
        response.close()

    for i in range(20):  # warm: model loaded, caches filled, connections open
        call(i)
    profiler = None
    if not args.no_profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(args.requests):
        call(i)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(
        f"{args.scenario}: {args.requests} requests in {elapsed:.2f}s, "
        f"{elapsed / args.requests * 1000:.2f} ms each, "
        f"{cpu / args.requests * 1000:.2f} ms of this process's CPU each"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
