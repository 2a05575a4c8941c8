"""Grading helpers used by the tests inside the course's nbgrader notebooks.

- :func:`check_function` runs a student's function on many cases, compares each
  result with convkit's reference and raises :class:`GradingFailure` with a
  message a student can act on (the call, expected vs got shape, where values
  differ and by how much).
- :func:`no_shortcuts` is the guard it runs the student's code under: calling
  convkit's reference implementations, torch's convolution / pooling / unfold,
  scipy.signal / scipy.ndimage or ``np.convolve`` / ``np.correlate`` raises
  :class:`ShortcutError`, however the function was reached (alias, getattr,
  importlib, torch.ops, a Tensor method).
- ``check_function(..., deny=...)`` refuses more for one exercise, e.g.
  :func:`library_padding` (``np.pad`` and torch's pad) while ``pad2d`` is graded.
- :func:`random_cases` makes reproducible random test cases (fixed seed).
- :func:`assert_numpy_intact` fails when numpy functions tests rely on were
  replaced in the notebook.
- :func:`scan_notebook` / :func:`suspicious_lines` flag code in a submission that
  attacks the grader itself (for instructor tooling; see ``tamper_scan``).
"""

from convkit.grading._rules import library_padding
from convkit.grading._trusted import assert_numpy_intact
from convkit.grading.cases import random_cases
from convkit.grading.compare import check_function
from convkit.grading.errors import GradingFailure, ShortcutError
from convkit.grading.guard import no_shortcuts
from convkit.grading.tamper_scan import Finding, scan_notebook, suspicious_lines

__all__ = [
    "Finding",
    "GradingFailure",
    "ShortcutError",
    "assert_numpy_intact",
    "check_function",
    "library_padding",
    "no_shortcuts",
    "random_cases",
    "scan_notebook",
    "suspicious_lines",
]
