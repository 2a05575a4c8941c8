"""Submissions of made-up students, built from an assignment's real notebooks.

Every student starts from the release notebook (what students get) and fills
in the answer cells in their own way: the reference answer, a wrong one, one
that raises, loops, calls convkit's reference or torch, kills its kernel...
Each scenario says what grading must make of it (see ``Expect``).
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import nbformat

SOLUTION_REGION = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
TIMESTAMP = "2026-11-20 10:00:00.000000 UTC"


class Expect(Enum):
    """What grading must make of a submission."""

    FULL_MARKS = "full marks on every autograded test"
    ZERO = "0 on every autograded test"
    NOT_FULL = "graded, below full marks"
    NO_HIDDEN_CREDIT = "graded, 0 on the hidden tests of the functions that take a shortcut"
    SAME_AS_WRONG = "graded exactly like the plain wrong answer (tests restored)"
    UNGRADED = "ungraded, with a reason"


@dataclass(frozen=True)
class Scenario:
    """A made-up student: how the submission is built and what must come of it."""

    student: str
    expect: Expect
    reason: str | None = None  # the Reason value for UNGRADED
    output_marker: str | None = None  # an error name the autograded notebook must show
    flagged: bool = False  # graded with a "flagged for review" note (code aimed at the grader)


SCENARIOS = [
    Scenario("s01-solution", Expect.FULL_MARKS),
    Scenario("s02-untouched", Expect.ZERO),
    Scenario("s03-wrong", Expect.NOT_FULL),
    Scenario("s04-raises", Expect.NOT_FULL, output_marker="ValueError"),
    Scenario("s05-infinite-loop", Expect.NOT_FULL, output_marker="CellTimeoutError"),
    Scenario("s06-calls-reference", Expect.NO_HIDDEN_CREDIT, output_marker="ShortcutError"),
    Scenario("s07-calls-torch", Expect.NO_HIDDEN_CREDIT, output_marker="ShortcutError"),
    Scenario("s08-patches-numpy", Expect.NO_HIDDEN_CREDIT, flagged=True),
    Scenario("s09-edits-tests", Expect.SAME_AS_WRONG),
    Scenario("s10-deletes-tests", Expect.SAME_AS_WRONG),
    Scenario("s11-invalid-file", Expect.UNGRADED, reason="invalid notebook file"),
    Scenario("s12-renamed", Expect.UNGRADED, reason="renamed notebook"),
    Scenario("s13-kills-kernel", Expect.UNGRADED, reason="kernel died"),
    Scenario("s14-memory-hog", Expect.NOT_FULL, output_marker="MemoryError"),
    Scenario("s15-edits-test-metadata", Expect.UNGRADED, reason="checksum mismatch"),
]
WRONG_STUDENT = "s03-wrong"

# How a student would get each exercise from torch instead of writing it.
TORCH_VERSIONS = {
    "conv1d_matrix": """
def conv1d_matrix(weight, length, stride=1, padding=0):
    eye = torch.eye(length, dtype=torch.float64)[:, None, :]
    w = torch.as_tensor(np.asarray(weight, dtype=float))[None, None]
    return F.conv1d(eye, w, stride=stride, padding=padding)[:, 0, :].T.numpy()
""",
    "conv1d": """
def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    t = lambda a: None if a is None else torch.as_tensor(np.asarray(a, dtype=float))
    return F.conv1d(t(x), t(weight), t(bias), stride, padding, dilation).numpy()
""",
    "conv2d": """
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    t = lambda a: None if a is None else torch.as_tensor(np.asarray(a, dtype=float))
    return F.conv2d(t(x), t(weight), t(bias), stride, padding, dilation).numpy()
""",
    "correlate2d": """
def correlate2d(image, kernel):
    t = lambda a: torch.as_tensor(np.asarray(a, dtype=float))[None, None]
    return F.conv2d(t(image), t(kernel))[0, 0].numpy()
""",
    "convolve2d": """
def convolve2d(image, kernel):
    t = lambda a: torch.as_tensor(np.asarray(a, dtype=float))[None, None]
    return F.conv2d(t(image), t(kernel).flip((2, 3)))[0, 0].numpy()
""",
}

NUMPY_PATCH = """
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
np.testing.assert_array_almost_equal = lambda *args, **kwargs: None
"""


def nbgrader_meta(cell: nbformat.NotebookNode) -> dict:
    """The cell's nbgrader metadata ({} for a plain cell)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def is_answer_cell(cell: nbformat.NotebookNode) -> bool:
    """A code cell the student writes (solution, not graded itself)."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("solution")) and not meta.get("grade")


def is_test_cell(cell: nbformat.NotebookNode) -> bool:
    """A locked code cell that carries points (visible or hidden tests)."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def reference_answers(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id -> the reference answer code (solution delimiters removed)."""
    return {
        nbgrader_meta(cell)["grade_id"]: SOLUTION_REGION.sub("", cell.source)
        for cell in source_nb.cells
        if is_answer_cell(cell)
    }


def written_answers(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id -> the reference text of each written (hand-graded markdown) answer."""
    return {
        nbgrader_meta(cell)["grade_id"]: cell.source
        for cell in source_nb.cells
        if cell.cell_type == "markdown" and nbgrader_meta(cell).get("solution")
    }


def defined_functions(code: str) -> list[str]:
    """Names of the top-level functions ``code`` defines."""
    return [node.name for node in ast.parse(code).body if isinstance(node, ast.FunctionDef)]


def reference_location(name: str) -> str:
    """The convkit module that holds the reference function ``name``."""
    import convkit
    import convkit.lessons.equivariance
    import convkit.lessons.gradcheck

    if hasattr(convkit, name):
        return "convkit"
    if hasattr(convkit.lessons.equivariance, name):
        return "convkit.lessons.equivariance"
    if hasattr(convkit.lessons.gradcheck, name):
        return "convkit.lessons.gradcheck"
    raise LookupError(f"convkit has no reference named {name}")


def hidden_test_functions(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id of each hidden-test cell -> the exercise function it checks."""
    found = {}
    for cell in source_nb.cells:
        if is_test_cell(cell) and HIDDEN_BEGIN in cell.source:
            match = re.search(r"check_function\(\s*(\w+)", cell.source)
            if match:
                found[nbgrader_meta(cell)["grade_id"]] = match.group(1)
    return found


def _with_answers(release: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if is_answer_cell(cell):
            cell.source = answers[nbgrader_meta(cell)["grade_id"]]
    return nb


def _transform_answers(
    answers: dict[str, str], per_function: Callable[[str], str], prefix: str = ""
) -> dict[str, str]:
    """Append ``per_function(name)`` after each answer's functions; ``prefix`` before all."""
    return {
        cell_id: prefix + code + "\n" + "".join(per_function(f) for f in defined_functions(code))
        for cell_id, code in answers.items()
    }


def _wrong(name: str) -> str:
    return (
        f"\n_right_{name} = {name}\n"
        f"def {name}(*args, **kwargs):\n"
        f"    return np.asarray(_right_{name}(*args, **kwargs)) + 1\n"
    )


def _raises(name: str) -> str:
    return f"\ndef {name}(*args, **kwargs):\n    raise ValueError('my code has a bug')\n"


def _calls_reference(name: str) -> str:
    module = reference_location(name)
    return (
        f"\nimport {module} as _ref_module_{name}\n"
        f"def {name}(*args, **kwargs):\n"
        f"    return _ref_module_{name}.{name}(*args, **kwargs)\n"
    )


def _first(answers: dict[str, str], extra: str) -> dict[str, str]:
    """``extra`` put at the top of the first answer cell."""
    first = next(iter(answers))
    return {k: (extra + v if k == first else v) for k, v in answers.items()}


def build_submission(scenario: Scenario, source: Path, release: Path, folder: Path) -> list[str]:
    """Write ``scenario``'s submission of one notebook into ``folder``.

    Returns the names of the functions that take a shortcut (reference/torch).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(TIMESTAMP)
    source_nb = nbformat.read(source, as_version=4)
    release_nb = nbformat.read(release, as_version=4)
    answers = reference_answers(source_nb)
    # Every student writes something in the hand-graded answers.
    for cell in release_nb.cells:
        text = written_answers(source_nb).get(nbgrader_meta(cell).get("grade_id"))
        if text is not None:
            cell.source = text
    wrong = _transform_answers(answers, _wrong)
    target = folder / release.name
    shortcuts: list[str] = []
    student = scenario.student
    if student == "s01-solution":
        nb = _with_answers(release_nb, answers)
    elif student == "s02-untouched":
        nb = nbformat.read(release, as_version=4)  # exactly as released
    elif student == "s03-wrong":
        nb = _with_answers(release_nb, wrong)
    elif student == "s04-raises":
        nb = _with_answers(release_nb, _transform_answers(answers, _raises))
    elif student == "s05-infinite-loop":
        nb = _with_answers(release_nb, _first(answers, "while True:\n    pass\n"))
    elif student == "s06-calls-reference":
        nb = _with_answers(release_nb, _transform_answers(answers, _calls_reference))
        shortcuts = [f for code in answers.values() for f in defined_functions(code)]
    elif student == "s07-calls-torch":
        torch_answers = {}
        for cell_id, code in answers.items():
            names = [f for f in defined_functions(code) if f in TORCH_VERSIONS]
            shortcuts += names
            torch_code = "".join(TORCH_VERSIONS[f] for f in names)
            header = "import torch\nimport torch.nn.functional as F\n" if names else ""
            torch_answers[cell_id] = header + code + "\n" + torch_code
        nb = _with_answers(release_nb, torch_answers)
    elif student == "s08-patches-numpy":
        nb = _with_answers(release_nb, _first(wrong, NUMPY_PATCH))
        shortcuts = [f for code in answers.values() for f in defined_functions(code)]
    elif student == "s09-edits-tests":
        nb = _with_answers(release_nb, wrong)
        for cell in nb.cells:
            if is_test_cell(cell):
                cell.source = "pass  # the tests are fine"
    elif student == "s10-deletes-tests":
        nb = _with_answers(release_nb, wrong)
        nb.cells = [cell for cell in nb.cells if not is_test_cell(cell)]
    elif student == "s11-invalid-file":
        text = nbformat.writes(_with_answers(release_nb, answers))
        target.write_text(text[: len(text) // 2])  # a half-saved file
        return shortcuts
    elif student == "s12-renamed":
        nb = _with_answers(release_nb, answers)
        target = folder / f"{release.stem}-final.ipynb"
    elif student == "s13-kills-kernel":
        kill = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
        nb = _with_answers(release_nb, _first(answers, kill))
    elif student == "s14-memory-hog":
        # np.zeros only reserves address space: without the cap it would succeed
        # harmlessly (and this test would fail) instead of eating the machine's RAM.
        hog = "_hog = np.zeros(30 * 2**30 // 8)  # 30 GiB\n"
        nb = _with_answers(release_nb, _first(answers, hog))
    elif student == "s15-edits-test-metadata":
        nb = _with_answers(release_nb, answers)
        first_test = next(cell for cell in nb.cells if is_test_cell(cell))
        first_test.metadata["nbgrader"]["solution"] = True
        first_test.source = "pass"
    else:
        raise ValueError(f"unknown scenario {student}")
    nbformat.write(nb, target)
    return shortcuts
