"""`movierec.embedded exec` passes each stop signal to its command exactly once.

A terminal's Ctrl-C reaches the wrapper and the command together, so the wrapper must not
repeat it; a signal sent to the wrapper alone (kill, a supervisor) must reach the command.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Prints "ready", then counts the stop signals it gets in the second after the first one.
CHILD = """
import signal, sys, time
got = []
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, lambda n, f: got.append(signal.Signals(n).name))
print("ready", flush=True)
while not got:
    time.sleep(0.02)
time.sleep(1)
print("got", " ".join(got), flush=True)
"""


def _command() -> list[str]:
    return [sys.executable, "-m", "movierec.embedded", "exec", "--", sys.executable, "-c", CHILD]


def _env() -> dict[str, str]:
    # The suite's URLs are set, so exec starts no services and the test stays fast.
    assert os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")
    return dict(os.environ)


def _read_until(fd: int, marker: bytes, timeout: float = 60) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_wrapper_alone_reaches_the_command_once(signum):
    proc = subprocess.Popen(
        _command(), cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.decode().split() == ["got", signum.name]
    assert b"Traceback" not in err


def _in_terminal(argv: list[str], cwd: Path = ROOT) -> tuple[subprocess.Popen, int]:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=_env(), stdin=slave, stdout=slave, stderr=slave,
        start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )  # fmt: skip
    os.close(slave)
    return proc, master


def test_ctrl_c_in_a_terminal_reaches_the_command_once():
    proc, master = _in_terminal(_command())
    try:
        assert b"ready" in _read_until(master, b"ready")
        os.write(master, b"\x03")
        out = _read_until(master, b"got").decode() + _read_until(master, b"\n").decode()
        assert proc.wait(timeout=30) == 0, out
        assert "got SIGINT\r\n" in out and "got SIGINT SIGINT" not in out, out
        assert "Traceback" not in out
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


def test_ctrl_c_under_make_is_quiet_and_exits_0(tmp_path):
    """`make run` then Ctrl-C: the command is the terminal's foreground job, so make is not
    interrupted and reports nothing; it exits with the command's status."""
    (tmp_path / "child.py").write_text(CHILD)
    python = sys.executable
    command = f"{python} -m movierec.embedded exec -- {python} {tmp_path / 'child.py'}"
    (tmp_path / "Makefile").write_text(f"run:\n\t@cd {ROOT} && {command}\n")
    proc, master = _in_terminal(["make", "-s", "run"], cwd=tmp_path)
    try:
        assert b"ready" in _read_until(master, b"ready")
        os.write(master, b"\x03")
        out = _read_until(master, b"got").decode() + _read_until(master, b"\n").decode()
        assert proc.wait(timeout=30) == 0, out
        assert "got SIGINT\r\n" in out, out
        assert "Interrupt" not in out and "Error" not in out, out
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
