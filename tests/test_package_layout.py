"""The package's shape: layer folders, no private names across packages, old paths kept.

The layer rules themselves are an import-linter contract (pyproject.toml, `make lint`);
the last test here shows that contract fails on a package that breaks it.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import convkit
from convkit._legacy import LEGACY_PATHS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "convkit"
LAYERS = {"ops", "shapes", "data", "nn", "explain", "training", "lessons", "viz", "sims",
          "grading", "course", "book"}
BASE_MODULES = {"convkit._checks", "convkit._env"}  # private by name, shared by every layer


def test_top_level_holds_at_most_six_modules_and_the_rest_sits_in_layer_folders() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 6, top
    folders = {p.parent.relative_to(PACKAGE).parts[0] for p in PACKAGE.rglob("*.py")
               if p.parent != PACKAGE}
    assert folders <= LAYERS, folders - LAYERS


def _imports(tree: ast.AST) -> list[tuple[int, str, str | None]]:
    """(line, module, imported name or None) for every convkit import in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
            node.module == "convkit" or node.module.startswith("convkit.")
        ):
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names
                      if alias.name.startswith("convkit.")]
    return found


def _package_of(module: str) -> str:
    """``convkit.ops.conv2d`` -> ``ops``; ``convkit`` and its top-level modules -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else ""


def _private_imports(importer_package: str | None, tree: ast.AST) -> list[str]:
    """Imports of a private name or module from another package than the importer's.

    ``importer_package``: the importer's folder under convkit (``""`` for the top level),
    or None for code outside convkit (tests, notebooks), where every private NAME counts
    (``from convkit.x import _name``); white-box tests may still import a private module.
    """
    bad = []
    for line, module, name in _imports(tree):
        text = f"import {module}" if name is None else f"from {module} import {name}"
        if importer_package is None:
            if name is not None and name.startswith("_"):
                bad.append(f"line {line}: {text}")
            continue
        full = module if name is None else f"{module}.{name}"
        base = next((m for m in BASE_MODULES if full == m or full.startswith(m + ".")), None)
        parts = full.split(".")[len(base.split(".")) if base else 1:]
        if not any(p.startswith("_") and not p.startswith("__") for p in parts):
            continue
        if _package_of(module) != importer_package:
            bad.append(f"line {line}: {text}")
    return bad


def _code_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        return "\n".join(re.sub(r"^\s*[%!].*$", "", c, flags=re.M) for c in code)
    return path.read_text()


def test_no_module_imports_another_packages_private_name() -> None:
    problems = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        package = rel.parts[0] if len(rel.parts) > 1 else ""
        if bad := _private_imports(package, ast.parse(path.read_text())):
            problems[str(rel)] = bad
    for folder in ("tests", "benchmarks", "book", "solutions"):
        for path in [*(ROOT / folder).rglob("*.py"), *(ROOT / folder).rglob("*.ipynb")]:
            if bad := _private_imports(None, ast.parse(_code_of(path))):
                problems[str(path.relative_to(ROOT))] = bad
    assert not problems, problems


def test_the_private_import_check_catches_one() -> None:
    tree = ast.parse("from convkit.viz.plots import _figure\nfrom convkit.ops import _fastpath")
    assert len(_private_imports("lessons", tree)) == 2
    assert _private_imports("viz", ast.parse("from convkit.viz.plots import _figure")) == []
    assert _private_imports("ops", ast.parse("from convkit._checks import int_at_least")) == []
    assert len(_private_imports(None, ast.parse("from convkit.book.sphinx_ext import _x"))) == 1


@pytest.mark.parametrize(("old", "new"), sorted(LEGACY_PATHS.items()))
def test_an_old_import_path_gives_the_new_module(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)
    assert importlib.import_module(new).__name__ == new  # the alias does not rename it


# What the notebooks released before the package was layered (commit 5c0c971,
# exercises/ch00-ch09) reference: dotted names, and `from X import name` pairs.
# Students may hold those notebooks; their own cells must keep working.
RELEASED_BEFORE_REFERENCES = [
    "convkit.avg_pool2d", "convkit.conv1d", "convkit.conv2d", "convkit.conv2d_backward",
    "convkit.conv2d_params", "convkit.convolve2d", "convkit.correlate2d", "convkit.data",
    "convkit.dense", "convkit.dense.conv1d_matrix", "convkit.dense.equivariance_error",
    "convkit.dense.shift2d", "convkit.filters", "convkit.filters.apply_filter_bank",
    "convkit.filters.learn_kernel", "convkit.global_avg_pool2d", "convkit.grading",
    "convkit.grading._rules", "convkit.grading.cases", "convkit.grading.modules",
    "convkit.im2col", "convkit.linear_params", "convkit.max_pool2d",
    "convkit.max_pool2d_backward", "convkit.models", "convkit.models.BasicBlock",
    "convkit.models.depthwise_separable_params", "convkit.models.digit_cnn",
    "convkit.models.lenet5", "convkit.models.patch_embed", "convkit.models.patchify",
    "convkit.models.vgg_block", "convkit.output_size", "convkit.pad2d",
    "convkit.receptive_field", "convkit.shapes_trace", "convkit.shapes_trace.shape_trace",
    "convkit.train.fit",
]
RELEASED_BEFORE_FROM_IMPORTS = [
    ("convkit.data", "load_mnist"), ("convkit.grading", "check_function"),
    ("convkit.grading", "library_padding"), ("convkit.grading._rules", "TORCH_UNFOLD"),
    ("convkit.grading.cases", "check_no_position_loops"),
    ("convkit.grading.cases", "conv_module_forward"),
    ("convkit.grading.cases", "conv_module_gradients"),
    ("convkit.grading.modules", "check_module"), ("convkit.grading.modules", "param_count"),
    ("convkit.models", "count_params"), ("convkit.models", "format_summary"),
    ("convkit.models", "layer_summary"),
]


def _resolve(reference: str) -> object:
    """The object a dotted name such as ``convkit.dense.shift2d`` names (imports as needed)."""
    parts = reference.split(".")
    for i in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(reference)


def _from_import(module: str, name: str) -> object:
    """What ``from module import name`` binds: an attribute, else a submodule (which
    that statement imports, whether or not something imported it before)."""
    try:
        return getattr(importlib.import_module(module), name)
    except AttributeError:
        return importlib.import_module(f"{module}.{name}")


def _from_imports(text: str) -> set[tuple[str, str]]:
    return {(module, name) for _, module, name in _imports(ast.parse(text)) if name}


def test_every_name_a_released_exercise_uses_still_resolves() -> None:
    """The notebooks released before the layering and the committed exercises/ alike."""
    texts = [_code_of(p) for p in (ROOT / "exercises").rglob("*.ipynb")]
    references = set(RELEASED_BEFORE_REFERENCES)
    pairs = set(RELEASED_BEFORE_FROM_IMPORTS)
    for text in texts:
        references |= set(re.findall(r"\bconvkit(?:\.[A-Za-z_][A-Za-z0-9_]*)+", text))
        pairs |= _from_imports(text)
    for reference in sorted(references):
        assert _resolve(reference) is not None, reference
    for module, name in sorted(pairs):
        assert _from_import(module, name) is not None, (module, name)
    assert _resolve("convkit.dense.shift2d") is _resolve("convkit.shift2d")
    assert _resolve("convkit.models.digit_cnn") is _resolve("convkit.nn.models.digit_cnn")


def _lint_imports(pythonpath: Path | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, env=env, cwd=ROOT)


def test_the_layer_contract_holds_and_fails_on_an_upward_import(tmp_path: Path) -> None:
    kept = _lint_imports(None)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    copy = tmp_path / "convkit"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    padding = copy / "ops" / "padding.py"
    upward = "\nimport convkit.viz.plots  # a lower layer reaching up\n"
    padding.write_text(padding.read_text() + upward)
    broken = _lint_imports(tmp_path)
    assert broken.returncode != 0
    assert "convkit.ops is not allowed to import convkit.viz" in broken.stdout, broken.stdout
    assert Path(convkit.__file__).resolve().is_relative_to(PACKAGE)
