"""Chapter 3's StridePaddingSim live in JupyterLab: its sliders and Step button sync
stride, padding and position back to the kernel."""

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

TOKEN = "convkit-test-ch03"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab on 127.0.0.1 serving a notebook with the simulation; yields its base URL."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np\nfrom convkit.sims import StridePaddingSim\n"
                                  "sim = StridePaddingSim(np.arange(25.0).reshape(5, 5), "
                                  "np.ones((3, 3)))\nsim"),
        nbformat.v4.new_code_cell("print('state', sim.stride, sim.padding, sim.position)"),
    ]
    nbformat.write(nb, tmp_path / "sim.ipynb")
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


def test_stride_padding_sim_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{lab}lab/tree/sim.ipynb?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=90_000)
        sim = page.locator('[data-sim="stride_padding"]')
        for _ in range(3):  # a keypress can land before the notebook takes focus
            page.locator(".jp-Cell .jp-InputPrompt").first.click()
            page.keyboard.press("Shift+Enter")
            try:
                sim.wait_for(timeout=30_000)
                break
            except PlaywrightTimeout:
                continue
        sim.wait_for(timeout=1_000)
        sim.locator('input[data-control="stride"]').fill("2")
        sim.locator('input[data-control="padding"]').fill("1")
        size = sim.locator('[data-role="out-size"]')
        assert (size.get_attribute("data-rows"), size.get_attribute("data-cols")) == ("3", "3")
        sim.locator('[data-action="step"]').click()
        assert sim.locator('[data-role="output"] [data-value]').count() == 2
        page.locator(".jp-Cell .jp-InputPrompt").nth(1).click()
        page.keyboard.press("Shift+Enter")
        output = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")
        output.wait_for(timeout=30_000)
        assert output.inner_text().strip() == "state 2 1 1"  # the kernel saw the page's changes
        assert errors == []
    finally:
        page.close()
