"""Quick checks: multiple-choice questions that reveal an explanation when answered.

``quick_check(...)`` returns an anywidget that works in JupyterLab and, with no
kernel, in the static HTML book (its state is embedded when the book is built).
"""

from __future__ import annotations

from collections.abc import Sequence

import traitlets

from convkit.sims._base import SimWidget


class QuickCheck(SimWidget):
    """A multiple-choice question; choosing an option marks it and reveals the explanation."""

    _sim_name = "quickcheck"
    question = traitlets.Unicode().tag(sync=True)
    options = traitlets.List(traitlets.Unicode()).tag(sync=True)
    answer = traitlets.Int().tag(sync=True)
    explanation = traitlets.Unicode().tag(sync=True)
    chosen = traitlets.Int(-1).tag(sync=True)


def quick_check(question: str, options: Sequence[str], answer: int, explanation: str) -> QuickCheck:
    """Build a quick-check widget.

    question, explanation: text, may contain inline math ``$...$``.
    options: at least two distinct answers (text, inline math allowed).
    answer: index (0-based) of the right option.
    """
    for name, value in (("question", question), ("explanation", explanation)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"quick_check: {name} must be a non-empty string")
    if isinstance(options, str) or not all(isinstance(o, str) and o.strip() for o in options):
        raise TypeError("quick_check: options must be a sequence of non-empty strings")
    opts = list(options)
    if not 2 <= len(opts) <= 10:
        raise ValueError(f"quick_check: give between 2 and 10 options, got {len(opts)}")
    if len(set(opts)) != len(opts):
        raise ValueError("quick_check: options must be distinct")
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(opts):
        raise ValueError(
            f"quick_check: answer must be an index in 0..{len(opts) - 1}, got {answer!r}"
        )
    return QuickCheck(question=question, options=opts, answer=answer, explanation=explanation)
