"""SkipConnectionSim (ch08): a stack of blocks with the shortcut on or off, and the
size of the signal and of the gradient at every block.

The page computes its bars in JavaScript from the model below; the same model is
written here in Python (``block_factor``, ``idealised_gradient_scale``,
``idealised_signal_scale``) so tests can compare the two. These are the sizes of an
idealised model, not measured on a network (for measured ones see
:func:`convkit.lessons.degradation.weight_gradient_norms` and
:func:`~convkit.lessons.degradation.activation_gradient_norms`).

The model (gains of random linear maps, no training):

- every block has a branch ``F`` that multiplies the size (norm) of a vector by the
  branch gain ``g`` -- for a random weight matrix, a random direction is scaled by
  about the same factor, forwards (``W x``) and backwards (``W^T grad``);
- a **plain** block computes ``y = F(x)``: it scales the signal, and the gradient
  that flows back through it, by ``g``;
- a **residual** block computes ``y = F(x) + x``.  Its branch output is (on average)
  at right angles to ``x``, so by Pythagoras ``|y| = sqrt(1 + g^2) |x|``; the
  backward pass through ``I + W^T`` scales the gradient by the same factor.

With ``depth`` blocks and a gradient of size 1 arriving at the top, the gradient at
the output of block ``l`` (1 = nearest the input) is ``factor ** (depth - l)``, and
the signal after block ``l`` (input of size 1) is ``factor ** l``.  With ``g = 0``
(all branch weights zero) a plain stack outputs nothing while a residual stack is
exactly the identity: "do nothing" is the default a residual block starts from.
"""

from __future__ import annotations

import math

import numpy as np
import traitlets

from convkit._checks import as_bool, int_at_least, int_in_range, non_negative_float
from convkit.sims._base import SimWidget

#: The sliders' ranges; kept equal to LIMITS in skip.js.
MAX_DEPTH = 60
MAX_GAIN = 2.0
GAIN_STEP = 0.05


def block_factor(gain: float, shortcut: bool) -> float:
    """How much one block scales the size of its signal and of its gradient.

    gain: the branch's gain g >= 0; shortcut: residual block (True) or plain (False).
    Returns g for a plain block, sqrt(1 + g^2) for a residual one.
    """
    g = non_negative_float("block_factor", "gain", gain)
    return math.sqrt(1.0 + g * g) if shortcut else g


def idealised_gradient_scale(depth: int, gain: float, shortcut: bool) -> np.ndarray:
    """Size of the gradient at the output of each block of the idealised stack, for a
    gradient of size 1 arriving at the top.

    depth blocks of branch gain ``gain``, shortcut on or off -> (depth,) float64: entry
    l-1 belongs to block l (block 1 is nearest the input) and equals
    ``block_factor(gain, shortcut) ** (depth - l)``.
    """
    func = "idealised_gradient_scale"
    n = int_at_least(func, "depth", depth, 1)
    factor = block_factor(non_negative_float(func, "gain", gain), shortcut)
    return np.array([factor ** (n - layer) for layer in range(1, n + 1)], dtype=np.float64)


def idealised_signal_scale(depth: int, gain: float, shortcut: bool) -> np.ndarray:
    """Size of the signal after each block of the idealised stack, for an input of size 1.

    depth blocks of branch gain ``gain``, shortcut on or off -> (depth,) float64: entry
    l-1 belongs to block l and equals ``block_factor(gain, shortcut) ** l``.
    """
    func = "idealised_signal_scale"
    n = int_at_least(func, "depth", depth, 1)
    factor = block_factor(non_negative_float(func, "gain", gain), shortcut)
    return np.array([factor**layer for layer in range(1, n + 1)], dtype=np.float64)


class SkipConnectionSim(SimWidget):
    """A stack of ``depth`` blocks whose branches have gain ``gain``, shortcut on or off.

    depth: 1..60 blocks; gain: the branch gain g in 0..2 (the slider moves in steps of
    0.05); shortcut: start with y = F(x) + x (True) or y = F(x) (False); view:
    ``"gradient"`` (backward, the default) or ``"signal"`` (forward).  The page draws
    one bar per block on a log scale, computed by the model of this module.
    """

    _sim_name = "skip"
    depth = traitlets.Int(20).tag(sync=True)
    gain = traitlets.Float(0.5).tag(sync=True)
    shortcut = traitlets.Bool(True).tag(sync=True)
    view = traitlets.Unicode("gradient").tag(sync=True)

    def __init__(
        self, depth: int = 20, gain: float = 0.5, shortcut: bool = True, view: str = "gradient"
    ) -> None:
        func = "SkipConnectionSim"
        n = int_in_range(func, "depth", depth, 1, MAX_DEPTH)
        g = non_negative_float(func, "gain", gain)
        if g > MAX_GAIN:
            raise ValueError(f"{func}: gain must be at most {MAX_GAIN}, got {g}")
        on = as_bool(func, "shortcut", shortcut)
        if view not in ("gradient", "signal"):
            raise ValueError(f"{func}: view must be 'gradient' or 'signal', got {view!r}")
        super().__init__(depth=n, gain=g, shortcut=on, view=view)
