"""Build behaviour: a cell error fails the build naming notebook and cell; a rebuild
with no change executes nothing (no notebook is stale, none is uncached)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from book_site import ROOT

from convkit.book import BookBuildError, build

pytestmark = pytest.mark.slow


def test_cell_error_fails_build_naming_notebook_and_cell(tmp_path: Path) -> None:
    """A scratch book with the real _config.yml and one notebook whose 3rd cell raises."""
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copy(ROOT / "course.yml", tmp_path / "course.yml")  # the title, launch buttons
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    # two notebooks, so the driver's parallel pre-execution runs too
    toc = "format: jb-book\nroot: intro\nchapters:\n  - file: fine\n  - file: broken\n"
    (tmp_path / "_toc.yml").write_text(toc)
    (tmp_path / "intro.md").write_text("# Intro\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Broken"), nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("x / 0")]
    nbformat.write(nb, tmp_path / "broken.ipynb")
    fine = nbformat.v4.new_notebook(metadata=nb.metadata)
    fine.cells = [nbformat.v4.new_markdown_cell("# Fine"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(fine, tmp_path / "fine.ipynb")
    npm_cache = ROOT / "_build" / ".book_vendor" / "npm"  # reuse downloaded tarballs
    if npm_cache.is_dir():
        shutil.copytree(npm_cache, tmp_path / "_build" / ".book_vendor" / "npm")
    with pytest.raises(BookBuildError) as info:
        build(tmp_path)
    message = str(info.value)
    assert "broken.ipynb: cell 3" in message
    assert f"(id {nb.cells[2].id})" in message
    assert "x / 0" in message and "ZeroDivisionError: division by zero" in message


def test_rebuild_without_change_executes_nothing(built_book: Path, capfd) -> None:
    """The session's build filled the cache: building again runs no notebook."""
    capfd.readouterr()
    build(ROOT)
    out = capfd.readouterr().out
    assert "Executing notebook" not in out and "in parallel before the build" not in out
    assert "convkit changed" not in out
    assert "0 added, 0 changed, 0 removed" in out


def test_jupyter_books_own_execution_is_single_threaded(tmp_path: Path) -> None:
    """A notebook the parallel pass does not serve runs in Jupyter Book's kernel, with the
    same one-thread environment, so a chapter's numbers do not depend on the path."""
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copy(ROOT / "course.yml", tmp_path / "course.yml")  # the title, launch buttons
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: env\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    check = ("import os\n"
             "assert os.environ.get('OMP_NUM_THREADS') == '1', os.environ.get('OMP_NUM_THREADS')\n"
             "assert os.environ.get('CONVKIT_THREADS') == '1'")
    nb.cells = [nbformat.v4.new_markdown_cell("# Env"), nbformat.v4.new_code_cell(check)]
    nbformat.write(nb, tmp_path / "env.ipynb")
    npm_cache = ROOT / "_build" / ".book_vendor" / "npm"
    if npm_cache.is_dir():
        shutil.copytree(npm_cache, tmp_path / "_build" / ".book_vendor" / "npm")
    assert build(tmp_path, parallel=False).exists()
