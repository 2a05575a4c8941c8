"""The course's nbgrader tooling: generate, pre-flight, autograde, feedback, export.

Run ``python -m convkit.course --help`` from the course root.  Grading one
student's submission is :func:`convkit.course.autograde.grade_submission`, which
returns a :class:`convkit.course.outcomes.Outcome`; everything else builds on it.
"""
