"""Fast tests of the book machinery: sims' Python side, the quick check, the build
driver's failure report, the vendored-asset pins and the toc."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from book_site import ROOT, chapter_docnames, toc_docnames

from convkit.book import assets as book_assets
from convkit.book import builder as book
from convkit.sims import ConnectivitySim, Slide1DSim, Slide2DSim
from convkit.sims._base import esm_source
from convkit.sims.quickcheck import QuickCheck, quick_check


def test_sims_embed_their_module_and_state() -> None:
    sim = Slide2DSim(np.arange(9).reshape(3, 3), [[0, 1], [2, 3]])
    state = sim.get_state()
    assert state["image"] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert state["kernel"] == [[0, 1], [2, 3]]
    assert "export default" in state["_esm"] and ".ck-sim" in state["_css"]
    assert state["_anywidget_id"] == "convkit.sims.sliding.Slide2DSim"
    assert Slide1DSim([1, 2, 3, 4, 5], [1, 0, -1]).get_state()["signal"] == [1, 2, 3, 4, 5]
    conn = ConnectivitySim()
    assert (conn.n_inputs, conn.kernel_size, conn.n_outputs, conn.mode) == (8, 3, 6, "conv")


SIM_MODULES = sorted(
    f.stem for f in (ROOT / "src" / "convkit" / "sims").glob("*.js") if f.stem != "_common"
)


@pytest.mark.parametrize("name", SIM_MODULES)
def test_each_module_renders_and_uses_only_defined_helpers(name: str) -> None:
    source = esm_source(name)
    assert re.search(r"^export default \{ render \};$", source, re.M)
    assert "import " not in source  # one self-contained module (blob/file:// safe)
    assert "http" not in source.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (([1, 2], [1, 2, 3]), ValueError),  # kernel longer than the signal
        (([], [1]), ValueError),
        ((["a", 2], [1]), TypeError),
        (([1, float("nan")], [1]), ValueError),
        (([[1, 2]], [1]), ValueError),  # 2-D signal
        (("12345", [1]), TypeError),
        ((list(range(17)), [1]), ValueError),  # too long to read
    ],
)
def test_slide1d_rejects_bad_input(args: tuple, error: type[Exception]) -> None:
    with pytest.raises(error):
        Slide1DSim(*args)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((np.ones((3, 3)), np.ones((4, 2))), ValueError),
        ((np.ones(3), np.ones((1, 1))), ValueError),
        ((np.ones((10, 10)), np.ones((3, 3))), ValueError),
    ],
)
def test_slide2d_rejects_bad_input(args: tuple, error: type[Exception]) -> None:
    with pytest.raises(error):
        Slide2DSim(*args)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_inputs": 3, "kernel_size": 4}, ValueError),
        ({"n_inputs": 8.0}, TypeError),
        ({"n_inputs": True}, TypeError),
        ({"kernel_size": 0}, ValueError),
        ({"selected": 6}, ValueError),
    ],
)
def test_connectivity_rejects_bad_input(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        ConnectivitySim(**kwargs)


def test_quick_check_state_and_validation() -> None:
    qc = quick_check("How many?", ["$7$", "$6$"], 0, "Because $10 - 4 + 1 = 7$.")
    assert isinstance(qc, QuickCheck)
    assert (qc.options, qc.answer, qc.chosen) == (["$7$", "$6$"], 0, -1)
    for bad in [
        dict(question="", options=["a", "b"], answer=0, explanation="e"),
        dict(question="q", options=["a"], answer=0, explanation="e"),
        dict(question="q", options=["a", "a"], answer=0, explanation="e"),
        dict(question="q", options=["a", "b"], answer=2, explanation="e"),
        dict(question="q", options=["a", "b"], answer=True, explanation="e"),
        dict(question="q", options=["a", "b"], answer=0, explanation=" "),
    ]:
        with pytest.raises(ValueError):
            quick_check(**bad)
    with pytest.raises(TypeError):
        quick_check("q", "ab", 0, "e")


def test_cell_failure_names_notebook_and_cell(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("y = x / 0\nprint(y)")]
    path = tmp_path / "book" / "broken.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    log = (
        "noise\nnbclient.exceptions.CellExecutionError: An error occurred while executing "
        "the following cell:\n------------------\ny = x / 0\nprint(y)\n------------------\n\n"
        "\x1b[31mZeroDivisionError\x1b[39m Traceback (most recent call last)\n"
        "\x1b[31mZeroDivisionError\x1b[39m: division by zero\n\nmore\n"
        f"myst_nb.core.execute.base.ExecutionError: {path}\n"
    )
    failure = book.find_cell_failure(log, tmp_path)
    assert failure is not None
    assert failure.notebook == "book/broken.ipynb"
    assert failure.cell_number == 3 and failure.cell_id == nb.cells[2].id
    assert failure.error == "ZeroDivisionError: division by zero"
    assert "book/broken.ipynb: cell 3" in str(failure) and "    y = x / 0" in str(failure)
    assert book.find_cell_failure("a warning, no execution error", tmp_path) is None


def test_book_root_is_the_book_in_the_current_directory(tmp_path: Path) -> None:
    assert book.book_root(tmp_path) == book.ROOT  # no book here: the installed repository's
    (tmp_path / "_config.yml").write_text("title: t\n")
    assert book.book_root(tmp_path) == book.ROOT  # a config without a toc is not a book
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    assert book.book_root(tmp_path) == tmp_path.resolve()


def test_build_command_refuses_a_folder_without_a_book(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert book.main(["build", "--root", str(tmp_path)]) == 1
    assert "has no _config.yml and _toc.yml" in capsys.readouterr().err


def test_vendor_pins_are_exact_and_checked(tmp_path: Path) -> None:
    for pin in book_assets.NPM_PINS:
        assert re.fullmatch(r"\d+\.\d+\.\d+", pin.version), pin
        assert pin.integrity.startswith("sha512-")
    # a tarball that does not match its pin is refused (and removed)
    pin = book_assets.NPM_PINS[0]
    fake = tmp_path / book_assets._tarball_name(pin)
    with tarfile.open(fake, "w:gz"):
        pass
    with pytest.raises(book_assets.AssetError, match="does not match"):
        book_assets.fetch_npm(pin, tmp_path)
    assert not fake.exists()


def test_config_keeps_vendored_assets_out_of_static() -> None:
    assert not (ROOT / "_static").exists() or not any((ROOT / "_static").rglob("*.js"))
    config = (ROOT / "_config.yml").read_text()
    assert "convkit.book.sphinx_ext" in config
    assert "nb_execution_raise_on_error: true" in config
    assert "execute_notebooks: cache" in config


def test_toc_lists_existing_chapters_in_order() -> None:
    names = toc_docnames()
    assert names[0] == "book/intro"
    chapters = chapter_docnames()
    assert chapters == sorted(chapters)
    on_disk = sorted(str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").glob(
        "ch[0-9][0-9]_*.ipynb"))
    assert chapters == on_disk, "every chapter notebook, and only those, is in the toc"


def test_bibliography_has_the_course_references() -> None:
    bib = (ROOT / "references.bib").read_text()
    keys = re.findall(r"@\w+\{([^,]+),", bib)
    assert len(keys) == len(set(keys)) == 12
    cited = set()
    for path in (ROOT / "book").glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            cited |= set(re.findall(r"\{cite[a-z:]*\}`([^`]+)`", "".join(cell["source"])))
    cited = {k.strip() for group in cited for k in group.split(",")}
    assert cited <= set(keys), f"cited but not in references.bib: {cited - set(keys)}"
