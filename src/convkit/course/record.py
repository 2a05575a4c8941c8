"""The grading side: turn a worker's :class:`JobResult` into grades, trusting only what it may.

Only this process writes the gradebook, ``autograded/`` and ``grading/``.  The
points come from nbgrader's own ``SaveAutoGrades``, run here on the graded
notebook (through an open gradebook: :class:`SaveAutoGradesThrough`) after
:func:`check_graded_notebook` has compared every grade cell with the
gradebook's record of the assignment (id, points, and the source of every test
cell): a notebook whose tests are not the assignment's own is not graded.
Nothing a student's code wrote reaches this side: the kernel ran in the
sandbox, and the notebook was written by nbgrader outside it.
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
from nbgrader.preprocessors import AssignLatePenalties, OverwriteCells, SaveAutoGrades

from convkit.course.course import Course
from convkit.course.jobs import GradingJob, JobResult, safe_write
from convkit.course.late import sync_deadlines
from convkit.course.restore_cells import RestoreTestCells


class ResultMismatch(ValueError):
    """A graded notebook whose grade cells differ from the assignment's record."""


def restored_source(grade_id: str, source: str, notice: str | None = None) -> str:
    """The source of a deleted code test cell as autograde puts it back: a comment with
    ``notice`` (``OverwriteCells.missing_cell_notification``, nbgrader's default when
    None), then the source."""
    notice = OverwriteCells.missing_cell_notification.default_value if notice is None else notice
    return "# " + notice.format(cell_id=grade_id) + source


def check_graded_notebook(
    gb: Gradebook, assignment: str, notebook: str, nb, notice: str | None = None
) -> None:
    """Raise :class:`ResultMismatch` unless ``nb``'s grade cells are the assignment's.

    Every grade cell of the gradebook must be in ``nb`` once, with the same
    points; every test cell (graded, not an answer) with the recorded source, or
    that source as autograde restores a deleted cell (``notice``: see
    :func:`restored_source`).
    """
    record = gb.find_notebook(notebook, assignment)
    expected = {cell.name: cell for cell in record.grade_cells}
    sources = {cell.name: cell.source for cell in record.source_cells}
    seen: set[str] = set()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        grade_id = meta.get("grade_id")
        if grade_id not in expected or grade_id in seen:
            raise ResultMismatch(f"{notebook}: unexpected grade cell {grade_id!r}")
        seen.add(grade_id)
        if float(meta.get("points", 0)) != float(expected[grade_id].max_score):
            raise ResultMismatch(f"{notebook}: points of {grade_id} differ from the assignment")
        if not meta.get("solution"):
            source = sources.get(grade_id)
            if source is None:
                raise ResultMismatch(f"{notebook}: no recorded source for test cell {grade_id}")
            if cell.source not in (source, restored_source(grade_id, source, notice)):
                raise ResultMismatch(f"{notebook}: test cell {grade_id} is not the assignment's")
    missing = sorted(set(expected) - seen)
    if missing:
        raise ResultMismatch(f"{notebook}: grade cells missing: {', '.join(missing)}")


def write_log(path: Path, result: JobResult) -> None:
    """Keep the worker's nbgrader log at ``path`` (``grading/logs/<assignment>/<student>.log``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"[convkit] graded on {result.worker or 'this machine'} in {result.seconds:.1f} s\n"
    path.write_text(header + result.log, encoding="utf-8")


class SaveAutoGradesThrough(SaveAutoGrades):
    """nbgrader's ``SaveAutoGrades`` (its scores, comments and rules) writing through
    ``gradebook``, an open :class:`~nbgrader.api.Gradebook`, where nbgrader's own
    opens a gradebook of its own for every notebook."""

    def __init__(self, gradebook: Gradebook, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._open_gradebook = gradebook

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        """Save the scores and comments of ``nb``'s cells (``resources["nbgrader"]``
        names the notebook, assignment and student)."""
        info = resources["nbgrader"]
        self.notebook_id, self.assignment_id = info["notebook"], info["assignment"]
        self.student_id, self.db_url = info["student"], info["db_url"]
        self.gradebook = self._open_gradebook
        return super(SaveAutoGrades, self).preprocess(nb, resources)  # the cells, no new gradebook


def register_student(gb: Gradebook, student: str, attempts: int = 5) -> None:
    """Make sure ``student`` is in the gradebook, even while other runs add students.

    nbgrader's own ``update_or_create_student`` looks the student up and then
    inserts, so two autograde runs sharing a gradebook (two assignments graded
    at once, or parallel workers) can both miss the student and one insert
    fails with ``UNIQUE constraint failed: student.id``.  Registering first,
    and treating a lost race as success once the row is visible, removes that.
    """
    for _ in range(attempts):
        try:
            gb.find_student(student)
            return
        except MissingEntry:
            pass
        try:
            gb.add_student(student)
            return
        except InvalidEntry:  # another run inserted it first (nbgrader rolled back): look again
            time.sleep(0.05)
    raise RuntimeError(f"could not register student {student!r} in the gradebook")


def save_grades(course: Course, gb: Gradebook, job: GradingJob, result: JobResult) -> None:
    """Write the graded files to ``autograded/`` and the scores to the gradebook ``gb``.

    Does what ``nbgrader autograde`` does to the course, from the worker's
    graded notebooks: the student and the submission (with its timestamp),
    every grade and comment (``SaveAutoGrades``), the due date and the student's
    extension from ``course.yml`` (:func:`~convkit.course.late.sync_deadlines`), late
    penalties (``AssignLatePenalties``, with the course's configuration, run when the
    submission is late or carried a penalty before: otherwise it would change
    nothing).  Raises :class:`ResultMismatch` for notebooks that do not match
    the assignment; nothing is written then.
    """
    assignment, student = job.assignment, job.student
    names = course.notebook_names(assignment)
    missing = [name for name in names if name not in result.files]
    if missing:
        raise ResultMismatch(f"the worker sent no graded {', '.join(missing)}")
    notebooks = {name: nbformat.reads(result.files[name].decode("utf-8"), 4) for name in names}
    with warnings.catch_warnings():
        # nbgrader's own update_or_create_submission trips SQLAlchemy's autoflush warning.
        warnings.simplefilter("ignore", category=Warning)
        notice = RestoreTestCells(config=course.config).missing_cell_notification
        for name, nb in notebooks.items():
            check_graded_notebook(gb, assignment, Path(name).stem, nb, notice)
        register_student(gb, student)
        submitted = course.submitted_dir(student, assignment)
        timestamp = course.coursedir.get_existing_timestamp(str(submitted))
        if timestamp:
            submission = gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            submission = gb.update_or_create_submission(assignment, student)
        sync_deadlines(gb, course.settings, assignment, [student])  # course.yml's, current
        penalised = submission.total_seconds_late > 0 or any(
            notebook.late_submission_penalty is not None for notebook in submission.notebooks
        )
    folder = course.autograded_dir(student, assignment)
    if folder.exists():
        shutil.rmtree(folder)
    safe_write(folder, result.files)
    for name, nb in notebooks.items():
        resources = {
            "nbgrader": {
                "db_url": course.db_url,
                "assignment": assignment,
                "notebook": Path(name).stem,
                "student": student,
            }
        }
        SaveAutoGradesThrough(gb, config=course.config).preprocess(nb, resources)
        if penalised:
            AssignLatePenalties(config=course.config).preprocess(nb, resources)


def read_score(gb: Gradebook, assignment: str, student: str) -> tuple[float, float, list[str]]:
    """(score, max score, ids of grade cells without any score) from the gradebook."""
    submission = gb.find_submission(assignment, student)
    unscored = [
        grade.name
        for notebook in submission.notebooks
        for grade in notebook.grades
        if grade.auto_score is None and grade.manual_score is None
    ]
    return float(submission.score), float(submission.max_score), unscored


def forget_grades(course: Course, assignment: str, student: str) -> None:
    """Clear this submission's automatic scores and its autograded/feedback folders."""
    for folder in (
        course.autograded_dir(student, assignment),
        course.feedback_dir(student, assignment),
    ):
        if folder.is_dir():
            shutil.rmtree(folder)
    try:
        with Gradebook(course.db_url, course.course_id) as gb:
            submission = gb.find_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = None
                    grade.needs_manual_grade = True
            gb.db.commit()
    except MissingEntry:
        pass
