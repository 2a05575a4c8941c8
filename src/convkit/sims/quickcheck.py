"""Quick checks: multiple-choice questions that explain every answer a reader picks.

``quick_check(question, right=..., wrong=[...])`` returns an anywidget that works in
JupyterLab and, with no kernel, in the static HTML book (its state is embedded when
the book is built).  The author gives the right answer and each wrong one with its own
explanation; the widget places the right answer at a position drawn from a hash of
the question, so an author's habit (the right answer first) never shows, and the same
question lands in the same place on every build.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import traitlets

from convkit.sims._base import SimWidget

Option = tuple[str, str]  # (answer text, why it is right / where it goes wrong)


class QuickCheck(SimWidget):
    """A multiple-choice question; choosing an option marks it and shows its explanation."""

    _sim_name = "quickcheck"
    question = traitlets.Unicode().tag(sync=True)
    options = traitlets.List(traitlets.Unicode()).tag(sync=True)
    explanations = traitlets.List(traitlets.Unicode()).tag(sync=True)
    answer = traitlets.Int().tag(sync=True)
    chosen = traitlets.Int(-1).tag(sync=True)


def option_order(question: str, n_options: int) -> list[int]:
    """Where each option is shown: the author's option ``k`` (0 = the right one) goes to
    position ``order[k]``, a permutation of ``range(n_options)`` seeded by the question.

    question: the question text (the seed, via SHA-256, so the order is reproducible).
    """
    seed = int.from_bytes(hashlib.sha256(question.encode("utf-8")).digest()[:8], "big")
    positions = list(range(n_options))
    random.Random(seed).shuffle(positions)
    return positions


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"quick_check: {what} must be a non-empty string, got {value!r}")
    return value


def _option(value: object, what: str) -> Option:
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(
            f"quick_check: {what} must be a pair (answer text, explanation), got {value!r}"
        )
    return _text(value[0], f"{what}'s text"), _text(value[1], f"{what}'s explanation")


def quick_check(question: str, right: Option, wrong: Sequence[Option]) -> QuickCheck:
    """Build a quick-check widget.

    question: the question (text; inline math ``$...$`` allowed).
    right: ``(answer, explanation)``: the right answer and why it is right.
    wrong: one to nine ``(answer, explanation)`` pairs: each tempting wrong answer and
    where it goes wrong, shown when a reader picks it.

    The options are shown in the order :func:`option_order` gives for the question.
    """
    question = _text(question, "question")
    if isinstance(wrong, str) or not isinstance(wrong, Sequence):
        raise TypeError("quick_check: wrong must be a list of (answer, explanation) pairs")
    authored = [_option(right, "right")]
    authored += [_option(w, f"wrong[{i}]") for i, w in enumerate(wrong)]
    if not 2 <= len(authored) <= 10:
        raise ValueError(
            f"quick_check: give between 1 and 9 wrong answers, got {len(authored) - 1}"
        )
    texts = [text for text, _ in authored]
    if len(set(texts)) != len(texts):
        raise ValueError("quick_check: the answers must be distinct")
    order = option_order(question, len(authored))
    shown: list[Option] = [("", "")] * len(authored)
    for k, position in enumerate(order):
        shown[position] = authored[k]
    return QuickCheck(
        question=question,
        options=[text for text, _ in shown],
        explanations=[why for _, why in shown],
        answer=order[0],
    )
