"""Chapter 2's assignment notebook, checked in-process (fast): metadata, the reference
solution passes every test, the release fails every graded test, wrong answers and
calls to convkit's references fail the hidden tests."""

from __future__ import annotations

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
    assert len(hidden) == 4 and len(visible) == 3
    assert sum(_meta(c)["points"] for c in hidden) > sum(_meta(c)["points"] for c in visible)
    for cell in cells:
        if not _meta(cell).get("solution"):
            assert _meta(cell).get("locked"), cell.source[:60]
        assert not cell.get("outputs")


def test_solution_passes_every_test(capsys) -> None:
    results = _run(_cells(SOURCE), {"__name__": "__main__"})
    assert {k: v for k, v in results.items() if v is not None} == {}


def test_release_fails_every_graded_test(capsys) -> None:
    released = _cells(RELEASE)
    assert all("BEGIN SOLUTION" not in c.source and "HIDDEN TESTS" not in c.source
               for c in released)
    source_tests = {_meta(c)["grade_id"]: c for c in _cells(SOURCE) if _meta(c).get("grade")}
    cells = [source_tests.get(_meta(c).get("grade_id"), c) for c in released]
    results = _run(cells, {"__name__": "__main__"})
    for grade_id, cell in source_tests.items():
        if cell.cell_type == "code":
            assert isinstance(results[grade_id], GradingFailure | NotImplementedError), grade_id
            assert isinstance(results[grade_id], NotImplementedError) or (
                "not written yet" in str(results[grade_id]))


@pytest.mark.parametrize("fn_name", ["apply_filter_bank", "horizontal_edge_kernel",
                                     "learn_kernel"])
def test_wrong_answers_fail_their_hidden_tests(fn_name: str, capsys) -> None:
    namespace, hidden = _answers_namespace()
    right = namespace[fn_name]

    def wrong(*args, _right=right, **kwargs):
        return np.asarray(_right(*args, **kwargs)) * 2 + 1

    results = _run(hidden, dict(namespace, **{fn_name: wrong}))
    fragment = {"apply_filter_bank": "bank", "horizontal_edge_kernel": "edge",
                "learn_kernel": "learn"}[fn_name]
    mine = {gid: exc for gid, exc in results.items() if fragment in gid}
    assert mine and all(isinstance(e, GradingFailure) for e in mine.values()), results
    others = {gid: exc for gid, exc in results.items() if fragment not in gid}
    assert all(e is None for e in others.values()), others


def test_hidden_tests_survive_shadowed_names(capsys) -> None:
    namespace, hidden = _answers_namespace()
    saboteur = dict(namespace, check_function=lambda *a, **k: None, convkit=None,
                    random_cases=None, np=None, horizontal_edge_problems=lambda k: [])
    assert all(v is None for v in _run(hidden, saboteur).values())


def test_hidden_tests_refuse_the_references(capsys) -> None:
    namespace, hidden = _answers_namespace()
    cheating = dict(
        namespace,
        apply_filter_bank=convkit.lessons.filters.apply_filter_bank,
        learn_kernel=convkit.lessons.filters.learn_kernel,
        horizontal_edge_kernel=lambda: convkit.lessons.filters.named_kernel("sobel_y"),
    )
    results = _run(hidden, cheating)
    assert all(isinstance(exc, ShortcutError) for exc in results.values()), results
