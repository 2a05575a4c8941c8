"""Chapter 4's pooling simulation in the built book: stepping through the windows and
toggling max / average pooling, the pooled values the page shows equal convkit's
max_pool2d / avg_pool2d, and each output cell has its window's colour."""

from __future__ import annotations

import numpy as np
import pytest
from book_site import HTML_DIR, embedded_views, shown, sources_using, toc_docnames

from convkit import avg_pool2d, max_pool2d, output_size

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.pooling.PoolingSim"
SIM_KIND = "pooling"
CHAPTER = "book/ch04_pooling"
OPS = {"max": max_pool2d, "avg": avg_pool2d}


def _backgrounds(locator) -> list[str]:
    return locator.evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("PoolingSim")


@pytest.mark.parametrize("docname", sources_using("PoolingSim"))
def test_pooling_sim_matches_convkit_in_both_modes(visit, docname: str) -> None:
    result = visit(docname)
    states = [s for s in embedded_views(HTML_DIR / f"{docname}.html")
              if s.get("_anywidget_id") == SIM_ID]
    roots = result.page.locator(f'[data-sim="{SIM_KIND}"]')
    assert roots.count() == len(states) > 0, f"{docname}: PoolingSim did not render"
    for index, state in enumerate(states):
        root = roots.nth(index)
        grid = np.array(state["grid"])
        k, s = state["kernel_size"], state["stride"]
        oh, ow = output_size(grid.shape[0], k, s), output_size(grid.shape[1], k, s)
        assert f"\u2192 {oh}\u00d7{ow}" in root.locator('[data-role="title"]').inner_text()
        np.testing.assert_array_equal(
            shown(root.locator('[data-role="input"] .ck-cell')), grid.ravel())
        filled = root.locator('[data-role="output"] [data-value]')
        window = root.locator('[data-role="input"] .ck-in-window')
        # the state's mode first, then the other one, then back: the page recomputes
        modes = [state["mode"], "avg" if state["mode"] == "max" else "max", state["mode"]]
        for step, mode in enumerate(modes):
            if step:
                root.locator(f'[data-control="mode"][data-mode="{mode}"]').click()
            pressed = root.locator('[data-control="mode"][aria-pressed="true"]')
            assert pressed.count() == 1 and pressed.get_attribute("data-mode") == mode
            expected = OPS[mode](grid[None], k, s)[0]
            assert expected.shape == (oh, ow)
            root.locator('[data-action="reset"]').click()
            assert filled.count() == 1
            for pos in range(oh * ow):
                if pos:
                    root.locator('[data-action="step"]').click()
                assert filled.count() == pos + 1
                i, j = divmod(pos, ow)
                patch = grid[i * s : i * s + k, j * s : j * s + k]
                np.testing.assert_array_equal(shown(window), patch.ravel())
                np.testing.assert_allclose(
                    shown(root.locator('[data-role="result"]')), [expected[i, j]], rtol=1e-12)
            np.testing.assert_allclose(shown(filled), expected.ravel(), rtol=1e-12, atol=1e-12)
            assert root.locator('[data-action="step"]').is_disabled()
            if s == k:  # non-overlapping windows: each output cell has its window's colour
                cells = root.locator('[data-role="input"] .ck-cell')
                colours = np.array(_backgrounds(cells), dtype=object).reshape(grid.shape)
                out_colours = _backgrounds(filled)
                assert len(set(out_colours)) == oh * ow
                for idx, colour in enumerate(out_colours):
                    i, j = divmod(idx, ow)
                    assert set(colours[i * k : i * k + k, j * k : j * k + k].ravel()) == {colour}
    assert result.problems() == [], "\n".join(result.problems())
