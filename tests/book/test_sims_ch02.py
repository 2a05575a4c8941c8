"""ch02's KernelPlayground in the built book: presets and typed kernels give the
feature map convkit.correlate2d computes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from book_site import HTML_DIR, embedded_views, sources_using, toc_docnames
from jupyterlab_session import LabNotebook, running_lab

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


LAB_CELLS = [
    "import numpy as np\n"
    "from convkit.lessons.filters import named_kernel\n"
    "from convkit.sims import KernelPlayground\n"
    "image = np.add.outer(np.arange(8.0), np.arange(9.0) ** 2) / 10\n"
    "sim = KernelPlayground(image, kernels={'blur': named_kernel('box_blur'),\n"
    "                                       'edge': named_kernel('vertical_edge')})\n"
    "sim",
    "from convkit import correlate2d\n"
    "same = np.allclose(sim.feature_map(), correlate2d(image, np.array(sim.kernel)))\n"
    "print('synced', sim.selected or 'typed', sim.kernel[0][0], bool(same))",
]


@pytest.fixture
def lab_with_playground(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the playground."""
    with running_lab(tmp_path, "playground.ipynb", LAB_CELLS) as url:
        yield url


def test_playground_lives_in_jupyterlab_and_syncs(browser, lab_with_playground: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        notebook = LabNotebook(page, lab_with_playground)
        sim = page.locator('[data-sim="kernel_playground"]')
        notebook.run_until_visible(0, sim)
        image = np.add.outer(np.arange(8.0), np.arange(9.0) ** 2) / 10
        sim.locator('[data-action="preset"][data-name="edge"]').click()
        edge = np.array([[-1.0, 0.0, 1.0]] * 3)
        np.testing.assert_allclose(_shown_map(sim), correlate2d(image, edge), atol=1e-12)
        sim.locator('[data-role="kernel"] input[data-row="0"][data-col="0"]').fill("4")
        edge[0, 0] = 4.0
        np.testing.assert_allclose(_shown_map(sim), correlate2d(image, edge), atol=1e-12)
        # the edit reached Python
        assert notebook.output_text(1) == "synced typed 4.0 True"
        assert notebook.errors == []
    finally:
        page.close()
