"""Chapter 10's depth-spread simulation in the built book, with no kernel: for every
depth, every named initialisation, a slider setting and batch norm off and on, every
histogram row, share of zeros, std per block and readout number the page shows is
spread_through_depth's for the simulation's stack; batch norm levels the readout's std."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest
from book_site import HTML_DIR, embedded_views, sources_using, toc_docnames

from convkit.lessons.depth_spread import (
    INIT_GAINS,
    Spread,
    log_magnitude_histograms,
    spread_through_depth,
)
from convkit.sims.depth_spread import DEPTHS, GAINS, LOG_EDGES, SEED, SIM_SHAPE, VALUES_PER_BLOCK

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.depth_spread.DepthSpreadSim"
SIM_KIND = "depth_spread"
CHAPTER = "book/ch10_normalisation"


@cache
def _expected(depth: int, gain: float, batch_norm: bool) -> tuple[Spread, np.ndarray, np.ndarray]:
    """The run of one setting, straight from convkit: (spread, zeros, fractions)."""
    spread = spread_through_depth(
        depth, gain, batch_norm, **SIM_SHAPE, seed=SEED, keep=VALUES_PER_BLOCK
    )
    zeros, fractions = log_magnitude_histograms(spread, LOG_EDGES)
    return spread, zeros, fractions


def _values(root, role: str) -> list[float]:
    return [
        float(v)
        for v in root.locator(f'[data-role="{role}"]').evaluate_all(
            "els => els.map(e => e.dataset.value)"
        )
    ]


def _value(root, role: str) -> float:
    return float(root.locator(f'[data-role="{role}"]').get_attribute("data-value"))


def _rows(root) -> np.ndarray:
    return np.array(
        [
            json.loads(v)
            for v in root.locator('[data-role="hist-row"]').evaluate_all(
                "els => els.map(e => e.dataset.values)"
            )
        ]
    )


def _set_gain(root, gain: float) -> None:
    root.locator('input[data-control="gain"]').evaluate(
        "(el, v) => { el.value = String(v); "
        "el.dispatchEvent(new Event('input', {bubbles: true})); }",
        GAINS.index(gain),
    )


def _toggle_norm(root, on: bool) -> None:
    root.locator(f'[data-control="batch-norm"][data-batch-norm="{"on" if on else "off"}"]').click()


def _pressed(root, control: str) -> list[str]:
    return root.locator(f'[data-control="{control}"][aria-pressed="true"]').evaluate_all(
        f"els => els.map(e => e.getAttribute('data-{control}'))"
    )


def _check(root, depth: int, gain: float, batch_norm: bool) -> float:
    """The page shows the run of this setting; returns the readout's last block's std."""
    spread, zeros, fractions = _expected(depth, gain, batch_norm)
    title = root.locator('[data-role="title"]').inner_text()
    assert title.startswith(f"{depth} blocks of conv 3\u00d73 ")
    assert ("+ batch norm" in title) == batch_norm
    assert _value(root, "gain-value") == pytest.approx(gain, rel=1e-12)
    assert _pressed(root, "depth") == [str(depth)]
    assert _pressed(root, "batch-norm") == ["on" if batch_norm else "off"]
    assert _pressed(root, "preset") == [n for n, g in INIT_GAINS.items() if g == gain]
    np.testing.assert_allclose(_rows(root), fractions, rtol=0, atol=1e-15)
    np.testing.assert_allclose(_values(root, "zero-cell"), zeros, rtol=0, atol=1e-15)
    act, grad = spread.activation_std, spread.gradient_std
    np.testing.assert_allclose(_values(root, "act-point"), act, rtol=5e-3)
    np.testing.assert_allclose(_values(root, "grad-point"), grad, rtol=5e-3)
    shown = {
        role: _value(root, role)
        for role in ("act-first", "act-last", "act-ratio", "grad-first", "grad-last", "grad-ratio")
    }
    np.testing.assert_allclose(
        [shown["act-first"], shown["act-last"], shown["grad-first"], shown["grad-last"]],
        [act[0], act[-1], grad[0], grad[-1]],
        rtol=5e-3,
    )
    assert shown["act-ratio"] == pytest.approx(act[-1] / act[0], rel=1e-2)
    assert shown["grad-ratio"] == pytest.approx(grad[0] / grad[-1], rel=1e-2)
    assert _value(root, "zeros-min") == pytest.approx(zeros.min(), abs=1e-15)
    assert _value(root, "zeros-max") == pytest.approx(zeros.max(), abs=1e-15)
    return shown["act-ratio"]


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("DepthSpreadSim")


def check_sim(root, state: dict) -> None:
    """Drive one rendered DepthSpreadSim through its controls (used below per embedded sim)."""
    _check(root, state["depth"], state["init_gain"], state["batch_norm"])  # as embedded
    for depth in DEPTHS:
        root.locator(f'[data-control="depth"][data-depth="{depth}"]').click()
        ratios: dict[tuple[str, bool], float] = {}
        for name, gain in INIT_GAINS.items():
            root.locator(f'[data-control="preset"][data-preset="{name}"]').click()
            for on in (True, False):
                _toggle_norm(root, on)
                ratios[name, on] = _check(root, depth, gain, on)
        # batch norm keeps the std level, whatever the weights' scale ...
        assert all(0.8 < ratios[name, True] < 1.25 for name in INIT_GAINS)
        # ... without it, the larger the weights the larger the last block's signal
        plain = [ratios[name, False] for name in INIT_GAINS]  # in increasing gain
        assert plain == sorted(plain) and plain[-1] / plain[0] > 10 ** (depth / 10)
    _set_gain(root, 1.2)  # a slider setting no preset names
    _toggle_norm(root, True)
    _check(root, DEPTHS[-1], 1.2, True)


@pytest.mark.parametrize("docname", sources_using("DepthSpreadSim"))
def test_depth_spread_sim_matches_convkit(visit, docname: str) -> None:
    result = visit(docname)
    states = [
        s for s in embedded_views(HTML_DIR / f"{docname}.html") if s.get("_anywidget_id") == SIM_ID
    ]
    roots = result.page.locator(f'[data-sim="{SIM_KIND}"]')
    assert roots.count() == len(states) > 0, f"{docname}: DepthSpreadSim did not render"
    for index, state in enumerate(states):
        check_sim(roots.nth(index), state)
    assert result.problems() == [], "\n".join(result.problems())
