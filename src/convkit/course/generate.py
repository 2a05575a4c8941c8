"""Generate the student versions (``exercises/``) from ``solutions/`` and check they match."""

from __future__ import annotations

import filecmp
import shutil
import sqlite3
from pathlib import Path

from convkit.course.course import Course
from convkit.course.runner import NbgraderRun, run_nbgrader

IGNORED_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}


def generate_assignment(course: Course, assignment: str) -> NbgraderRun:
    """``nbgrader generate_assignment ASSIGNMENT --force``: rewrite ``exercises/<assignment>``.

    Also records the assignment (cells, points, checksums) in the gradebook.
    """
    course.notebook_names(assignment)  # a clear error for an unknown assignment
    return run_nbgrader(course, ["generate_assignment", assignment, "--force"])


def assignment_in_gradebook(course: Course, assignment: str) -> bool:
    """Whether the gradebook records ``assignment`` (its cells, points and checksums)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            return False
    return True


def ensure_in_gradebook(course: Course, assignment: str) -> NbgraderRun | None:
    """Record ``assignment`` in the gradebook when it is missing (a fresh clone has no
    gradebook: autograde needs the assignment's cells and checksums there).

    Runs ``generate_assignment``, which rewrites ``exercises/<assignment>``; call it only
    after the pre-flight has shown that generation reproduces the committed files.
    Returns the run, or None when nothing had to be done.
    """
    if assignment_in_gradebook(course, assignment):
        return None
    return generate_assignment(course, assignment)


def scratch_gradebook(root: Path) -> Path:
    """The gradebook file of the scratch course ``root``."""
    return root / "gradebook.db"


def scratch_db_url(root: Path) -> str:
    """The SQLAlchemy URL of :func:`scratch_gradebook` (waits for a busy database)."""
    return f"sqlite:///{scratch_gradebook(root)}?timeout=60"


def temp_course_overrides(root: Path) -> list[str]:
    """nbgrader options that point the course root and gradebook at ``root``."""
    return [f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={scratch_db_url(root)}"]


def sqlite_path(db_url: str) -> Path | None:
    """The file of a ``sqlite:///PATH[?options]`` URL; None for any other database."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix):
        return None
    return Path(db_url[len(prefix):].split("?", 1)[0])


def seed_gradebook(target: Path, like: Path) -> bool:
    """Create ``target`` as an empty gradebook with the tables and schema version of the
    gradebook ``like``; False (nothing done) when ``like`` is not a readable gradebook.

    nbgrader creates a missing gradebook itself, but first asks the ``alembic``
    command for the schema version (a Python start-up, about 3 s); a scratch
    course seeded from the course's own gradebook skips that.  Only the schema
    is copied: no assignment, student or grade.
    """
    if not like.is_file() or target.exists():
        return False
    try:
        source = sqlite3.connect(f"{like.resolve().as_uri()}?mode=ro", uri=True)
        try:
            schema = source.execute(
                "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index')"
                " AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            versions = source.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            source.close()
    except sqlite3.Error:
        return False
    if not schema or len(versions) != 1:
        return False
    seeded = sqlite3.connect(target)
    try:
        with seeded:
            for (statement,) in schema:
                seeded.execute(statement)
            seeded.execute("INSERT INTO alembic_version (version_num) VALUES (?)", versions[0])
    except sqlite3.Error:
        seeded.close()
        target.unlink(missing_ok=True)  # half a schema must not pass for a gradebook
        return False
    seeded.close()
    return True


def regenerate_into(course: Course, assignment: str, root: Path) -> NbgraderRun:
    """Generate ``assignment`` from a copy of its source in the scratch course ``root``.

    Leaves ``root/<source dir>/<assignment>``, ``root/<release dir>/<assignment>``
    and ``root/gradebook.db`` (seeded with the course gradebook's schema when
    there is one: :func:`seed_gradebook`); the real course is not touched.
    """
    course_gradebook = sqlite_path(course.db_url)
    if course_gradebook is not None:
        seed_gradebook(scratch_gradebook(root), course_gradebook)
    source_copy = root / course.source_dir(assignment).relative_to(course.root)
    shutil.copytree(course.source_dir(assignment), source_copy, dirs_exist_ok=True)
    return run_nbgrader(
        course, ["generate_assignment", assignment, "--force", *temp_course_overrides(root)]
    )


def tree_differences(expected: Path, actual: Path) -> list[str]:
    """Human-readable differences between two folders (missing, extra, differing files)."""
    if not actual.is_dir():
        return [f"{actual} does not exist"]

    def files(folder: Path) -> set[Path]:
        return {
            p.relative_to(folder)
            for p in folder.rglob("*")
            if p.is_file() and not (set(p.relative_to(folder).parts) & IGNORED_NAMES)
        }

    want, have = files(expected), files(actual)
    problems = [f"missing: {name}" for name in sorted(want - have)]
    problems += [f"not generated from the source: {name}" for name in sorted(have - want)]
    problems += [
        f"differs from what generate_assignment makes: {name}"
        for name in sorted(want & have)
        if not filecmp.cmp(expected / name, actual / name, shallow=False)
    ]
    return problems


def release_differences(course: Course, assignment: str, scratch: Path) -> list[str]:
    """How committed ``exercises/<assignment>`` differs from a fresh generation ([]: same)."""
    run = regenerate_into(course, assignment, scratch)
    if not run.ok:
        return [f"nbgrader generate_assignment failed:\n{run.log[-2000:]}"]
    fresh = scratch / course.release_dir(assignment).relative_to(course.root)
    return tree_differences(fresh, course.release_dir(assignment))
