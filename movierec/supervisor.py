"""Child processes for ``runstack``: one process group each, labelled output, a bounded stop.

Each child runs in its own process group, so a terminal's Ctrl-C reaches only ``runstack`` (and
whatever wraps it), never the children directly: one orderly stop instead of several racing
ones. Stopping sends SIGTERM to every group, waits up to a grace period, then SIGKILLs whatever
is left in each group (a gunicorn worker or Celery pool process that outlived its parent), so
nothing stays behind holding the port.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: Lines a child prints that belong in its log, not on the console, unless asked for (``-v 2``).
QUIET_PATTERNS = (
    re.compile(r"SecurityWarning|superuser privileges|absolutely not recommended|--uid option"),
    re.compile(r"^User information: uid=|warnings\.warn\(SecurityWarning"),
)


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    stop_signal: int = signal.SIGTERM
    ready: threading.Event = field(default_factory=threading.Event)
    pump: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


class Supervisor:
    """Starts children in their own process groups and stops all of them within ``grace`` s."""

    def __init__(self, write: Callable[[str], None], *, verbose: bool = False) -> None:
        self._write = write
        self._lock = threading.Lock()
        self.verbose = verbose
        self.children: dict[str, Child] = {}

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        ready: re.Pattern[str] | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> Child:
        """Start ``argv`` with its output labelled ``name |``; ``ready`` marks the line that
        means the child is ready (its event is set when the line is seen); ``stop_signal`` is
        what ``stop`` sends it first."""
        proc = subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
            text=True,
            errors="replace",
            bufsize=1,
        )
        child = Child(name, proc, stop_signal)
        child.pump = threading.Thread(
            target=self._pump, args=(child, ready), name=f"pump-{name}", daemon=True
        )
        self.children[name] = child
        child.pump.start()
        return child

    def adopt(self, name: str, proc: subprocess.Popen) -> Child:
        """Track a child started elsewhere (in its own process group) so ``stop`` ends it."""
        child = Child(name, proc)
        child.ready.set()
        self.children[name] = child
        return child

    def _pump(self, child: Child, ready: re.Pattern[str] | None) -> None:
        assert child.proc.stdout is not None
        label = f"{child.name:<6} | "
        for line in child.proc.stdout:
            line = line.rstrip("\n")
            if ready is not None and ready.search(line):
                child.ready.set()
            if not self.verbose and any(p.search(line) for p in QUIET_PATTERNS):
                continue
            if not self.verbose and not line.strip():
                continue
            with self._lock:
                self._write(label + line)

    def say(self, text: str) -> None:
        """Write to the console without interleaving with children's lines."""
        with self._lock:
            self._write(text)

    def dead(self) -> list[str]:
        return [name for name, child in self.children.items() if not child.alive]

    def stop(self, grace: float = 4.0) -> float:
        """Signal every child, SIGKILL what is left in its group after ``grace`` s; return the
        seconds it took.

        The first signal goes to the leaders only: gunicorn's arbiter and Celery's main process
        stop their own workers in order, which is quicker than every process racing its parent.
        """
        started = time.monotonic()
        for child in self.children.values():
            if child.alive:
                child.proc.send_signal(child.stop_signal)
        deadline = started + grace
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        for child in self.children.values():
            # Leader gone or not: anything still in the group is a straggler.
            _signal_group(child.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=2)
        for child in self.children.values():
            if child.pump is not None:
                child.pump.join(timeout=1)
        return time.monotonic() - started


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
