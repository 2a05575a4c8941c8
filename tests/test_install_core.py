"""`pip install .` with no extras gives the numpy operations and the grading helpers.

A fresh virtual environment, no torch, no matplotlib: what an instructor or a student
who only wants the reference operations gets (pyproject.toml's extras add the rest).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = textwrap.dedent(
    """
    import importlib.util, sys
    import numpy as np
    import convkit, convkit.ops, convkit.shapes, convkit.grading
    from convkit.grading import ShortcutError, check_function, random_cases

    assert importlib.util.find_spec("torch") is None, "torch must not be installed"
    assert "matplotlib" not in sys.modules
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    w = np.ones((3, 2, 3, 3))
    assert convkit.conv2d(x, w, padding=1).shape == (1, 3, 4, 4)
    assert convkit.max_pool2d(x, 2).shape == (1, 2, 2, 2)
    assert convkit.output_size(32, kernel_size=5, padding=2) == 32

    def correlate2d(image, kernel):  # a student's own loops, graded against the reference
        image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
        kh, kw = kernel.shape
        out = np.empty((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
        return out

    check_function(correlate2d, convkit.correlate2d, random_cases("correlate2d", n=5, seed=0))
    try:  # calling the reference instead earns nothing, torch or not
        check_function(lambda image, kernel: convkit.correlate2d(image, kernel),
                       convkit.correlate2d, random_cases("correlate2d", n=5, seed=0))
    except ShortcutError:
        pass
    else:
        raise AssertionError("calling the reference was not refused")
    print("core install ok:", convkit.__file__)
    """
)


@pytest.mark.slow
def test_package_without_extras_gives_ops_and_grading(tmp_path: Path) -> None:
    source = tmp_path / "convkit-source"  # a copy: building leaves build/ beside the source
    for name in ("pyproject.toml", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # setuptools from the venv, numpy pinned like the course (pip's cache serves it).
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-build-isolation",
         "-c", str(ROOT / "constraints.txt"), str(source)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )
    if install.returncode != 0 and "setuptools" in install.stderr:
        install = subprocess.run(  # an older venv without setuptools: let pip build it
            [str(python), "-m", "pip", "install", "--quiet",
             "-c", str(ROOT / "constraints.txt"), str(source)],
            capture_output=True, text=True, cwd=tmp_path, timeout=600,
        )
    assert install.returncode == 0, install.stderr
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=True).stdout.lower()
    assert "torch==" not in listed and "matplotlib==" not in listed, listed
    run = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "core install ok" in run.stdout
    assert str(ROOT / "src") not in run.stdout  # the installed copy, not the checkout
    assert sys.executable != str(python)
