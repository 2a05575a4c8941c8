"""Chapter 2's assignment notebook, checked in-process (fast): metadata, the reference
solution passes every test, the release fails every graded test, wrong answers and
calls to convkit's references fail the hidden tests, and the predict-then-measure
item fails a wrong prediction and a wrong measurement, each with its own message."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

import convkit.lessons.filters
from convkit.grading import GradingFailure, ShortcutError

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "ch02" / "ch02.ipynb"
RELEASE = ROOT / "exercises" / "ch02" / "ch02.ipynb"


def _cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*$",
                      re.M | re.S)
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
                    re.M | re.S)


def _release_of_source() -> list:
    """The student version made as nbgrader makes it: each solution region replaced by
    the stub, each hidden-test region removed (independent of the committed exercises/,
    which the course's generate command rewrites)."""
    cells = copy.deepcopy(_cells(SOURCE))
    for cell in cells:
        if _meta(cell).get("solution") and cell.cell_type == "code":
            cell.source = SOLUTION.sub(
                lambda m: f"{m[1]}# YOUR CODE HERE\n{m[1]}raise NotImplementedError()",
                cell.source)
        elif _meta(cell).get("solution"):
            cell.source = "YOUR ANSWER HERE"
        cell.source = HIDDEN.sub("", cell.source)
    return cells


def _run(cells, namespace: dict) -> dict[str, Exception | None]:
    results = {}
    for cell in cells:
        if cell.cell_type != "code":
            continue
        try:
            exec(compile(cell.source, f"<{_meta(cell).get('grade_id')}>", "exec"), namespace)
        except Exception as exc:
            results[_meta(cell).get("grade_id")] = exc
        else:
            results[_meta(cell).get("grade_id")] = None
    return results


def _answers_namespace() -> tuple[dict, list]:
    cells = _cells(SOURCE)
    namespace = {"__name__": "__main__"}
    assert all(v is None for v in _run([c for c in cells if not _meta(c).get("grade")],
                                       namespace).values())
    return namespace, [c for c in cells if "BEGIN HIDDEN TESTS" in c.source]


def test_metadata_points_and_locks() -> None:
    cells = _cells(SOURCE)
    ids = [_meta(c)["grade_id"] for c in cells if _meta(c)]
    assert len(ids) == len(set(ids)) == len(cells)
    graded = [c for c in cells if _meta(c).get("grade")]
    assert sum(_meta(c)["points"] for c in graded) == 10
    tests = [c for c in graded if c.cell_type == "code"]
    hidden = [c for c in tests if "### BEGIN HIDDEN TESTS" in c.source]
    visible = [c for c in tests if "BEGIN HIDDEN TESTS" not in c.source]
    assert len(hidden) == 5 and len(visible) == 3
    assert sum(_meta(c)["points"] for c in hidden) > sum(_meta(c)["points"] for c in visible)
    for cell in cells:
        if not _meta(cell).get("solution"):
            assert _meta(cell).get("locked"), cell.source[:60]
        assert not cell.get("outputs")


def test_solution_passes_every_test(capsys) -> None:
    results = _run(_cells(SOURCE), {"__name__": "__main__"})
    assert {k: v for k, v in results.items() if v is not None} == {}


@pytest.mark.parametrize("which", ["made from the source", "committed"])
def test_release_fails_every_graded_test(which: str, capsys) -> None:
    released = _release_of_source() if which == "made from the source" else _cells(RELEASE)
    # the release's first cell, the install hint (convkit.course.install_hint), is not graded
    released = [c for c in released if not c.get("metadata", {}).get("convkit_install_hint")]
    source_tests = {_meta(c)["grade_id"]: c for c in _cells(SOURCE) if _meta(c).get("grade")}
    if which == "committed" and {_meta(c).get("grade_id") for c in released} != {
            _meta(c)["grade_id"] for c in _cells(SOURCE)}:
        pytest.skip("exercises/ch02 predates solutions/ch02: regenerate it "
                    "(python -m convkit.course generate ch02)")
    assert all("BEGIN SOLUTION" not in c.source and "HIDDEN TESTS" not in c.source
               for c in released)
    cells = [source_tests.get(_meta(c).get("grade_id"), c) for c in released]
    results = _run(cells, {"__name__": "__main__"})
    for grade_id, cell in source_tests.items():
        if cell.cell_type == "code":
            assert isinstance(results[grade_id], GradingFailure | NotImplementedError), grade_id
            assert isinstance(results[grade_id], NotImplementedError) or (
                "not written yet" in str(results[grade_id])), (grade_id, results[grade_id])


# Which hidden cells depend on each function (the predict item measures with the bank).
DEPENDS = {"apply_filter_bank": ("bank", "predict"), "diagonal_edge_kernel": ("edge",),
           "learn_kernel": ("learn",)}


@pytest.mark.parametrize("fn_name", list(DEPENDS))
def test_wrong_answers_fail_their_hidden_tests(fn_name: str, capsys) -> None:
    namespace, hidden = _answers_namespace()
    right = namespace[fn_name]

    def wrong(*args, _right=right, **kwargs):
        return np.asarray(_right(*args, **kwargs)) * 2 + 1

    results = _run(hidden, dict(namespace, **{fn_name: wrong}))
    fragments = DEPENDS[fn_name]
    mine = {gid: exc for gid, exc in results.items() if any(f in gid for f in fragments)}
    assert len(mine) >= len(fragments), results
    assert all(isinstance(e, GradingFailure) for e in mine.values()), results
    others = {gid: exc for gid, exc in results.items() if gid not in mine}
    assert all(e is None for e in others.values()), others


def test_hidden_tests_survive_shadowed_names(capsys) -> None:
    namespace, hidden = _answers_namespace()
    saboteur = dict(namespace, check_function=lambda *a, **k: None, convkit=None,
                    random_cases=None, np=None, diagonal_edge_problems=lambda k: [],
                    GradingFailure=None)
    assert all(v is None for v in _run(hidden, saboteur).values())


def test_hidden_tests_refuse_the_references(capsys) -> None:
    namespace, hidden = _answers_namespace()
    cheating = dict(
        namespace,
        apply_filter_bank=convkit.lessons.filters.apply_filter_bank,
        learn_kernel=convkit.lessons.filters.learn_kernel,
        diagonal_edge_kernel=lambda: (convkit.lessons.filters.named_kernel("sobel_x")
                                      - convkit.lessons.filters.named_kernel("sobel_y")),
    )
    results = _run(hidden, cheating)
    assert all(isinstance(exc, ShortcutError) for exc in results.values()), results


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"prediction": 2.4}, "but your prediction 2.4 does not agree"),  # one window only
        ({"prediction": 38.45}, "within 0.01"),  # outside the stated 0.01
        ({"measured": 38.4 + 1e-3}, "the measurement is wrong"),
        ({"measured": 0.0}, "the measurement is wrong"),  # never computed
        ({"prediction": "about forty"}, "`prediction` is a str"),
    ],
)
def test_predict_item_names_what_failed(answers: dict, message: str, capsys) -> None:
    namespace, hidden = _answers_namespace()
    predict = [c for c in hidden if "predict" in _meta(c)["grade_id"]]
    assert len(predict) == 1
    assert _run(predict, dict(namespace)) == {"ch02-predict-hidden": None}
    assert namespace["prediction"] == pytest.approx(38.4)
    result = _run(predict, dict(namespace, **answers))["ch02-predict-hidden"]
    assert isinstance(result, GradingFailure) and message in str(result), result


def test_predict_item_accepts_a_prediction_within_the_tolerance(capsys) -> None:
    namespace, hidden = _answers_namespace()
    predict = [c for c in hidden if "predict" in _meta(c)["grade_id"]]
    assert _run(predict, dict(namespace, prediction=38.395)) == {"ch02-predict-hidden": None}
