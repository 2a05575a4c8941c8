"""The two exceptions a graded test can raise."""

from __future__ import annotations


class GradingFailure(AssertionError):
    """A student's answer is wrong; the message says how, in the student's terms."""


class ShortcutError(GradingFailure):
    """The student's code called a function the exercise asks them to write themselves."""
