"""Running a command in a fresh process and measuring it, for the benchmark scripts."""

from __future__ import annotations

import compileall
import functools
import os
import subprocess
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "daybook"


@functools.cache
def compile_package() -> None:
    """Byte-compile daybook once, as installing it does: where PYTHONDONTWRITEBYTECODE is
    set (this work machine sets it) each timed process would compile every module again
    (0.15 to 0.25 s of its start-up), which no installed daybook does."""
    compileall.compile_dir(PACKAGE, quiet=1)


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Run a command: wall seconds, CPU seconds (it and its children), peak RSS MiB, output.
    Exits, showing the output, if the command fails."""
    compile_package()
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
