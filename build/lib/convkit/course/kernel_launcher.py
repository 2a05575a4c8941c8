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

from convkit._env import SINGLE_THREAD_ENV

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
    """Apply the caps and exec the IPython kernel with the other arguments."""
    limit, rest = split_arguments(list(sys.argv[1:] if argv is None else argv))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    die_with_parent()
    os.environ.update(SINGLE_THREAD_ENV)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *rest])


if __name__ == "__main__":
    main()
