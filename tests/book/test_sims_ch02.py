"""ch02's KernelPlayground in the built book: presets and typed kernels give the
feature map convkit.correlate2d computes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from book_site import HTML_DIR, embedded_views, sources_using, toc_docnames

from convkit import correlate2d

pytestmark = pytest.mark.slow

PLAYGROUND_ID = "convkit.sims.kernel_playground.KernelPlayground"
CH02 = "book/ch02_filters"


def _playgrounds(result, docname: str):
    """Pairs (embedded state, rendered root) of the KernelPlaygrounds on a page."""
    states = [s for s in embedded_views(HTML_DIR / f"{docname}.html")
              if s.get("_anywidget_id") == PLAYGROUND_ID]
    roots = result.page.locator('[data-sim="kernel_playground"]')
    assert roots.count() == len(states) > 0, f"{docname}: KernelPlayground did not render"
    return [(state, roots.nth(i)) for i, state in enumerate(states)]


def _shown_map(root) -> np.ndarray:
    canvas = root.locator('[data-role="feature-map"]')
    values = np.array(json.loads(canvas.get_attribute("data-values")))
    shape = tuple(int(v) for v in canvas.get_attribute("data-shape").split(","))
    assert values.shape == shape
    assert canvas.evaluate("c => [c.width, c.height]") == [shape[1], shape[0]]
    return values


def _pixels(root) -> str:
    return root.locator('[data-role="feature-map"]').evaluate("c => c.toDataURL()")


def test_chapter_2_uses_the_playground() -> None:
    if CH02 not in toc_docnames():
        pytest.skip(f"{CH02} is not in the toc yet")
    assert CH02 in sources_using("KernelPlayground")


@pytest.mark.parametrize("docname", sources_using("KernelPlayground"))
def test_playground_presets_and_typing_match_convkit(visit, docname: str) -> None:
    result = visit(docname)
    for state, root in _playgrounds(result, docname):
        image = np.array(state["image"])
        np.testing.assert_allclose(
            _shown_map(root), correlate2d(image, np.array(state["kernel"])), rtol=1e-12, atol=1e-12
        )
        names = state["names"]
        assert len(names) >= 2 and sorted(names) == sorted(state["kernels"])
        shown = root.locator('[data-action="preset"]').evaluate_all(
            "els => els.map(e => e.dataset.name)")
        assert shown == names, "the preset buttons are not in the order given"
        drawn = set()
        for name in names:
            root.locator(f'[data-action="preset"][data-name="{name}"]').click()
            kernel = np.array(state["kernels"][name])
            assert root.locator(f'[data-action="preset"][data-name="{name}"]').get_attribute(
                "aria-pressed") == "true"
            np.testing.assert_allclose(
                _shown_map(root), correlate2d(image, kernel), rtol=1e-12, atol=1e-12,
                err_msg=f"preset {name}",
            )
            cells = root.locator('[data-role="kernel"] input')
            assert cells.count() == kernel.size
            np.testing.assert_allclose(
                [float(v) for v in cells.evaluate_all("els => els.map(e => e.dataset.value)")],
                kernel.ravel(), rtol=1e-12,
            )
            assert float(root.locator('[data-role="kernel-sum"]').get_attribute(
                "data-value")) == pytest.approx(kernel.sum(), abs=1e-12)
            drawn.add(_pixels(root))
        assert len(drawn) == len(names), "different kernels drew identical pictures"

        # Type a kernel: start from the first preset and change two weights.
        root.locator(f'[data-action="preset"][data-name="{names[0]}"]').click()
        typed = np.array(state["kernels"][names[0]], dtype=float)
        kh, kw = typed.shape
        for (m, n), value in (((kh // 2, kw // 2), 8.0), ((0, 0), -2.5)):
            root.locator(f'[data-role="kernel"] input[data-row="{m}"][data-col="{n}"]').fill(
                str(value))
            typed[m, n] = value
            np.testing.assert_allclose(
                _shown_map(root), correlate2d(image, typed), rtol=1e-12, atol=1e-12,
                err_msg=f"after typing {value} at ({m}, {n})",
            )
        assert root.locator('[data-action="preset"][aria-pressed="true"]').count() == 0
        low = float(root.locator('[data-role="map-min"]').get_attribute("data-value"))
        high = float(root.locator('[data-role="map-max"]').get_attribute("data-value"))
        expected = correlate2d(image, typed)
        assert (low, high) == pytest.approx((expected.min(), expected.max()), abs=1e-12)
        # Nonsense typed into a cell is flagged and changes nothing.
        cell = root.locator('[data-role="kernel"] input[data-row="0"][data-col="0"]')
        cell.fill("")
        assert cell.get_attribute("aria-invalid") == "true"
        np.testing.assert_allclose(_shown_map(root), expected, rtol=1e-12, atol=1e-12)
    assert result.problems() == [], "\n".join(result.problems())


LAB_TOKEN = "convkit-ch02-test"


@pytest.fixture
def lab_with_playground(tmp_path):
    """JupyterLab on 127.0.0.1 with a notebook showing a KernelPlayground; yields its URL."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import numpy as np\n"
            "from convkit.filters import named_kernel\n"
            "from convkit.sims import KernelPlayground\n"
            "image = np.add.outer(np.arange(8.0), np.arange(9.0) ** 2) / 10\n"
            "sim = KernelPlayground(image, kernels={'blur': named_kernel('box_blur'),\n"
            "                                       'edge': named_kernel('vertical_edge')})\n"
            "sim"),
        nbformat.v4.new_code_cell(
            "from convkit import correlate2d\n"
            "same = np.allclose(sim.feature_map(), correlate2d(image, np.array(sim.kernel)))\n"
            "print('synced', sim.selected or 'typed', sim.kernel[0][0], bool(same))"),
    ]
    nbformat.write(nb, tmp_path / "playground.ipynb")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bin_dir = Path(sys.executable).parent
    cmd = [str(bin_dir / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--ServerApp.token={LAB_TOKEN}", f"--notebook-dir={tmp_path}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}api/status?token={LAB_TOKEN}", timeout=1)
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


def test_playground_lives_in_jupyterlab_and_syncs(browser, lab_with_playground: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{lab_with_playground}lab/tree/playground.ipynb?token={LAB_TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=90_000)
        sim = page.locator('[data-sim="kernel_playground"]')
        for _ in range(3):  # a keypress can land before the notebook takes focus
            page.locator(".jp-Cell .jp-InputPrompt").first.click()
            page.keyboard.press("Shift+Enter")
            try:
                sim.wait_for(timeout=20_000)
                break
            except PlaywrightTimeout:
                continue
        sim.wait_for(timeout=1_000)
        image = np.add.outer(np.arange(8.0), np.arange(9.0) ** 2) / 10
        sim.locator('[data-action="preset"][data-name="edge"]').click()
        edge = np.array([[-1.0, 0.0, 1.0]] * 3)
        np.testing.assert_allclose(_shown_map(sim), correlate2d(image, edge), atol=1e-12)
        sim.locator('[data-role="kernel"] input[data-row="0"][data-col="0"]').fill("4")
        edge[0, 0] = 4.0
        np.testing.assert_allclose(_shown_map(sim), correlate2d(image, edge), atol=1e-12)
        page.locator(".jp-Cell .jp-InputPrompt").nth(1).click()
        page.keyboard.press("Shift+Enter")
        output = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")
        output.wait_for(timeout=30_000)
        assert output.inner_text().strip() == "synced typed 4.0 True"  # the edit reached Python
        assert errors == []
    finally:
        page.close()
