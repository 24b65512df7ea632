"""``python -m tools.tmdb_devserver --port 8765 --movies 5000 --seed 42``."""

from __future__ import annotations

import argparse
import sys
import time

from tools.tmdb_devserver.catalogue import Catalogue
from tools.tmdb_devserver.server import DevServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.tmdb_devserver", description="TMDb-compatible dev server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--movies", type=int, default=5000, help="catalogue size")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rate-limit", type=float, default=None, help="requests/second, then 429")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of random 5xx (0..1)")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--require-auth", action="store_true", help="401 without key or token")
    parser.add_argument("--api-key", default=None, help="only accept this api_key")
    parser.add_argument("--read-token", default=None, help="only accept this Bearer token")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    catalogue = Catalogue.generate(args.movies, args.seed)
    elapsed = time.perf_counter() - started
    server = DevServer(
        catalogue,
        host=args.host,
        port=args.port,
        rate_limit=args.rate_limit,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
        require_auth=args.require_auth,
        api_key=args.api_key,
        read_token=args.read_token,
        seed=args.seed,
    )
    url = server.start()
    print(
        f"TMDb dev server on {url} ({len(catalogue.movies)} movies, seed {args.seed}, "
        f"generated in {elapsed:.2f}s). Ctrl-C to stop.",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
