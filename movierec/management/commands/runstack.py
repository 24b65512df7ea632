"""`make run`: migrate, make sure the demo data exists, then run web + worker + beat.

Every stop (Ctrl-C, SIGTERM, SIGHUP, once or repeated) ends every child within seconds and
exits 0; a busy port or a child that dies fails with a message and a non-zero exit.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from movierec.supervisor import Supervisor

EXAMPLE_QUERY = "{ movies(first: 5) { edges { node { title year genres { name } } } } }"
WORKER_READY = re.compile(r"celery@\S+ ready\.")
#: Beat has written its schedule to the database (a stop before that logs a traceback per entry).
BEAT_READY = re.compile(r"DatabaseScheduler: Schedule changed|beat: Waking up")
BEAT_GRACE = 20.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Stop(Exception):
    """A stop signal arrived while runstack was busy in-process (migrating, seeding)."""


def port_is_free(host: str, port: int) -> tuple[bool, str]:
    """Bind the address as gunicorn will (SO_REUSEADDR); return (free, reason)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return False, exc.strerror or str(exc)
    return True, ""


class Command(BaseCommand):
    help = "Run the API, a Celery worker and Celery beat with demo data, until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="Skip demo data.")
        parser.add_argument("--check", action="store_true", help="Start, print, then stop.")
        parser.add_argument(
            "--timeout", type=float, default=120.0, help="Seconds to wait for web and worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        host, port = options["host"], options["port"]
        free, reason = port_is_free(host, port)
        if not free:
            raise CommandError(
                f"port {port} on {host} is not available ({reason}): another server is "
                f"probably running there. Stop it, or pick another port: PORT={port + 1} make run"
            )
        stack = Supervisor(self.stdout.write, verbose=options["verbosity"] >= 2)
        self._stopping = False
        self._interruptible = True

        def on_signal(signum: int, _frame: object) -> None:
            # The first signal stops the stack; repeats (Ctrl-C reaching us twice through a
            # wrapper, an impatient second Ctrl-C) are absorbed: the stop is already bounded.
            if self._stopping:
                return
            self._stopping = True
            if self._interruptible:
                raise _Stop

        previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
        signalled = False
        try:
            self._run(stack, started, options)
        except (_Stop, KeyboardInterrupt):
            signalled = True
        finally:
            self._interruptible = False
            self._stopping = True
            if stack.children:
                names = ", ".join(stack.children)
                took = stack.stop()
                stack.say(f"stopped {names} in {took:.1f}s")
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if signalled or not options["check"]:
            # Stopped by a signal, children gone: skip the interpreter's teardown of this
            # Django process, which takes seconds on a busy machine and has nothing to save.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)

    def _run(self, stack: Supervisor, started: float, options: dict[str, Any]) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        env = dict(os.environ)
        if not (settings.TMDB_API_KEY or settings.TMDB_READ_TOKEN):
            # No TMDb credentials: serve a local TMDb (API and placeholder posters) and point
            # this process, the worker and beat at it.
            from movierec.demo import devserver_image_base, tmdb_devserver_start

            self._interruptible = False
            proc, url = tmdb_devserver_start()
            stack.adopt("tmdb-dev", proc)
            self._interruptible = True
            self._check_stop()
            images = devserver_image_base(url)
            env.update(TMDB_API_URL=url, TMDB_RATE_LIMIT="0", TMDB_IMAGE_BASE_URL=images)
            os.environ.update(TMDB_API_URL=url, TMDB_RATE_LIMIT="0", TMDB_IMAGE_BASE_URL=images)
            settings.TMDB_API_URL, settings.TMDB_RATE_LIMIT = url, 0.0
            settings.TMDB_IMAGE_BASE_URL = images
            self.stdout.write(f"no TMDb key configured: TMDb dev server on {url}")
        if not options["no_demo"]:
            from movierec.demo import demo_ensure

            self.stdout.write(str(demo_ensure(self.stdout)))

        python = sys.executable
        bind = f"{options['host']}:{options['port']}"
        celery = [python, "-m", "celery", "-A", "movierec"]
        quiet = [] if options["verbosity"] >= 2 else ["--quiet"]
        if options["verbosity"] < 2:
            # Celery warns at length when run as root (containers, CI); it is noise here.
            env["PYTHONWARNINGS"] = "ignore:You're running the worker with superuser privileges"
        procs = {
            "web": [python, "-m", "gunicorn", "movierec.wsgi", "--bind", bind, "--workers", "2",
                    "--threads", "4", "--timeout", "120", "--graceful-timeout", "2",
                    "--no-control-socket",
                    "--access-logfile", "-"],
            "worker": [*celery, *quiet, "worker", "-Q", "default,sync,ml", "--concurrency", "2",
                       "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
            "beat": [*celery, *quiet, "beat", "--loglevel", "INFO"],
        }  # fmt: skip
        self._interruptible = False  # a signal now must not lose track of a child
        for name, argv in procs.items():
            stack.spawn(
                name,
                argv,
                env=env,
                ready={"worker": WORKER_READY, "beat": BEAT_READY}.get(name),
                # gunicorn's quick shutdown: a graceful one waits out its timeout on idle
                # keep-alive threads, and a dev stack has no request worth 5 s.
                stop_signal=signal.SIGINT if name == "web" else signal.SIGTERM,
            )
        self._interruptible = True
        self._check_stop()
        url = f"http://{bind}"
        self._wait_ready(stack, url, options["timeout"])
        from movierec.demo import DEMO_PASSWORD, DEMO_USERNAME

        curl = f"curl -s {url}/graphql/ -H 'Content-Type: application/json' -d "
        sign_in = (
            f'mutation {{ tokenAuth(username: \\"{DEMO_USERNAME}\\", '
            f'password: \\"{DEMO_PASSWORD}\\") {{ access refresh }} }}'
        )
        banner = [
            "",
            self.style.SUCCESS(f"movierec is up in {time.monotonic() - started:.1f}s"),
            f"  GraphQL:    {url}/graphql/  (GraphiQL in a browser)",
            f"  Health:     {url}/healthz     Admin: {url}/admin/",
            f"  Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}",
            f'  Sign in:    {curl}\'{{"query": "{sign_in}"}}\'',
            f'  Query:      {curl}\'{{"query": "{EXAMPLE_QUERY}"}}\'',
            "  Clients:    docs/clients.md (web and mobile), docs/api.md (the API)",
            '  Ctrl-C stops everything; make run RUNSTACK_ARGS="-v 2" shows all Celery output.',
            "",
        ]
        stack.say("\n".join(banner))
        if options["check"]:
            return
        while not self._stopping:
            dead = stack.dead()
            if dead:
                raise CommandError(f"{', '.join(dead)} exited; stopped the rest")
            time.sleep(0.2)

    def _check_stop(self) -> None:
        if self._stopping:
            raise _Stop

    def _wait_ready(self, stack: Supervisor, url: str, timeout: float) -> None:
        """Return once the web server answers HTTP and the worker is ready; fail if either
        dies or the timeout passes."""
        deadline = time.monotonic() + timeout
        web_up = False
        while time.monotonic() < deadline:
            dead = stack.dead()
            if dead:
                raise CommandError(
                    f"{', '.join(dead)} exited during start-up (see its lines above)"
                )
            if not web_up:
                web_up = _answers(f"{url}/healthz")
            if web_up and stack.children["worker"].ready.is_set():
                break
            time.sleep(0.2)
        else:
            waiting = "web" if not web_up else "worker"
            raise CommandError(
                f"{waiting} was not ready within {timeout:.0f}s (see the lines above)"
            )
        # Beat logs no "ready" line of its own; it says when it has synced its schedule. Give it
        # a little while, so a stop right after the banner finds it idle; never fail on it.
        beat_deadline = time.monotonic() + BEAT_GRACE
        while time.monotonic() < beat_deadline and not stack.children["beat"].ready.is_set():
            if stack.dead():
                raise CommandError(f"{', '.join(stack.dead())} exited during start-up")
            time.sleep(0.2)


def _answers(url: str) -> bool:
    """Any HTTP answer counts (health is 503 while, say, no model is active)."""
    try:
        with urllib.request.urlopen(url, timeout=10):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
