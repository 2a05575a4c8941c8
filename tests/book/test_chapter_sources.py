"""Fast checks of the chapter sources (no build): the page shows teaching code only,
its code fits the page, and every chapter ends with exercises whose answers the
instructors have.

- Plumbing is hidden: a ``glue(...)`` call or a build-only check sits in a cell tagged
  ``remove-cell`` (still executed, so a wrong number still fails the build). An assert
  a reader sees teaches, so it says what it checks (it carries a message).
- No displayed code line is longer than 88 characters (no sideways scrolling).
- Each chapter ends with a "## Exercises" section of 4 to 6 numbered, ungraded
  exercises; ``solutions/answers/chNN.md`` answers each of them.
- Each chapter's assignment has at least one "predict, then measure" item (a graded
  cell whose grade id contains ``predict``).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(ROOT.glob("book/ch[0-9][0-9]_*.ipynb"))
HIDDEN_TAGS = {"remove-cell", "remove-input"}
MAX_LINE = 88


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _visible_code(path: Path) -> list[tuple[int, str]]:
    """(cell number, source) of the code cells whose code the page shows."""
    return [
        (i, "".join(c["source"]))
        for i, c in enumerate(_cells(path))
        if c["cell_type"] == "code" and not HIDDEN_TAGS & set(c["metadata"].get("tags", []))
    ]


def _silent_asserts(source: str) -> list[int]:
    """Line numbers of the ``assert`` statements without a message."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: check the lines that parse on their own
        return [n for n, line in enumerate(source.splitlines(), 1)
                if re.match(r"\s*assert\b", line) and "," not in line]
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)
            and node.msg is None]


def test_chapters_found() -> None:
    assert len(CHAPTERS) >= 10


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_plumbing_is_hidden(path: Path) -> None:
    problems = []
    for i, source in _visible_code(path):
        if re.search(r"\bglue\(|import glue\b", source):
            problems.append(f"cell {i}: glue in a visible cell (tag it remove-cell)")
        for line in _silent_asserts(source):
            problems.append(f"cell {i} line {line}: a visible assert without a message "
                            "(say what it teaches, or move a build-only check to a "
                            "remove-cell cell)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_displayed_code_fits_the_page(path: Path) -> None:
    long_lines = [
        f"cell {i}: {len(line)} chars: {line[:60]}..."
        for i, source in _visible_code(path)
        for line in source.splitlines()
        if len(line) > MAX_LINE
    ]
    assert not long_lines, "\n".join(long_lines)


def _exercise_count(path: Path) -> int:
    """Numbered items of the chapter's closing "## Exercises" section."""
    markdown = "\n".join("".join(c["source"]) for c in _cells(path)
                         if c["cell_type"] == "markdown")
    match = re.search(r"^## Exercises\s*$(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"{path.name}: no '## Exercises' section"
    return len(re.findall(r"^\d+\.\s", match.group(1), re.M))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_ends_with_answered_exercises(path: Path) -> None:
    count = _exercise_count(path)
    assert 4 <= count <= 6, f"{path.name}: {count} end-of-chapter exercises (want 4-6)"
    answers = ROOT / "solutions" / "answers" / f"{path.stem[:4]}.md"
    assert answers.exists(), f"no instructor answers: {answers.relative_to(ROOT)}"
    answered = re.findall(r"^## Exercise (\d+)\b", answers.read_text(), re.M)
    assert answered == [str(k) for k in range(1, count + 1)], (
        f"{answers.name} answers {answered}, the chapter has {count} exercises")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_assignment_has_a_predict_then_measure_item(path: Path) -> None:
    chapter = path.stem[:4]
    source = ROOT / "solutions" / chapter / f"{chapter}.ipynb"
    graded = [c["metadata"]["nbgrader"]["grade_id"] for c in _cells(source)
              if c["metadata"].get("nbgrader", {}).get("grade")]
    assert any("predict" in grade_id for grade_id in graded), (
        f"{source.name}: no graded predict-then-measure cell among {graded}")
