"""Fast tests of the book machinery: sims' Python side, the quick check, the build
driver's failure report and book folder, the execution cache's import closure and
stale notebooks, the vendored-asset pins and the toc."""

from __future__ import annotations

import ast
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
from convkit.book import exec_cache
from convkit.book import imports as book_imports
from convkit.sims import ConnectivitySim, Slide1DSim, Slide2DSim
from convkit.sims._base import esm_source
from convkit.sims.quickcheck import QuickCheck, option_order, quick_check


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
    qc = quick_check("How many?", right=("$7$", "Because $10 - 4 + 1 = 7$."),
                     wrong=[("$6$", "That forgets the $+1$.")])
    assert isinstance(qc, QuickCheck)
    assert sorted(qc.options) == ["$6$", "$7$"] and qc.chosen == -1
    assert qc.options[qc.answer] == "$7$"
    assert qc.explanations[qc.answer] == "Because $10 - 4 + 1 = 7$."
    assert qc.explanations[1 - qc.answer] == "That forgets the $+1$."
    ok = ("a", "why a")
    for bad in [
        dict(question="", right=ok, wrong=[("b", "e")]),
        dict(question="q", right=ok, wrong=[]),
        dict(question="q", right=ok, wrong=[("a", "e")]),
        dict(question="q", right=ok, wrong=[("b", " ")]),
        dict(question="q", right=("a", ""), wrong=[("b", "e")]),
        dict(question="q", right=ok, wrong=[(f"w{i}", "e") for i in range(10)]),
    ]:
        with pytest.raises(ValueError):
            quick_check(**bad)
    for bad_type in [dict(question="q", right="a", wrong=[("b", "e")]),
                     dict(question="q", right=ok, wrong="b"),
                     dict(question="q", right=ok, wrong=[("b", "e", "x")])]:
        with pytest.raises(TypeError):
            quick_check(**bad_type)


def test_quick_check_order_is_reproducible_and_spread() -> None:
    """The right answer's place comes from the question alone (same on every build) and
    is spread evenly over many questions, whatever place the author gave it."""
    assert option_order("q?", 4) == option_order("q?", 4)
    assert sorted(option_order("q?", 4)) == [0, 1, 2, 3]
    places = [option_order(f"question {i}", 4)[0] for i in range(400)]
    assert all(60 <= places.count(p) <= 140 for p in range(4)), places
    qc = quick_check("q?", right=("r", "yes"), wrong=[("w1", "no 1"), ("w2", "no 2")])
    order = option_order("q?", 3)
    assert qc.answer == order[0]
    assert [qc.options[order[k]] for k in range(3)] == ["r", "w1", "w2"]
    assert [qc.explanations[order[k]] for k in range(3)] == ["yes", "no 1", "no 2"]


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
    with pytest.raises(book.BookBuildError, match=r"from the course root .* or pass --root"):
        book.book_root(tmp_path)  # no book here
    (tmp_path / "_config.yml").write_text("title: t\n")
    with pytest.raises(book.BookBuildError, match=r"has no _config\.yml and _toc\.yml"):
        book.book_root(tmp_path)  # a config without a toc is not a book
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    assert book.book_root(tmp_path) == tmp_path.resolve()


def test_build_command_refuses_a_folder_without_a_book(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert book.main(["build", "--root", str(tmp_path)]) == 1
    assert "has no _config.yml and _toc.yml" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)  # no --root: the current directory, which is no book
    assert book.main(["build"]) == 1
    err = capsys.readouterr().err
    assert "run `python -m convkit.book build` from the course root" in err
    assert "--root" in err


def _write_files(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


FAKE_PACKAGE = {
    "__init__.py": "from fakepkg.core import thing\n",
    "core/__init__.py": "from .base import thing\n",
    "core/base.py": "import os\n\nthing = os.sep\n",
    "core/extra.py": "from ..util import helper\n",
    "util.py": "def helper() -> None:\n    pass\n",
    "lazy.py": "import importlib\n\nload = lambda: importlib.import_module('fakepkg.dyn')\n",
    "dyn.py": "",
    "widgets/__init__.py": "from fakepkg.widgets.w import W\n",
    "widgets/w.py": "from typing import Any\n\nW: Any = None\n",
    "widgets/w.js": "export default {};\n",
    "widgets/style.css": ".w {}\n",
    "widgets/README.md": "docs, not read by the code\n",
    "unused.py": "import fakepkg.util\n",
}


@pytest.fixture
def fake_package(tmp_path: Path) -> book_imports.PackageSource:
    """A small package ``fakepkg`` under ``tmp_path`` (read, never imported)."""
    _write_files(tmp_path / "fakepkg", FAKE_PACKAGE)
    return book_imports.PackageSource("fakepkg", tmp_path / "fakepkg")


def _closure_of(source: book_imports.PackageSource, code: str) -> set[str]:
    refs = book_imports.imported_modules(ast.parse(code), source.name)
    return {p.relative_to(source.folder).as_posix() for p in source.closure(refs)}


def test_import_closure_follows_the_package_statically(
    fake_package: book_imports.PackageSource,
) -> None:
    package_init = {"__init__.py", "core/__init__.py", "core/base.py"}
    assert _closure_of(fake_package, "from fakepkg import thing") == package_init
    assert _closure_of(fake_package, "import numpy\nx = 1") == set()
    # `extra` is a submodule; its relative import reaches util (and the packages above run)
    assert _closure_of(fake_package, "from fakepkg.core import extra") == package_init | {
        "core/extra.py", "util.py"}
    # an import inside a function, and importlib.import_module with a literal name
    assert _closure_of(fake_package, "def f():\n    import fakepkg.lazy") == package_init | {
        "lazy.py", "dyn.py"}
    # data files beside a module taken count, docs do not
    assert _closure_of(fake_package, "from fakepkg.widgets import W") == package_init | {
        "widgets/__init__.py", "widgets/w.py", "widgets/w.js", "widgets/style.css"}
    # a module no file provides (an alias, a typo): the whole package
    everything = _closure_of(fake_package, "import fakepkg.gone")
    assert "unused.py" in everything and "widgets/README.md" not in everything


def test_notebook_files_read_code_cells_with_ipython_syntax(
    tmp_path: Path, fake_package: book_imports.PackageSource
) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("import fakepkg.util  (prose, not code)"),
                nbformat.v4.new_code_cell("%matplotlib inline\n!echo hi\nimport fakepkg.dyn")]
    nbformat.write(nb, tmp_path / "n.ipynb")
    files = fake_package.notebook_files(tmp_path / "n.ipynb")
    assert {p.relative_to(fake_package.folder).as_posix() for p in files} == {
        "__init__.py", "core/__init__.py", "core/base.py", "dyn.py"}


def test_only_notebooks_whose_imports_changed_are_stale(
    tmp_path: Path, fake_package: book_imports.PackageSource
) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache_dir = tmp_path / "cache"
    cache = get_cache(str(cache_dir))
    notebooks = {}
    for name, code in [("uses_util", "from fakepkg.core import extra"),
                       ("uses_dyn", "import fakepkg.dyn"), ("plain", "1 + 1")]:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(code, execution_count=1)]
        notebooks[name] = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, notebooks[name])
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(notebooks[name])))

    def stamps() -> dict[Path, exec_cache.ImportStamp]:  # read afresh, as each build does
        source = book_imports.PackageSource(fake_package.name, fake_package.folder)
        return exec_cache.import_stamps(notebooks.values(), source)

    # cached before any record: every cached notebook is stale once
    unrecorded = exec_cache.stale_notebooks(cache, stamps(), {})
    assert unrecorded == {path: [exec_cache.NOT_RECORDED] for path in notebooks.values()}
    exec_cache.record_stamps(cache_dir, stamps())
    assert exec_cache.drop_stale(cache_dir, stamps()) == {}  # nothing changed

    (fake_package.folder / "core" / "base.py").write_text("import os\n\nthing = os.sep  # x\n")
    (fake_package.folder / "util.py").write_text("def helper() -> None:\n    return None\n")
    (fake_package.folder / "unused.py").write_text("# imported by no notebook\n")
    dropped = exec_cache.drop_stale(cache_dir, stamps())
    assert dropped == {notebooks["uses_util"]: ["core/base.py", "util.py"],
                       notebooks["uses_dyn"]: ["core/base.py"]}
    assert exec_cache.cached_record(cache, notebooks["uses_util"]) is None  # executes again
    assert exec_cache.cached_record(cache, notebooks["plain"]) is not None
    assert exec_cache.stale_notebooks(cache, stamps(), exec_cache.read_records(cache_dir)) == {}

    (fake_package.folder / "dyn.py").write_text("VALUE = 2\n")
    assert set(exec_cache.drop_stale(cache_dir, stamps())) == set()  # uses_dyn not cached now

    # executed again (same cells, so the same cache key), then recorded: fresh, not stale
    nb = nbformat.read(notebooks["uses_util"], as_version=4)
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(notebooks["uses_util"])))
    exec_cache.record_stamps(cache_dir, stamps())
    assert exec_cache.drop_stale(cache_dir, stamps()) == {}


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
    assert len(keys) == len(set(keys)) >= 12, "a key is repeated, or references are missing"
    cited = set()
    for path in (ROOT / "book").glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            cited |= set(re.findall(r"\{cite[a-z:]*\}`([^`]+)`", "".join(cell["source"])))
    cited = {k.strip() for group in cited for k in group.split(",")}
    assert cited <= set(keys), f"cited but not in references.bib: {cited - set(keys)}"
    assert set(keys) <= cited, f"in references.bib but cited nowhere: {set(keys) - cited}"


def test_a_notebook_whose_kernel_cannot_start_is_left_to_jupyter_book(tmp_path: Path) -> None:
    """Pre-execution never fails the build: a kernel that does not start (or a port
    race) is retried, then reported, and the notebook is not cached."""
    import nbformat

    from convkit.book import pre_execute

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "none",
                                 "language": "python"}
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    done, error = pre_execute.execute_into_cache((str(tmp_path / "cache"), str(path), 30, 0.0))
    assert done == str(path)
    assert error is not None and "no-such-kernel" in error
