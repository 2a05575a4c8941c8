"""Grading helpers used by the tests inside the course's nbgrader notebooks.

- :func:`check_function` runs a student's function on many cases, compares each
  result with convkit's reference and raises :class:`GradingFailure` with a
  message a student can act on (the call, expected vs got shape, where values
  differ and by how much). When the wrong result equals a known mistake of the
  graded operation (:mod:`convkit.grading.mistakes`: for convolution a forgotten
  bias, a flipped or transposed kernel, H and W exchanged, an output a row too
  large, padding on one side, the stride ignored; for pooling windows not strided,
  ties routed to the wrong maximum; for backward passes a gradient not summed over
  the batch; ...), the message ends by naming it and saying what to change.
- :func:`no_shortcuts` is the guard it runs the student's code under: calling
  convkit's reference implementations, torch's convolution / pooling / unfold,
  torch's normalisation (batch, group, layer, instance, RMS norm), torch's dropout,
  ``torch.nn.init``, ``torch.optim`` (and its fused kernels), torchvision's transforms,
  scipy.signal / scipy.ndimage or ``np.convolve`` / ``np.correlate`` raises
  :class:`ShortcutError`, however the function was reached (alias, getattr,
  importlib, torch.ops, a Tensor method); so does torch's own cost counting (the FLOP
  counter ``torch.utils.flop_counter`` and the profilers that count FLOPs), in every
  exercise, torch's layers allowed or not.
- ``check_function(..., deny=...)`` refuses more for one exercise, e.g.
  :func:`library_padding` (``np.pad`` and torch's pad) while ``pad2d`` is graded;
  ``allow=(TORCH_UNFOLD,)`` / ``allow=(TORCH_LAYERS,)`` permit torch's unfold or its
  layers (batch norm and torch.nn.init included) where an exercise builds on them.
- :func:`check_prediction` grades a "predict, then measure" item: the measurement
  must equal the reference's value, the prediction must agree with it; each failure
  says which part failed and names a known wrong value's meaning.
- :func:`random_cases` makes reproducible random test cases (fixed seed).
- :func:`assert_numpy_intact` fails when numpy functions tests rely on were
  replaced in the notebook.
- :func:`scan_notebook` / :func:`suspicious_lines` flag code in a submission that
  attacks the grader itself (for instructor tooling; see ``tamper_scan``).
"""

from convkit.grading._rules import TORCH_LAYERS, TORCH_UNFOLD, library_padding
from convkit.grading._trusted import assert_numpy_intact
from convkit.grading.cases import random_cases
from convkit.grading.compare import check_function
from convkit.grading.errors import GradingFailure, ShortcutError
from convkit.grading.guard import no_shortcuts
from convkit.grading.predictions import check_prediction
from convkit.grading.tamper_scan import Finding, scan_notebook, suspicious_lines

__all__ = [
    "TORCH_LAYERS",
    "TORCH_UNFOLD",
    "Finding",
    "GradingFailure",
    "ShortcutError",
    "assert_numpy_intact",
    "check_function",
    "check_prediction",
    "library_padding",
    "no_shortcuts",
    "random_cases",
    "scan_notebook",
    "suspicious_lines",
]
