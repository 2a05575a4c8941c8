"""The course's nbgrader tooling: generate, pre-flight, autograde, feedback, export.

Run ``python -m convkit.course --help`` from the course root.  Grading is a job
per submission (:mod:`convkit.course.jobs`) that a worker runs with the
student's code in the sandbox (:mod:`convkit.course.sandbox`), locally or on a
Dask cluster (:mod:`convkit.course.cluster`), and that the grading side records
(:mod:`convkit.course.record`); :func:`convkit.course.autograde.grade_assignment`
drives it and returns one :class:`convkit.course.outcomes.Outcome` per student.
"""

import sys

# Grading never checks a JSON-schema "iri" format: nbformat validates notebooks
# without a format checker.  jsonschema still imports ``rfc3987_syntax`` for it
# when installed (jupyter-events pulls it in), and that import compiles a Lark
# grammar: 1.5 of the 3 s every grading run spends starting, on one core while
# the other waits.  Marking the module absent before jsonschema loads makes
# jsonschema skip that one optional checker; nothing else changes.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
