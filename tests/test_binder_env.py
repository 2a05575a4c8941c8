"""The repository is Binder-ready: the files repo2docker reads (binder/) install the pinned
course environment and convkit into a fresh virtual environment, which then imports every
module the exercise notebooks import."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What repo2docker copies and uses here: binder/ (which replaces the root's own
# environment files), the files binder/requirements.txt refers to, and the package.
COPIED = ("binder", "requirements.txt", "constraints.txt", "pyproject.toml", "README.md", "src")
IMPORT_LINE = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][\w.]*)", re.M)


def exercise_imports() -> list[str]:
    """Every module an exercise notebook's code cells import (``convkit.grading.cases``,
    ``torch.nn.functional``, ...), sorted."""
    modules: set[str] = set()
    for path in sorted((ROOT / "exercises").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                modules.update(IMPORT_LINE.findall(source))
    return sorted(modules)


def test_binder_files_are_what_repo2docker_reads() -> None:
    """binder/ holds a requirements file pinning the course environment (torch's CPU
    index), a runtime and an executable postBuild installing convkit."""
    binder = ROOT / "binder"
    requirements = (binder / "requirements.txt").read_text().splitlines()
    assert "-r ../requirements.txt" in requirements and "-c ../constraints.txt" in requirements
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements
    assert (binder / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = binder / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert "pip install --no-deps --no-build-isolation ." in post_build.read_text()
    assert {"convkit", "convkit.grading", "torch", "numpy"} <= set(exercise_imports())


@pytest.mark.slow
def test_binder_environment_installs_and_imports_what_the_exercises_import(
    tmp_path: Path,
) -> None:
    """Install from binder/ into a fresh venv, as repo2docker would (requirements, then
    postBuild from the repository's root), and import every exercise import there.

    Offline here: pip finds the packages on the machine's configured indexes (the
    PyTorch index in binder/requirements.txt is unreachable and skipped, no retries).
    """
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__",
                                                                               "*.egg-info"))
        else:
            shutil.copy2(source, repo / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "PIP_RETRIES": "0",
        "PYTHONNOUSERSITE": "1",
    }
    env.pop("PYTHONPATH", None)

    def run(*cmd: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr[-4000:]}"
        return result

    # --no-compile: the bytecode of torch's thousands of modules is not what is tested,
    # and compiling it is most of the install's time
    run("python", "-m", "pip", "install", "--quiet", "--no-compile", "-r",
        "binder/requirements.txt")
    run("bash", "binder/postBuild")
    modules = exercise_imports()
    check = (
        "import importlib, json, sys\n"
        f"mods = {modules!r}\n"
        "for m in mods: importlib.import_module(m)\n"
        "import convkit, torch\n"
        "print(json.dumps({'convkit': convkit.__file__, 'torch': torch.__version__,"
        " 'prefix': sys.prefix}))\n"
    )
    where = json.loads(run("python", "-c", check).stdout.strip().splitlines()[-1])
    assert Path(where["prefix"]).resolve() == venv.resolve()
    # convkit is the installed copy (not the repository's src/ on a path)
    assert Path(where["convkit"]).resolve().is_relative_to(venv.resolve())
    assert where["torch"].startswith("2.13.0")
