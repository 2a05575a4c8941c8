"""The course's nbgrader tooling: generate, pre-flight, autograde, feedback, export.

Run ``python -m convkit.course --help`` from the course root.  Grading is a job
per submission (:mod:`convkit.course.jobs`) that a worker runs with the
student's code in the sandbox (:mod:`convkit.course.sandbox`), locally or on a
Dask cluster (:mod:`convkit.course.cluster`), and that the grading side records
(:mod:`convkit.course.record`); :func:`convkit.course.autograde.grade_assignment`
drives it and returns one :class:`convkit.course.outcomes.Outcome` per student.
"""
