"""Helpers for the tests that drive a real JupyterLab in Chromium.

``running_lab`` writes a notebook, starts JupyterLab on 127.0.0.1 with a token
and yields the notebook's URL; ``LabNotebook`` opens it in a Playwright page and
runs cells the way a person does (click a cell, Shift+Enter).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

TOKEN = "convkit-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def lab_server(notebook_dir: Path, cwd: Path | None = None) -> Iterator[str]:
    """JupyterLab on 127.0.0.1 (free port, token) serving ``notebook_dir``, started in
    ``cwd`` (default: ``notebook_dir``; nbgrader reads ``nbgrader_config.py`` from the
    working directory).  Yields the base URL; stops Lab afterwards."""
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    cmd = [str(bin_dir / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--ServerApp.token={TOKEN}", f"--notebook-dir={notebook_dir}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    log_path = (cwd or notebook_dir) / "lab.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  cwd=cwd or notebook_dir)
        base = f"http://127.0.0.1:{port}/"
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"{base}api/status?token={TOKEN}", timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                pytest.fail("JupyterLab did not start:\n" + log_path.read_text())
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


@contextmanager
def running_lab(folder: Path, name: str, cells: Sequence[str]) -> Iterator[str]:
    """JupyterLab serving ``folder`` with the notebook ``name`` made of ``cells``
    (code sources); yields the notebook's URL (token included); stops Lab after."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, folder / name)
    with lab_server(folder) as base:
        yield f"{base}lab/tree/{name}?token={TOKEN}"


class LabNotebook:
    """A notebook open in JupyterLab in ``page``; page errors are collected in ``errors``."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        # the kernel is up once the status bar says so
        page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=90_000)

    def run_cell(self, index: int) -> None:
        """Click cell ``index`` and press Shift+Enter."""
        self.page.locator(".jp-Cell .jp-InputPrompt").nth(index).click()
        self.page.keyboard.press("Shift+Enter")

    def run_until_visible(self, index: int, target: Locator, attempts: int = 3) -> None:
        """Run cell ``index`` until ``target`` shows (a keypress can land before the
        notebook takes focus, so the first one may be lost)."""
        for _ in range(attempts):
            self.run_cell(index)
            try:
                target.wait_for(timeout=20_000)
                return
            except PlaywrightTimeout:
                continue
        target.wait_for(timeout=1_000)

    def output_text(self, index: int) -> str:
        """Run cell ``index`` and return its printed output."""
        self.run_cell(index)
        output = self.page.locator(".jp-Cell").nth(index).locator(".jp-OutputArea-output")
        output.wait_for(timeout=30_000)
        return output.inner_text().strip()
