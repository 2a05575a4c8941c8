"""The committed exercises/ is exactly what nbgrader generate_assignment makes of solutions/."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ASSIGNMENTS, REPO

from convkit.course.course import Course
from convkit.course.generate import release_differences, tree_differences

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_is_generated(assignment: str, tmp_path: Path) -> None:
    course = Course(REPO)
    assert course.release_dir(assignment) == REPO / "exercises" / assignment
    differences = release_differences(course, assignment, tmp_path)
    assert not differences, "\n".join(differences) + "\nrun: python -m convkit.course generate"
    # The scratch generation wrote into the scratch root only.
    assert (tmp_path / "exercises" / assignment).is_dir()


def test_every_source_assignment_is_released() -> None:
    course = Course(REPO)
    assert set(ASSIGNMENTS) <= set(course.assignments())
    for assignment in course.assignments():
        assert course.release_dir(assignment).is_dir(), f"exercises/{assignment} is missing"


def test_tree_differences_sees_a_changed_byte(tmp_path: Path) -> None:
    """The comparison itself can fail."""
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "x.ipynb").write_text('{"cells": []}')
    assert tree_differences(a, b) == []
    (b / "x.ipynb").write_text('{"cells": [] }')
    (b / "extra.ipynb").write_text("{}")
    problems = tree_differences(a, b)
    assert any("differs" in p and "x.ipynb" in p for p in problems)
    assert any("extra.ipynb" in p for p in problems)
