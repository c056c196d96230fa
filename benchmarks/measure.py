"""Running a command in a fresh process and measuring it, for the benchmark scripts."""

from __future__ import annotations

import os
import subprocess
import time


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Run a command: wall seconds, CPU seconds (it and its children), peak RSS MiB, output.
    Exits, showing the output, if the command fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}\n{output}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output
