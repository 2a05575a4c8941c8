"""DepthSpreadSim (ch10): how the activations of a deep plain ConvNet spread block by
block, for a chosen depth, initialisation scale and batch norm on or off.

The stacks are :func:`convkit.lessons.depth_spread.deep_stack`'s (conv 3x3 [+ batch
norm] + ReLU per block), run by
:func:`~convkit.lessons.depth_spread.spread_through_depth`.  Training a stack is not
needed and running one is too slow for a page without a kernel, so every setting the
controls can reach is computed here, once, and sent to the page with the widget's state;
the page only picks the run of the current setting and draws it.  The choices:

- **Settings.**  Depths :data:`DEPTHS`; initialisation gains :data:`GAINS`, multiples of
  Kaiming's std from 0.5 to 1.5 in steps of 0.1 plus Xavier's 1/sqrt(2) (the one named
  gain of :data:`~convkit.lessons.depth_spread.INIT_GAINS` off that grid), so every
  preset button lands on a computed run; batch norm off and on.  72 runs in all.
- **One run per depth**, not a deeper run cut short: the gradient at block l flows back
  from the top, so it depends on the depth.  (The generator draws the weights before the
  input, so a shallower stack's blocks have the deeper stacks' first weights but another
  input draw: its forward numbers differ from theirs by that draw only.)
- **Size.**  ``SIM_SHAPE``: 16 channels of 16 x 16 (``spread_through_depth``'s
  defaults) but a batch of 2 images instead of 16 (8 192 values per block; batch norm's
  statistics still pool 512 values per channel), so the 72 runs take about 2 s on one
  core; seed 0.  The weights are the default run's (the generator draws them first) and
  so are its stds, up to the smaller sample.  The first simulation made computes the
  runs (``functools.cache``); later ones reuse them.
- **Histograms of powers of ten.**  Through 30 blocks the std falls to about 2e-5 of
  block 1's (Xavier) or 1e-9 (gain 0.5), or grows about 6e4-fold (gain 1.5), so no fixed
  linear bins could show every block.  Each block's positive outputs are binned by log10
  on the fixed quarter-decade bins :data:`LOG_EDGES` (1e-14 .. 1e6, the same for every
  setting, so a shrinking or growing signal is seen to move); the ReLU's exact zeros (a
  third to two thirds of a block's outputs), which have no logarithm, are counted apart
  (:func:`~convkit.lessons.depth_spread.log_magnitude_histograms`).
- **Compact state** (about 190 KB with the module): stds to 3 significant digits; the
  histograms as exact counts (of ``VALUES_PER_BLOCK`` values), each block's only from
  its first non-empty bin to its last.
"""

from __future__ import annotations

import copy
import math
from functools import cache

import numpy as np
import traitlets

from convkit._checks import as_bool, as_int, int_at_least, positive_float
from convkit.lessons.depth_spread import (
    INIT_GAINS,
    log_magnitude_histograms,
    spread_through_depth,
)
from convkit.sims._base import SimWidget

#: The depths the page offers.
DEPTHS: tuple[int, ...] = (10, 20, 30)
#: The initialisation gains (multiples of Kaiming's std) the slider walks through, in order:
#: 0.5, 0.6, ..., 1.5 and every named gain of INIT_GAINS.
GAINS: tuple[float, ...] = tuple(
    sorted({round(0.5 + 0.1 * k, 10) for k in range(11)} | set(INIT_GAINS.values()))
)
#: Bin edges of the histograms, in powers of ten: 1e-14 .. 1e6 in quarter decades.
LOG_EDGES: np.ndarray = np.linspace(-14.0, 6.0, 81)
#: The stack and batch of every run (see the module's docstring), and its seed.
SIM_SHAPE: dict[str, int] = {"width": 16, "batch": 2, "size": 16}
SEED = 0
#: How many outputs every block has (and the histograms count): batch * width * size**2.
VALUES_PER_BLOCK = SIM_SHAPE["batch"] * SIM_SHAPE["width"] * SIM_SHAPE["size"] ** 2
_GAIN_TOLERANCE = 1e-9


def _significant(values: np.ndarray, digits: int = 3) -> list[float]:
    """values: (n,) -> a list of n floats rounded to ``digits`` significant digits."""
    return [float(f"{v:.{digits - 1}e}") for v in np.asarray(values, dtype=np.float64)]


def _trimmed(counts: np.ndarray) -> tuple[int, list[int]]:
    """One histogram row of counts (bins,) -> (index of its first non-empty bin, the counts
    from there to its last non-empty bin); (0, []) when every bin is empty."""
    filled = np.flatnonzero(counts)
    if filled.size == 0:
        return 0, []
    first, last = int(filled[0]), int(filled[-1])
    return first, [int(c) for c in counts[first : last + 1]]


@cache
def run_summary(depth: int, init_gain: float, batch_norm: bool) -> dict[str, list]:
    """The numbers the page shows for one setting, from :func:`spread_through_depth`
    (``SIM_SHAPE``, seed ``SEED``, all :data:`VALUES_PER_BLOCK` outputs of every block kept).

    depth blocks, weights at ``init_gain`` times Kaiming's std, batch norm on or off ->
    a dict of per-block lists (entry l-1 belongs to block l, block 1 nearest the input):
    ``activation_std``, ``gradient_std`` (depth,) to 3 significant digits; ``zero_count``
    (depth,), how many outputs are exactly 0; ``first_bin`` (depth,) and ``counts`` (depth
    lists): block l has ``counts[l-1][k]`` outputs in bin ``first_bin[l-1] + k`` of
    :data:`LOG_EDGES` and none in the bins before and after.  The counts are exact:
    :func:`log_magnitude_histograms`'s fractions times ``VALUES_PER_BLOCK``.  Cached: do
    not modify the result.
    """
    func = "run_summary"
    depth = int_at_least(func, "depth", depth, 1)
    gain = positive_float(func, "init_gain", init_gain)
    batch_norm = as_bool(func, "batch_norm", batch_norm)
    spread = spread_through_depth(
        depth, gain, batch_norm, **SIM_SHAPE, seed=SEED, keep=VALUES_PER_BLOCK
    )
    zeros, fractions = log_magnitude_histograms(spread, LOG_EDGES)
    rows = [_trimmed(row) for row in np.rint(fractions * VALUES_PER_BLOCK).astype(np.int64)]
    return {
        "activation_std": _significant(spread.activation_std),
        "gradient_std": _significant(spread.gradient_std),
        "zero_count": [int(c) for c in np.rint(zeros * VALUES_PER_BLOCK)],
        "first_bin": [first for first, _ in rows],
        "counts": [counts for _, counts in rows],
    }


@cache
def precomputed() -> dict[str, object]:
    """Everything the page needs, for every setting of its controls.

    -> ``{"depths": DEPTHS, "gains": GAINS, "presets": [[name, gain], ...] (INIT_GAINS's
    order), "log_edges": LOG_EDGES (81,), "values_per_block": VALUES_PER_BLOCK,
    "runs": runs}`` with ``runs[i][j][b] = run_summary(DEPTHS[i], GAINS[j], bool(b))``,
    (3, 12, 2) runs.  Computed once per process; do not modify the result
    (DepthSpreadSim copies it).
    """
    return {
        "depths": list(DEPTHS),
        "gains": list(GAINS),
        "presets": [[name, gain] for name, gain in INIT_GAINS.items()],
        "log_edges": [float(edge) for edge in LOG_EDGES],
        "values_per_block": VALUES_PER_BLOCK,
        "runs": [
            [[run_summary(depth, gain, bn) for bn in (False, True)] for gain in GAINS]
            for depth in DEPTHS
        ],
    }


def _grid_gain(func: str, init_gain: object) -> float:
    """``init_gain`` as the entry of :data:`GAINS` it equals (within 1e-9); TypeError for a
    non-number, ValueError (listing the gains) for a number off the grid."""
    gain = positive_float(func, "init_gain", init_gain)
    for candidate in GAINS:
        if math.isclose(gain, candidate, rel_tol=0.0, abs_tol=_GAIN_TOLERANCE):
            return candidate
    listed = ", ".join(f"{g:.4g}" for g in GAINS)
    raise ValueError(
        f"{func}: init_gain must be one of the precomputed gains {listed} "
        f"(multiples of Kaiming's std; Xavier's is 1/sqrt(2)), got {gain}"
    )


class DepthSpreadSim(SimWidget):
    """A plain stack of conv 3x3 [+ batch norm] + ReLU blocks: per block, the histogram of
    its outputs' powers of ten, and the activation and gradient std per block.

    depth: 10, 20 or 30 blocks; init_gain: the weights' std as a multiple of Kaiming's,
    one of :data:`GAINS` (0.5, 0.6, ..., 1.5 and Xavier's 1/sqrt(2) = 0.707...);
    batch_norm: start with batch norm on or off.  The reader changes all three on the
    page; the numbers of every setting are in ``data`` (see :func:`precomputed`).
    """

    _sim_name = "depth_spread"
    depth = traitlets.Int(30).tag(sync=True)
    init_gain = traitlets.Float(1.0).tag(sync=True)
    batch_norm = traitlets.Bool(False).tag(sync=True)
    data = traitlets.Dict().tag(sync=True)

    def __init__(self, depth: int = 30, init_gain: float = 1.0, batch_norm: bool = False) -> None:
        func = "DepthSpreadSim"
        n = as_int(func, "depth", depth)
        if n not in DEPTHS:
            choices = ", ".join(str(d) for d in DEPTHS)
            raise ValueError(f"{func}: depth must be one of {choices}, got {depth!r}")
        gain = _grid_gain(func, init_gain)
        on = as_bool(func, "batch_norm", batch_norm)
        data = copy.deepcopy(precomputed())
        super().__init__(depth=n, init_gain=gain, batch_norm=on, data=data)
