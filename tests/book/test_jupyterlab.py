"""The simulations and quick checks live in JupyterLab too (anywidget's lab extension),
and their state syncs back to the kernel."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.slow

TOKEN = "convkit-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab on 127.0.0.1 serving ``tmp_path``; yields its base URL."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("from convkit.sims import Slide1DSim\n"
                                  "sim = Slide1DSim([1, 2, 3, 4, 5], [1, 0, -1])\nsim"),
        nbformat.v4.new_code_cell("from convkit.quickcheck import quick_check\n"
                                  "quick_check('Pick $7$', ['$6$', '$7$'], 1, 'It is $7$.')"),
        nbformat.v4.new_code_cell("print('position', sim.position)"),
    ]
    nbformat.write(nb, tmp_path / "sims.ipynb")
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    cmd = [str(bin_dir / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--ServerApp.token={TOKEN}", f"--notebook-dir={tmp_path}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}api/status?token={TOKEN}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text())
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_sims_render_and_sync_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{lab}lab/tree/sims.ipynb?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        # the kernel is up once the status bar says so
        page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=90_000)
        sim = page.locator('[data-sim="slide1d"]')
        for _ in range(3):  # a keypress can land before the notebook takes focus
            page.locator(".jp-Cell .jp-InputPrompt").first.click()
            page.keyboard.press("Shift+Enter")
            try:
                sim.wait_for(timeout=20_000)
                break
            except PlaywrightTimeout:
                continue
        sim.wait_for(timeout=1_000)
        page.locator(".jp-Cell .jp-InputPrompt").nth(1).click()
        page.keyboard.press("Shift+Enter")
        sim.locator('[data-action="step"]').click()
        assert sim.locator('[data-role="output"] [data-value]').count() == 2
        check = page.locator('[data-sim="quickcheck"]')
        check.wait_for(timeout=30_000)
        check.locator('.ck-option[data-index="1"]').click()
        assert check.locator('[data-role="explanation"]').inner_text().startswith("Correct.")
        page.locator(".jp-Cell .jp-InputPrompt").nth(2).click()
        page.keyboard.press("Shift+Enter")
        output = page.locator(".jp-Cell").nth(2).locator(".jp-OutputArea-output")
        output.wait_for(timeout=30_000)
        assert output.inner_text().strip() == "position 1"  # the Step reached the kernel
        assert errors == []
    finally:
        page.close()
