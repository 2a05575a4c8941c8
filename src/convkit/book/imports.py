"""Which files of a package a notebook runs: its imports, followed statically with ``ast``.

A chapter notebook's results depend on the ``convkit`` modules it imports, on the
modules those import, and so on; the book's execution cache is keyed on those files
(``convkit.book.exec_cache``).  Nothing here imports the package it reads: the
modules are parsed as text, so the book layer stays independent of the others.

What counts as imported (over-counting only costs a re-execution, under-counting
would serve stale results, so every doubt counts):

- ``import p.a.b`` and ``from p.a import b``: ``p.a.b`` (when ``b`` is a submodule,
  else ``p.a``), and every package on the way (``p/__init__.py``, ``p/a/__init__.py``),
  which Python runs first;
- imports anywhere in a module (inside functions too), relative ones resolved, and
  ``importlib.import_module("p.x")`` / ``__import__("p.x")`` with a literal name;
- the data files beside every module taken (e.g. ``sims/*.js`` and ``sims/*.css``,
  read when ``convkit.sims`` is imported), never docs (``.md``, ``.rst``, ``.txt``);
- a module of the package that no file provides (an alias, a typo) or a cell that
  does not parse: the whole package.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

DOC_SUFFIXES = frozenset({".md", ".rst", ".txt"})


def package_folder(package: str = "convkit") -> Path:
    """The folder of the installed ``package`` (wherever it is installed, not the checkout)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not an installed package")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


@dataclass(frozen=True)
class ModuleRef:
    """A module a piece of code imports: ``name`` (dotted, absolute); ``maybe`` when it
    is only a candidate (``b`` of ``from a import b`` is a submodule or just a name)."""

    name: str
    maybe: bool = False


def imported_modules(
    tree: ast.AST, package: str, current: str | None = None, is_package: bool = False
) -> set[ModuleRef]:
    """Every module of ``package`` that the code ``tree`` imports.

    ``current`` is the module the code belongs to (None for a notebook), needed to
    resolve relative imports; ``is_package`` says whether it is a package ``__init__``.
    """
    refs: set[ModuleRef] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            refs |= {ModuleRef(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute_base(node, current, is_package)
            if base is None:
                continue
            refs.add(ModuleRef(base))
            refs |= {ModuleRef(f"{base}.{a.name}", maybe=True) for a in node.names if a.name != "*"}
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            refs.add(ModuleRef(node.args[0].value))  # type: ignore[attr-defined]
    return {ref for ref in refs if ref.name == package or ref.name.startswith(package + ".")}


def _absolute_base(node: ast.ImportFrom, current: str | None, is_package: bool) -> str | None:
    """The module a ``from ... import`` reads from, relative imports made absolute."""
    if node.level == 0:
        return node.module
    if current is None:
        return None  # a relative import outside a package (fails when run)
    parts = current.split(".") if is_package else current.split(".")[:-1]
    if node.level - 1 > len(parts) - 1:
        return None
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return (
        name in {"import_module", "__import__"}
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def notebook_code(path: Path) -> list[str]:
    """The code cells of the notebook at ``path``, IPython syntax (``%magic``, ``!cmd``)
    turned into Python."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    sources = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        sources.append("".join(source) if isinstance(source, list) else source)
    return [_as_python(source) for source in sources]


def _as_python(source: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # no IPython: the notebook cannot run anyway; parse as is
        return source
    return TransformerManager().transform_cell(source)


@dataclass
class PackageSource:
    """The source files of one installed package, read (never imported) to follow imports.

    ``name`` is the package's import name, ``folder`` the folder of its
    ``__init__.py``.  Parsed modules are remembered, so one instance serves the
    notebooks of one build (make a new one to see later edits).
    """

    name: str
    folder: Path
    _imports: dict[str, frozenset[ModuleRef] | None] = field(default_factory=dict, repr=False)

    @classmethod
    def installed(cls, name: str = "convkit") -> PackageSource:
        """The package as installed in this environment."""
        return cls(name, package_folder(name))

    def file_of(self, module: str) -> Path | None:
        """The file that defines ``module`` (``p.a.b`` -> ``a/b.py`` or ``a/b/__init__.py``)."""
        if module != self.name and not module.startswith(self.name + "."):
            return None
        base = self.folder.joinpath(*module.split(".")[1:])
        for path in (base / "__init__.py", base.with_name(base.name + ".py")):
            if path.is_file():
                return path
        return None

    def all_files(self) -> set[Path]:
        """Every module and data file of the package (the closure of any unknown import)."""
        return {
            path for path in self.folder.rglob("*") if path.is_file() and _is_source_or_data(path)
        }

    def closure(self, refs: Iterable[ModuleRef]) -> set[Path]:
        """The files Python runs (and their data files) when the modules ``refs`` are
        imported: each module, the packages above it, and what they import, transitively."""
        files: set[Path] = set()
        todo = list(refs)
        seen: set[str] = set()
        while todo:
            ref = todo.pop()
            path = self.file_of(ref.name)
            if path is None:
                if ref.maybe:
                    continue  # `from a import b` where b is a name, not a module
                return self.all_files()
            for module in _with_parents(ref.name):
                if module in seen:
                    continue
                seen.add(module)
                module_file = self.file_of(module)
                if module_file is None:  # a namespace folder on the way
                    continue
                imports = self._imports_of(module, module_file)
                if imports is None:  # does not parse: fails when run, so anything goes
                    return self.all_files()
                files.add(module_file)
                todo.extend(imports)
        folders = {path.parent for path in files}
        for folder in folders:
            files |= {p for p in folder.iterdir() if p.is_file() and _is_data(p)}
        return files

    def notebook_files(self, notebook: Path) -> set[Path]:
        """The package's files that running the notebook at ``notebook`` imports."""
        refs: set[ModuleRef] = set()
        for source in notebook_code(notebook):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return self.all_files()
            refs |= imported_modules(tree, self.name)
        return self.closure(refs)

    def _imports_of(self, module: str, path: Path) -> frozenset[ModuleRef] | None:
        """What ``module`` (its file: ``path``) imports; None when it does not parse."""
        if module not in self._imports:
            try:
                tree = ast.parse(path.read_bytes(), filename=str(path))
            except SyntaxError:
                self._imports[module] = None
            else:
                is_package = path.name == "__init__.py"
                self._imports[module] = frozenset(
                    imported_modules(tree, self.name, module, is_package)
                )
        return self._imports[module]


def _with_parents(module: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b", "a.b.c"]`` (Python imports each package first)."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _is_data(path: Path) -> bool:
    return path.suffix not in {".py", ".pyc"} and path.suffix not in DOC_SUFFIXES


def _is_source_or_data(path: Path) -> bool:
    return "__pycache__" not in path.parts and (path.suffix == ".py" or _is_data(path))
