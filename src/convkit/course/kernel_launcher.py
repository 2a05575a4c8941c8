"""Start an IPython kernel for grading with a memory cap.

The grading kernelspec (``kernels/convkit-grading/kernel.json``) runs
``python -m convkit.course.kernel_launcher [--memory-limit SIZE] -f CONNECTION_FILE``.
This module caps the address space of the kernel process (``RLIMIT_AS``), asks
Linux to kill the kernel when the process that started it dies (so an
abandoned grading run never leaves a busy kernel behind), and then replaces
itself with ``python -m ipykernel_launcher`` and the remaining arguments.

A student cell that allocates more than the cap gets a ``MemoryError`` instead
of exhausting the machine.  Student code also runs single-threaded
(:data:`SINGLE_THREAD_ENV`): autograde runs one kernel per core side by side, and
two kernels each spinning two OpenMP threads on two cores run several times
slower -- enough to push a training test past the cell timeout.
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import signal
import sys
from pathlib import Path

from convkit._env import SINGLE_THREAD_ENV
from convkit.course.sandbox import (
    CONNECTION_FILE,
    LIMITS,
    SANDBOX_ENV,
    confine_memory,
    drop_privileges,
    memory_confined,
    prepare_sandbox,
)

DEFAULT_MEMORY_LIMIT = "4GiB"
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_PR_SET_PDEATHSIG = 1


def parse_size(text: str) -> int:
    """Bytes in a size such as ``"4GiB"``, ``"512M"``, ``"2g"`` or ``"1048576"``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text, re.IGNORECASE)
    if match is None:
        raise ValueError(f"not a memory size: {text!r} (use e.g. '4GiB', '512MiB')")
    number, unit = match.groups()
    size = int(float(number) * _UNITS[unit.lower()])
    if size <= 0:
        raise ValueError(f"memory size must be positive, got {text!r}")
    return size


def split_arguments(argv: list[str]) -> tuple[int, list[str]]:
    """Take ``--memory-limit SIZE`` / ``--memory-limit=SIZE`` out of ``argv``.

    Returns the cap in bytes (the last one given wins; the default is
    ``DEFAULT_MEMORY_LIMIT``) and the arguments meant for ipykernel.
    """
    limit = DEFAULT_MEMORY_LIMIT
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--memory-limit":
            limit = next(args, "")
        elif arg.startswith("--memory-limit="):
            limit = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return parse_size(limit), rest


def die_with_parent(parent: int | None = None) -> None:
    """Ask Linux to SIGKILL this process when its parent exits (a no-op elsewhere).

    Exits at once if the parent is already gone: ``parent`` (its pid) when given,
    else when this process has been handed to init.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    gone = os.getppid() != parent if parent is not None else os.getppid() == 1
    if gone:  # the parent died before prctl took effect
        os._exit(1)


def main(argv: list[str] | None = None) -> None:
    """Apply the caps and exec the IPython kernel with the other arguments.

    With ``CONVKIT_SANDBOX=1`` in the environment (autograde), the kernel starts in
    the grading sandbox instead (:mod:`convkit.course.sandbox`): this process drops
    root, then execs ``bwrap``, which runs :data:`INSIDE` in the container.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    limit, rest = split_arguments(args)
    if os.environ.get(SANDBOX_ENV) == "1":
        _exec_sandboxed(limit, rest)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    die_with_parent()
    os.environ.update(SINGLE_THREAD_ENV)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *rest])


def _workdir_files(folder: Path) -> list[Path]:
    """Regular files beside the notebook (data an exercise may read), never notebooks."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.is_symlink()
        and p.suffix != ".ipynb"
        and p.stat().st_size <= LIMITS.file_bytes
    )


# What runs first in the container: lower the limits, then exec IPython.  Plain
# Python given with -c, so that the kernel's start does not pay for importing
# convkit (and numpy) once more.  argv: AS NPROC FSIZE CPU -- IPYTHON-ARGS.
INSIDE = """
import os, resource, sys
limits = [int(a) for a in sys.argv[1:5]]
which = [resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE, resource.RLIMIT_CPU]
for kind, value in [*zip(which, limits), (resource.RLIMIT_CORE, 0)]:
    hard = resource.getrlimit(kind)[1]  # only ever lowered: a limit set outside may be stricter
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (value, value))
rest = sys.argv[6:]
if rest == ["--probe"]:
    import convkit
    print("sandbox ok", flush=True)
    sys.exit(0)
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *rest])
"""


def _exec_sandboxed(limit: int, rest: list[str]) -> None:
    """Exec ``bwrap`` running :data:`INSIDE` and then IPython with ``rest`` (never returns)."""
    caps = [limit, LIMITS.processes, LIMITS.file_bytes, LIMITS.cpu_seconds]
    inner = [sys.executable, "-c", INSIDE, *map(str, caps), "--"]
    connection_file = None
    args = iter(rest)
    for arg in args:
        if arg == "-f":
            connection_file = next(args, None)
            inner += ["-f", CONNECTION_FILE]
        elif arg.startswith("--f="):
            connection_file = arg.split("=", 1)[1]
            inner += ["-f", CONNECTION_FILE]
        else:
            inner.append(arg)
    command = prepare_sandbox(
        inner, connection_file=connection_file, workdir_files=_workdir_files(Path.cwd())
    )
    if memory_confined() and not confine_memory(limit):
        # root with a memory controller: every kernel must be capped as a whole
        sys.exit(
            "kernel_launcher: could not move the kernel into its memory cgroup; "
            "refusing to run student code without the container's memory cap"
        )
    # The kernel's raw stdout/stderr would reach nbgrader's log file, outside the
    # container and past the output bound: IPython's own output goes over its sockets.
    if rest != ["--probe"]:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
    drop_privileges()
    die_with_parent()  # after the change of user, which clears the parent-death signal
    # No environment for bwrap itself (it runs in the container, readable in /proc/1/environ).
    os.execve(command[0], command, {})


if __name__ == "__main__":
    main()
