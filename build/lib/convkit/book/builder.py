"""Build the course book (Jupyter Book 1) from the repository root.

Usage: ``python -m convkit.book build`` (what ``make book`` runs).

Notebooks are executed with a cache (``_build/.jupyter_cache``): a rebuild with
no change re-executes nothing.  Before Jupyter Book runs (it executes notebooks
one at a time), the driver executes the toc's uncached notebooks in parallel, one
process per core, into the same cache.  A failing cell fails the build, and this driver
ends its output with the notebook, the cell (its number, id and source) and the
error, so the cause is not lost in Sphinx's traceback.  The offline assets
(MathJax, the widget manager, anywidget) are handled by ``convkit.book.sphinx_ext``.
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
from unittest.mock import patch

import yaml

from convkit._env import SINGLE_THREAD_ENV

ROOT = Path(__file__).resolve().parents[3]
BUILD_DIR = ROOT / "_build"

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


def find_cell_failure(log: str, root: Path = ROOT) -> CellFailure | None:
    """The failing notebook cell described in a Jupyter Book build log, if there is one."""
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


def _toc_notebooks(root: Path) -> list[Path]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict] | None) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    paths = [root / (f if f.endswith(".ipynb") else f + ".ipynb") for f in files]
    return [p for p in paths if p.exists()]


def pre_execute(root: Path = ROOT) -> int:
    """Execute the toc's notebooks missing from the execution cache, one process per core.

    Uses the cache, timeout and error policy of ``_config.yml``; returns how many
    notebooks ran.  A notebook that fails here is simply not cached: Jupyter Book
    then runs it again and reports the failing cell.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    from convkit.book.sphinx_ext import convkit_source_hash, match_cache_to_source

    config = yaml.safe_load((root / "_config.yml").read_text())
    execute = config.get("execute", {})
    if execute.get("execute_notebooks") != "cache" or execute.get("allow_errors"):
        return 0
    cache_dir = root / execute.get("cache", "_build/.jupyter_cache")
    match_cache_to_source(cache_dir, convkit_source_hash())
    cache = get_cache(str(cache_dir))
    for path in _toc_notebooks(root):
        cache.add_nb_to_project(str(path))
    pending = [record.uri for record in cache.list_unexecuted()]
    if len(pending) < 2 or (os.cpu_count() or 1) < 2:
        return 0  # nothing to gain: Jupyter Book will run it
    print(f"executing {len(pending)} notebooks in parallel before the build", flush=True)
    executor = load_executor("local-parallel", cache)
    # One notebook per core, so each kernel gets one thread (as the grading kernels do).
    with patch.dict(os.environ, SINGLE_THREAD_ENV):
        executor.run_and_cache(
            filter_uris=pending, timeout=execute.get("timeout", 30), allow_errors=False
        )
    return len(pending)


def build(root: Path = ROOT, *, all_pages: bool = False, parallel: bool = True) -> Path:
    """Build the HTML book into ``root/_build/html``; return the index page.

    Output is streamed as it comes.  Raises ``BookBuildError`` when the build
    fails; when a notebook cell failed, its message names the notebook and cell.
    """
    if parallel:
        pre_execute(root)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jupyter_book), "build", str(root), "--warningiserror", "--keep-going"]
    if all_pages:
        cmd.append("--all")
    lines: list[str] = []
    with subprocess.Popen(
        cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
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


def book_root(cwd: Path | None = None) -> Path:
    """The book to build: the current directory when it holds a Jupyter Book
    (``_config.yml`` and ``_toc.yml``), else the repository convkit is installed from."""
    here = Path.cwd() if cwd is None else cwd
    if (here / "_config.yml").is_file() and (here / "_toc.yml").is_file():
        return here.resolve()
    return ROOT


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
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
        help="the book's folder (default: the current directory if it holds _config.yml "
        "and _toc.yml, else the repository convkit is installed from)",
    )
    args = parser.parse_args(argv)
    root = book_root() if args.root is None else args.root.resolve()
    if not (root / "_config.yml").is_file() or not (root / "_toc.yml").is_file():
        print(f"book build failed: {root} has no _config.yml and _toc.yml", file=sys.stderr)
        return 1
    try:
        index = build(root, all_pages=args.all, parallel=not args.serial)
    except BookBuildError as err:
        print(f"\nbook build failed: {err}", file=sys.stderr)
        return 1
    print(f"built {index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
