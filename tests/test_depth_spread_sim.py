"""DepthSpreadSim's Python side: the precomputed runs are spread_through_depth's numbers,
the controls reach every named initialisation, the state stays small, bad arguments are
refused, and the page's lookups (depth_spread.js, run in Node) give Python's numbers."""

from __future__ import annotations

import json
import math
import re
import shutil

import numpy as np
import pytest
from sim_node import run_sim_module

from convkit.lessons.depth_spread import (
    INIT_GAINS,
    log_magnitude_histograms,
    spread_through_depth,
)
from convkit.sims import DepthSpreadSim
from convkit.sims._base import esm_source
from convkit.sims.depth_spread import (
    DEPTHS,
    GAINS,
    LOG_EDGES,
    SEED,
    SIM_SHAPE,
    VALUES_PER_BLOCK,
    precomputed,
    run_summary,
)

pytestmark = pytest.mark.usefixtures("one_thread")

SETTINGS = [(10, INIT_GAINS["Xavier/Glorot"], False), (20, 1.5, True), (30, 0.5, False)]


def _spread(depth: int, gain: float, batch_norm: bool):
    return spread_through_depth(
        depth, gain, batch_norm, **SIM_SHAPE, seed=SEED, keep=VALUES_PER_BLOCK
    )


def _dense_counts(run: dict, block: int) -> np.ndarray:
    """Block ``block``'s stored counts spread over every bin of LOG_EDGES."""
    row = np.zeros(len(LOG_EDGES) - 1, dtype=np.int64)
    counts = run["counts"][block - 1]
    first = run["first_bin"][block - 1]
    row[first : first + len(counts)] = counts
    return row


@pytest.fixture(scope="module")
def sim() -> DepthSpreadSim:
    return DepthSpreadSim()


def test_grid_holds_the_tenths_and_every_named_gain() -> None:
    assert len(GAINS) == 12 and list(GAINS) == sorted(set(GAINS))
    assert {round(g, 6) for g in GAINS} >= {round(0.5 + 0.1 * k, 6) for k in range(11)}
    for name, gain in INIT_GAINS.items():
        assert gain in GAINS, name  # exactly: a preset button lands on a computed run
    assert DEPTHS == (10, 20, 30)
    assert VALUES_PER_BLOCK == SIM_SHAPE["batch"] * SIM_SHAPE["width"] * SIM_SHAPE["size"] ** 2


@pytest.mark.parametrize(("depth", "gain", "batch_norm"), SETTINGS)
def test_runs_are_spread_through_depth(depth: int, gain: float, batch_norm: bool) -> None:
    spread = _spread(depth, gain, batch_norm)
    run = run_summary(depth, gain, batch_norm)
    assert spread.activations.shape == (depth, VALUES_PER_BLOCK)
    # stds to 3 significant digits
    np.testing.assert_allclose(run["activation_std"], spread.activation_std, rtol=5e-3)
    np.testing.assert_allclose(run["gradient_std"], spread.gradient_std, rtol=5e-3)
    # the histograms: exact counts, checked with np.histogram of the logarithms
    assert run["zero_count"] == list((spread.activations == 0).sum(axis=1))
    for block, values in enumerate(spread.activations, start=1):
        positive = np.log10(values[values > 0].astype(np.float64))
        expected = np.histogram(np.clip(positive, LOG_EDGES[0], LOG_EDGES[-1]), LOG_EDGES)[0]
        np.testing.assert_array_equal(_dense_counts(run, block), expected)
        stored = run["counts"][block - 1]
        assert stored[0] > 0 and stored[-1] > 0  # trimmed to the non-empty span
        assert run["zero_count"][block - 1] + sum(stored) == VALUES_PER_BLOCK


def test_widget_state_holds_every_run(sim: DepthSpreadSim) -> None:
    state = sim.get_state()
    data = state["data"]
    assert (state["depth"], state["init_gain"], state["batch_norm"]) == (30, 1.0, False)
    assert data["depths"] == list(DEPTHS) and data["gains"] == list(GAINS)
    assert data["presets"] == [[name, gain] for name, gain in INIT_GAINS.items()]
    np.testing.assert_array_equal(data["log_edges"], LOG_EDGES)
    assert data["values_per_block"] == VALUES_PER_BLOCK
    assert np.array(data["runs"], dtype=object).shape == (len(DEPTHS), len(GAINS), 2)
    for i, depth in enumerate(DEPTHS):
        for j, gain in enumerate(GAINS):
            for b, batch_norm in enumerate((False, True)):
                assert data["runs"][i][j][b] == run_summary(depth, gain, batch_norm)
    assert state["_anywidget_id"] == "convkit.sims.depth_spread.DepthSpreadSim"


def test_state_is_small_and_a_copy(sim: DepthSpreadSim) -> None:
    size = len(json.dumps(sim.get_state()))
    assert size <= 300_000, f"state is {size} bytes"
    sim.data["runs"][0][0][0]["activation_std"][0] = -1.0
    assert precomputed()["runs"][0][0][0]["activation_std"][0] > 0  # not shared


def test_runs_are_deterministic() -> None:
    fresh = run_summary.__wrapped__(10, 1.2, True)  # bypasses the cache
    assert fresh == run_summary(10, 1.2, True) == run_summary.__wrapped__(10, 1.2, True)


def test_runs_show_what_the_chapter_says() -> None:
    def growth(gain: float, batch_norm: bool) -> float:
        stds = run_summary(30, gain, batch_norm)["activation_std"]
        return stds[-1] / stds[0]

    assert growth(INIT_GAINS["Xavier/Glorot"], False) < 1e-3
    assert growth(INIT_GAINS["too small"], False) < 1e-7
    assert growth(INIT_GAINS["too large"], False) > 1e3
    assert 0.1 < growth(INIT_GAINS["Kaiming/He"], False) < 10
    rectified = math.sqrt(0.5 - 1 / (2 * math.pi))  # std of max(z, 0), z ~ N(0, 1)
    for gain in GAINS:  # batch norm: level, whatever the weights' scale
        np.testing.assert_allclose(
            run_summary(30, gain, True)["activation_std"], rectified, rtol=0.1
        )
    # the histograms move with the std: the fullest bin of block 30 sits near its std
    for gain in (0.5, 1.0, 1.5):
        run = run_summary(30, gain, False)
        centres = (LOG_EDGES[:-1] + LOG_EDGES[1:]) / 2
        fullest = centres[np.argmax(_dense_counts(run, 30))]
        assert abs(fullest - math.log10(run["activation_std"][-1])) < 1.0


def test_the_helper_and_the_run_agree_on_fractions() -> None:
    spread = _spread(10, 0.8, False)
    zeros, fractions = log_magnitude_histograms(spread, LOG_EDGES)
    run = run_summary(10, 0.8, False)
    np.testing.assert_allclose(
        np.array(run["zero_count"]) / VALUES_PER_BLOCK, zeros, rtol=0, atol=1e-15
    )
    for block in range(1, 11):
        np.testing.assert_allclose(
            _dense_counts(run, block) / VALUES_PER_BLOCK, fractions[block - 1], rtol=0, atol=1e-15
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"depth": 25}, ValueError, "depth must be one of 10, 20, 30, got 25"),
        ({"depth": 10.0}, TypeError, "depth must be an int"),
        ({"depth": True}, TypeError, "depth must be an int"),
        ({"init_gain": 0.75}, ValueError, r"init_gain must be one of the precomputed gains 0\.5, "),
        ({"init_gain": 1.6}, ValueError, "init_gain must be one of"),
        ({"init_gain": -1.0}, ValueError, "init_gain must be a positive number"),
        ({"init_gain": float("nan")}, ValueError, "init_gain must be a positive number"),
        ({"init_gain": "1.0"}, TypeError, "init_gain must be a number"),
        ({"batch_norm": 1}, TypeError, "batch_norm must be True or False"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=rf"^DepthSpreadSim: {message}"):
        DepthSpreadSim(**kwargs)


def test_gains_are_matched_to_the_grid() -> None:
    assert DepthSpreadSim(init_gain=0.1 * 7).init_gain == 0.7  # 0.7000000000000001
    assert DepthSpreadSim(init_gain=1, batch_norm=True).init_gain == 1.0
    xavier = DepthSpreadSim(depth=10, init_gain=1 / math.sqrt(2))
    assert (xavier.depth, xavier.init_gain) == (10, INIT_GAINS["Xavier/Glorot"])


def test_run_summary_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match=r"^run_summary: depth"):
        run_summary(0, 1.0, False)
    with pytest.raises(ValueError, match=r"^run_summary: init_gain"):
        run_summary(10, 0.0, False)
    with pytest.raises(TypeError, match=r"^run_summary: batch_norm"):
        run_summary(10, 1.0, "no")


def test_module_is_self_contained_and_uses_the_shared_helpers() -> None:
    source = esm_source("depth_spread")
    assert re.search(r"^export default \{ render \};$", source, re.M)
    assert "import " not in source and '"data-sim": "depth_spread"' in source
    own = source.split("// DepthSpreadSim")[1]
    for helper in ("fmtSize(", "superscript(", "setTrait(", "button("):
        assert helper in own and f"function {helper}" not in own, helper
    assert source.count("function fmtSize(") == 1  # shared with skip.js through _common.js


_NODE_SCRIPT = """
const data = JSON.parse(readFileSync(STATE_FILE, "utf8"));
const out = [];
for (const [depth, gain, bn] of SETTINGS) {
  const gainIndex = nearestIndex(data.gains, gain);
  const run = findRun(data, depth, gainIndex, bn);
  const bins = data.log_edges.length - 1;
  const total = data.values_per_block;
  const rows = Array.from({ length: depth }, (_, i) => denseRow(run, i + 1, bins, total));
  out.push({ gainIndex, rows, zeros: zeroShares(run, total), summary: summary(run, total),
    act: run.activation_std });
}
const labels = [fmtSize(1.09e-5), fmtSize(0.589), fmtSize(188.4), powerLabel(-14), powerLabel(0),
  powerLabel(1), percent(0.4987)];
console.log(JSON.stringify({ out, labels }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_page_lookups_match_python(sim: DepthSpreadSim, tmp_path) -> None:
    """findRun, denseRow, zeroShares and summary of depth_spread.js (run in Node on the
    widget's state) give the histograms and stds of spread_through_depth."""
    settings = [*SETTINGS, (30, 1.0, True)]
    state_file = tmp_path / "data.json"
    state_file.write_text(json.dumps(sim.get_state()["data"]))
    page = run_sim_module(
        "depth_spread",
        f"const SETTINGS = {json.dumps(settings)};\n"
        + f"const STATE_FILE = {json.dumps(str(state_file))};\n"
        + _NODE_SCRIPT,
    )
    for (depth, gain, batch_norm), shown in zip(settings, page["out"], strict=True):
        assert GAINS[shown["gainIndex"]] == gain
        spread = _spread(depth, gain, batch_norm)
        zeros, fractions = log_magnitude_histograms(spread, LOG_EDGES)
        np.testing.assert_allclose(shown["rows"], fractions, rtol=0, atol=1e-15)
        np.testing.assert_allclose(shown["zeros"], zeros, rtol=0, atol=1e-15)
        stds, grads = spread.activation_std, spread.gradient_std
        np.testing.assert_allclose(shown["act"], stds, rtol=5e-3)
        s = shown["summary"]
        assert s["actRatio"] == pytest.approx(stds[-1] / stds[0], rel=1e-2)
        assert s["gradRatio"] == pytest.approx(grads[0] / grads[-1], rel=1e-2)
        assert (s["zerosMin"], s["zerosMax"]) == pytest.approx((zeros.min(), zeros.max()))
    assert page["labels"] == [
        "1.1\u00d710\u207b\u2075",
        "0.589",
        "188",
        "10\u207b\u00b9\u2074",
        "1",
        "10",
        "49.9%",
    ]
