"""Chapter 8's skip-connection simulation in the built book: with the shortcut on and
off, for several depths and gains and in both views, every bar the page draws, the
per-block factor and the summary value equal convkit.sims.skip's model."""

from __future__ import annotations

import numpy as np
import pytest
from book_site import HTML_DIR, embedded_views, sources_using, toc_docnames

from convkit.sims.skip import block_factor, idealised_gradient_scale, idealised_signal_scale

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.skip.SkipConnectionSim"
SIM_KIND = "skip"
CHAPTER = "book/ch08_architectures"
PROFILES = {"gradient": idealised_gradient_scale, "signal": idealised_signal_scale}


def _bars(root) -> list[float]:
    return [float(v) for v in root.locator('[data-role="bar"]').evaluate_all(
        "els => els.map(e => e.dataset.value)")]


def _set_slider(root, name: str, value: float) -> None:
    root.locator(f'input[data-control="{name}"]').evaluate(
        "(el, v) => { el.value = String(v); "
        "el.dispatchEvent(new Event('input', {bubbles: true})); }",
        value)


def _toggle(root, on: bool) -> None:
    root.locator(f'[data-control="shortcut"][data-shortcut="{"on" if on else "off"}"]').click()


def _check(root, depth: int, gain: float, shortcut: bool, view: str) -> None:
    expected = PROFILES[view](depth, gain, shortcut)
    np.testing.assert_allclose(_bars(root), expected, rtol=1e-12, atol=1e-300)
    factor = float(root.locator('[data-role="factor"]').get_attribute("data-value"))
    assert factor == pytest.approx(block_factor(gain, shortcut), rel=1e-12)
    role, index = ("first", 0) if view == "gradient" else ("last", -1)
    shown = float(root.locator(f'[data-role="{role}"]').get_attribute("data-value"))
    assert shown == pytest.approx(expected[index], rel=1e-12, abs=1e-300)
    title = root.locator('[data-role="title"]').inner_text()
    assert title.startswith(f"{depth} {'residual' if shortcut else 'plain'} block")
    skip = root.locator('[data-role="diagram"] svg')
    assert skip.get_attribute("data-shortcut") == ("on" if shortcut else "off")


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("SkipConnectionSim")


@pytest.mark.parametrize("docname", sources_using("SkipConnectionSim"))
def test_skip_sim_matches_the_python_model(visit, docname: str) -> None:
    result = visit(docname)
    states = [s for s in embedded_views(HTML_DIR / f"{docname}.html")
              if s.get("_anywidget_id") == SIM_ID]
    roots = result.page.locator(f'[data-sim="{SIM_KIND}"]')
    assert roots.count() == len(states) > 0, f"{docname}: SkipConnectionSim did not render"
    for index, state in enumerate(states):
        root = roots.nth(index)
        depth, gain = state["depth"], state["gain"]
        shortcut, view = state["shortcut"], state["view"]
        _check(root, depth, gain, shortcut, view)  # as embedded
        for on in (not shortcut, shortcut):  # toggle off and back on
            _toggle(root, on)
            _check(root, depth, gain, on, view)
        for new_depth, new_gain in ((7, 0.0), (33, 1.35), (1, 2.0), (60, 0.1)):
            _set_slider(root, "depth", new_depth)
            _set_slider(root, "gain", new_gain)
            shown_gain = float(root.locator('[data-role="gain-value"]').get_attribute("data-value"))
            assert shown_gain == pytest.approx(new_gain)
            for on in (False, True):
                _toggle(root, on)
                for mode in ("signal", "gradient"):
                    root.locator(f'[data-control="view"][data-view="{mode}"]').click()
                    _check(root, new_depth, shown_gain, on, mode)
        # the residual stack with a zero branch is the identity: every bar is exactly 1
        _set_slider(root, "gain", 0)
        _toggle(root, True)
        assert set(_bars(root)) == {1.0}
    assert result.problems() == [], "\n".join(result.problems())
