"""Where the course's files are, read from the course's own ``nbgrader_config.py``."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from convkit.settings import Settings, load_settings, settings_path

CONFIG_FILE = "nbgrader_config.py"


class CourseNotFound(RuntimeError):
    """Raised when no directory above the start holds ``nbgrader_config.py``."""


@dataclass(frozen=True)
class Course:
    """A course checkout: the directory that holds ``nbgrader_config.py``."""

    root: Path

    @classmethod
    def find(cls, start: str | os.PathLike[str] | None = None) -> Course:
        """The course whose root is ``start`` (default: cwd) or its nearest parent."""
        here = Path(start or os.getcwd()).resolve()
        for candidate in (here, *here.parents):
            if (candidate / CONFIG_FILE).is_file():
                return cls(candidate)
        raise CourseNotFound(f"no {CONFIG_FILE} in {here} or any parent directory")

    @cached_property
    def config(self) -> Config:
        """The traitlets config that nbgrader reads from this course."""
        return PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()

    @cached_property
    def settings(self) -> Settings:
        """The course settings (``course.yml`` here, or ``$CONVKIT_COURSE_YML``)."""
        return load_settings(settings_path(self.root))

    @cached_property
    def coursedir(self) -> CourseDirectory:
        """nbgrader's CourseDirectory for this course (root, folders, gradebook URL)."""
        cfg = Config(self.config)
        cfg.CourseDirectory.root = str(self.root)
        return CourseDirectory(config=cfg)

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of the gradebook."""
        return self.coursedir.db_url

    @property
    def course_id(self) -> str:
        """The course id of the gradebook."""
        return self.coursedir.course_id

    def _step_dir(self, step: str, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(step, student, assignment)).resolve()

    def source_dir(self, assignment: str) -> Path:
        """``solutions/<assignment>``: notebooks with solutions and hidden tests."""
        return self._step_dir(self.coursedir.source_directory, ".", assignment)

    def release_dir(self, assignment: str) -> Path:
        """``exercises/<assignment>``: the student version."""
        return self._step_dir(self.coursedir.release_directory, ".", assignment)

    def submitted_dir(self, student: str, assignment: str) -> Path:
        """``submitted/<student>/<assignment>``."""
        return self._step_dir(self.coursedir.submitted_directory, student, assignment)

    def autograded_dir(self, student: str, assignment: str) -> Path:
        """``autograded/<student>/<assignment>``."""
        return self._step_dir(self.coursedir.autograded_directory, student, assignment)

    def feedback_dir(self, student: str, assignment: str) -> Path:
        """``feedback/<student>/<assignment>``."""
        return self._step_dir(self.coursedir.feedback_directory, student, assignment)

    @property
    def grading_dir(self) -> Path:
        """``grading/``: outcome records and per-student autograde logs (git-ignored)."""
        return self.root / "grading"

    def assignments(self) -> list[str]:
        """Names of the source assignments (folders of ``solutions/`` with notebooks)."""
        base = self.source_dir("x").parent
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def notebook_names(self, assignment: str) -> list[str]:
        """File names of the assignment's notebooks, e.g. ``["ch01.ipynb"]``."""
        source = self.source_dir(assignment)
        if not source.is_dir():
            raise ValueError(
                f"unknown assignment {assignment!r}: {source} does not exist "
                f"(known: {', '.join(self.assignments()) or 'none'})"
            )
        return sorted(p.name for p in source.glob("*.ipynb"))

    def submitted_students(self, assignment: str) -> list[str]:
        """Students who have a ``submitted/<student>/<assignment>`` folder."""
        base = self.submitted_dir("x", assignment).parent.parent
        if not base.is_dir():
            return []
        return sorted(
            p.name
            for p in base.iterdir()
            if (p / assignment).is_dir() and not p.name.startswith(".")
        )


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader subprocesses: this Python's ``bin`` first on PATH.

    nbgrader runs ``alembic`` (and kernels run ``python``) from PATH, so the
    virtual environment's ``bin`` must come first.
    """
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    parts = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]
    env["PATH"] = os.pathsep.join([bin_dir, *parts])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def graded_test_sources(nb: Any) -> dict[str, str]:
    """grade_id -> source of the notebook's test cells (grade cells that are not answers)."""
    sources: dict[str, str] = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and "grade_id" in meta:
            sources.setdefault(meta["grade_id"], cell.source)
    return sources


def hidden_test_ids(course: Course, assignment: str) -> set[str]:
    """grade_ids of ``assignment``'s source test cells that hold hidden tests."""
    import nbformat  # here: the grading workers import this module and need neither

    from convkit.course.feedback_filter import BEGIN_HIDDEN

    ids: set[str] = set()
    for name in course.notebook_names(assignment):
        nb = nbformat.read(course.source_dir(assignment) / name, as_version=4)
        ids.update(gid for gid, source in graded_test_sources(nb).items() if BEGIN_HIDDEN in source)
    return ids
