"""Build the course book (Jupyter Book 1): ``python -m convkit.book build``.

Run from the course root (the folder with ``_config.yml`` and ``_toc.yml``; what
``make book`` does) or pass ``--root FOLDER``.  Notebooks are executed with a cache
(``_build/.jupyter_cache``) keyed on each notebook's cells and on the convkit files
it imports (``convkit.book.exec_cache``): a rebuild re-executes only the notebooks
whose cells or imported files changed, and nothing when nothing did.  Before
Jupyter Book runs (it executes notebooks one at a time), the driver executes the
notebooks the cache cannot serve in parallel (``convkit.book.pre_execute``).  A
failing cell fails the build, and this driver ends its output with the notebook,
the cell (its number, id and source) and the error, so the cause is not lost in
Sphinx's traceback.  The offline assets (MathJax, the widget manager, anywidget)
are handled by ``convkit.book.sphinx_ext``, which also sets the title, repository
and launch buttons from the course settings (``course.yml`` beside ``_config.yml``,
or the file ``--settings`` / ``$CONVKIT_COURSE_YML`` names), checked here before
anything runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from convkit._env import SINGLE_THREAD_ENV
from convkit.book.pre_execute import pre_execute
from convkit.settings import SETTINGS_ENV, SettingsError, load_settings, settings_path

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FAILED_NOTEBOOK = re.compile(r"ExecutionError: (\S+\.(?:ipynb|md))")
_FAILED_CELL = re.compile(
    r"An error occurred while executing the following cell:\n-+\n(.*?)\n-+\n", re.S
)
_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)\w*): ?(.*)$", re.M)


class BookBuildError(RuntimeError):
    """The book did not build; the message says why (failing notebook cell if any)."""


@dataclass(frozen=True)
class CellFailure:
    """Where a notebook failed while the book was executing it."""

    notebook: str
    cell_number: int | None  # 1-based position among all cells, None if not found
    cell_id: str | None
    source: str
    error: str

    def __str__(self) -> str:
        where = f"cell {self.cell_number}" if self.cell_number else "a cell"
        if self.cell_id:
            where += f" (id {self.cell_id})"
        body = "\n".join("    " + line for line in self.source.splitlines())
        return f"{self.notebook}: {where} failed:\n{body}\n{self.error}"


def find_cell_failure(log: str, root: Path) -> CellFailure | None:
    """The failing notebook cell described in a Jupyter Book build ``log``, if there is one.

    The notebook is named relative to ``root`` (the book's folder) when it lies inside.
    """
    log = _ANSI.sub("", log)
    notebook = _FAILED_NOTEBOOK.search(log)
    if notebook is None:
        return None
    cell = _FAILED_CELL.search(log)
    source = cell.group(1).strip() if cell else ""
    after = log[cell.end() :] if cell else log
    error = _ERROR_LINE.search(after)
    path = Path(notebook.group(1))
    number, cell_id = _locate_cell(path, source)
    try:
        shown = str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        shown = str(path)
    return CellFailure(shown, number, cell_id, source, error.group(0) if error else "(see above)")


def _locate_cell(path: Path, source: str) -> tuple[int | None, str | None]:
    if path.suffix != ".ipynb" or not path.exists() or not source:
        return None, None
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    for number, cell in enumerate(cells, start=1):
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else text
        if cell.get("cell_type") == "code" and text.strip() == source:
            return number, cell.get("id")
    return None, None


def check_book_root(folder: Path) -> Path:
    """``folder`` resolved, when it holds a Jupyter Book (``_config.yml`` and ``_toc.yml``).

    Raises ``BookBuildError`` otherwise, saying how to point the build at the book.
    """
    if (folder / "_config.yml").is_file() and (folder / "_toc.yml").is_file():
        return folder.resolve()
    raise BookBuildError(
        f"{folder} has no _config.yml and _toc.yml: run `python -m convkit.book build` "
        "from the course root (the folder that holds them) or pass --root FOLDER"
    )


def book_root(cwd: Path | None = None) -> Path:
    """The book to build when none is named: the current directory (or ``cwd``), if it
    holds a Jupyter Book; else ``BookBuildError``."""
    return check_book_root(Path.cwd() if cwd is None else cwd)


def build(
    root: Path, *, all_pages: bool = False, parallel: bool = True, settings: Path | None = None
) -> Path:
    """Build the HTML book of the folder ``root`` into ``root/_build/html``; return the
    index page.

    ``all_pages`` rewrites every page; ``parallel`` executes the uncached notebooks
    side by side first; ``settings`` is the course settings file (default:
    ``$CONVKIT_COURSE_YML``, else ``root/course.yml``).  Output is streamed as it
    comes.  Raises ``BookBuildError`` when the settings are wrong or the build fails;
    when a notebook cell failed, its message names the notebook and cell.
    """
    root = check_book_root(root)
    settings = (settings or settings_path(root)).resolve()
    try:
        load_settings(settings)
    except SettingsError as err:
        raise BookBuildError(f"the course settings are wrong: {err}") from None
    if parallel:
        pre_execute(root)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jupyter_book), "build", str(root), "--warningiserror", "--keep-going"]
    if all_pages:
        cmd.append("--all")
    lines: list[str] = []
    # A notebook the parallel pass could not serve runs in Jupyter Book's own kernel; one
    # thread there too, so every chapter prints the same numbers however it was run.
    env = {**os.environ, **SINGLE_THREAD_ENV, SETTINGS_ENV: str(settings)}
    with subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            lines.append(line)
    if proc.returncode != 0:
        failure = find_cell_failure("".join(lines), root)
        if failure is not None:
            raise BookBuildError(f"a notebook cell failed while executing the book:\n{failure}")
        raise BookBuildError(f"jupyter-book exited with {proc.returncode}; see the messages above")
    return root / "_build" / "html" / "index.html"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``argv`` as after ``python -m convkit.book``; returns the
    exit status (0 built, 1 failed, the reason on stderr)."""
    parser = argparse.ArgumentParser(prog="python -m convkit.book", description=__doc__)
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--all", action="store_true", help="rebuild every page")
    parser.add_argument(
        "--serial", action="store_true", help="let Jupyter Book execute notebooks one at a time"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="the book's folder, with _config.yml and _toc.yml (default: the current directory)",
    )
    parser.add_argument(
        "--settings",
        type=Path,
        default=None,
        help=f"the course settings file (default: ${SETTINGS_ENV}, else course.yml in the root)",
    )
    args = parser.parse_args(argv)
    try:
        root = book_root() if args.root is None else check_book_root(args.root)
        index = build(root, all_pages=args.all, parallel=not args.serial, settings=args.settings)
    except BookBuildError as err:
        print(f"\nbook build failed: {err}", file=sys.stderr)
        return 1
    print(f"built {index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
