"""Thread settings shared by the book build, the grading kernel and the trainers.

- :data:`SINGLE_THREAD_ENV`: environment variables that keep torch, BLAS and
  convkit's trainers to one thread (grading kernels and the book build run
  several processes side by side on few cores).
- :func:`default_threads`: how many threads a training run uses when not told.

Imports only the standard library.
"""

from __future__ import annotations

import os

__all__ = ["SINGLE_THREAD_ENV", "default_threads"]

SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",  # torch's intra-op pool
    "OPENBLAS_NUM_THREADS": "1",  # numpy's BLAS
    "MKL_NUM_THREADS": "1",
    "CONVKIT_THREADS": "1",  # default_threads below
}


def default_threads() -> int:
    """Threads a training run uses when not told: ``$CONVKIT_THREADS`` if set, else 2.

    The book build sets ``CONVKIT_THREADS=1`` while it executes notebooks side by
    side, one per core, so two trainings never fight over the same cores.
    """
    value = os.environ.get("CONVKIT_THREADS", "").strip()
    if not value:
        return 2
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"CONVKIT_THREADS must be a positive integer, got {value!r}")
    return int(value)
