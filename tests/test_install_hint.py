"""Every released exercise notebook opens with one line on installing convkit (from
course.yml's repository when there is one): convkit.course.install_hint."""

from __future__ import annotations

from pathlib import Path

import nbformat

from convkit.course.install_hint import HINT_KEY, AddInstallHint, install_line
from convkit.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_line_installs_from_the_configured_repository_and_branch() -> None:
    line = install_line("https://github.com/you/cnn", "term2")
    assert '`%pip install "convkit[torch] @ git+https://github.com/you/cnn@term2"`' in line
    assert "\n" not in line
    local = install_line("", "main")
    assert '`pip install -e ".[torch]"`' in local and "git+" not in local


def test_the_preprocessor_puts_one_hint_first_and_replaces_an_old_one() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Intro"), nbformat.v4.new_code_cell("1")]
    hint = AddInstallHint(repository_url="https://github.com/a/b", branch="main")
    nb, _ = hint.preprocess(nb, {})
    again = AddInstallHint(repository_url="", branch="main")
    nb, _ = again.preprocess(nb, {})
    assert [c.source for c in nb.cells[1:]] == ["# Intro", "1"]
    assert nb.cells[0].metadata[HINT_KEY] and nb.cells[0].source == install_line("", "main")
    nbformat.validate(nb)


def test_every_released_notebook_starts_with_the_hint_of_course_yml() -> None:
    settings = load_settings(ROOT / "course.yml")
    expected = install_line(settings.repository.url, settings.repository.branch)
    released = sorted((ROOT / "exercises").glob("*/*.ipynb"))
    assert released
    for path in released:
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.cell_type == "markdown" and first.metadata.get(HINT_KEY), path
        assert first.source == expected, path
        assert "nbgrader" not in first.metadata  # neither graded nor checksummed
