"""`make run`: migrate, make sure the demo data exists, then run web + worker + beat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

EXAMPLE_QUERY = "{ movies(first: 5) { edges { node { title year genres { name } } } } }"


class Command(BaseCommand):
    help = "Run the API, a Celery worker and Celery beat with demo data, until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="Skip demo data.")
        parser.add_argument("--check", action="store_true", help="Start, print, then stop.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        children: dict[str, subprocess.Popen] = {}
        if not (settings.TMDB_API_KEY or settings.TMDB_READ_TOKEN):
            # No TMDb credentials: serve a local TMDb and point this process, the worker and
            # beat at it (children inherit the environment). It has no rate limit.
            from movierec.demo import tmdb_devserver_start

            children["tmdb-dev"], url = tmdb_devserver_start()
            os.environ.update(TMDB_API_URL=url, TMDB_RATE_LIMIT="0")
            settings.TMDB_API_URL, settings.TMDB_RATE_LIMIT = url, 0.0
            self.stdout.write(f"no TMDb key configured: TMDb dev server on {url}")
        if not options["no_demo"]:
            from movierec.demo import demo_ensure

            try:
                self.stdout.write(str(demo_ensure(self.stdout)))
            except BaseException:
                self._stop(children)  # never leave the dev server running behind us
                raise

        python = sys.executable
        bind = f"{options['host']}:{options['port']}"
        procs = {
            "web": [python, "-m", "gunicorn", "movierec.wsgi", "--bind", bind, "--workers", "2",
                    "--threads", "4", "--timeout", "120", "--access-logfile", "-"],
            "worker": [python, "-m", "celery", "-A", "movierec", "worker", "-Q", "default,sync,ml",
                       "--concurrency", "2", "--loglevel", "INFO"],
            "beat": [python, "-m", "celery", "-A", "movierec", "beat", "--loglevel", "INFO"],
        }  # fmt: skip
        children.update({name: subprocess.Popen(cmd) for name, cmd in procs.items()})
        url = f"http://{bind}"
        self._wait_for_web(url)
        from movierec.demo import DEMO_PASSWORD, DEMO_USERNAME

        self.stdout.write(
            self.style.SUCCESS(f"\nmovierec is up in {time.monotonic() - started:.1f}s")
        )
        self.stdout.write(f"  GraphQL:  {url}/graphql/  (GraphiQL in a browser)")
        self.stdout.write(f"  Health:   {url}/healthz     Admin: {url}/admin/")
        self.stdout.write(f"  Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(
            f"  Try: curl -s {url}/graphql/ -H 'Content-Type: application/json' "
            f'-d \'{{"query": "{EXAMPLE_QUERY}"}}\''
        )
        self.stdout.write("  Ctrl-C stops everything.\n")
        if options["check"]:
            self._stop(children)
            return

        def interrupt(_signum: int, _frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupt)  # stop children cleanly on a plain kill too
        signal.signal(signal.SIGHUP, interrupt)
        try:
            while all(p.poll() is None for p in children.values()):
                time.sleep(0.5)
            dead = [n for n, p in children.items() if p.poll() is not None]
            self.stderr.write(f"{', '.join(dead)} exited; stopping the rest")
        except KeyboardInterrupt:
            pass
        finally:
            self._stop(children)

    def _wait_for_web(self, url: str, timeout: float = 60) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    return
            except Exception:
                time.sleep(0.3)
        self.stderr.write(f"web did not answer at {url} within {timeout:.0f}s")

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in children.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.stdout.write(f"stopped {', '.join(children)}")
