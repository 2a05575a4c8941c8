"""Two properties of a layer, measured rather than asserted (chapter 9).

A convolution and a self-attention layer differ in two ways that are easy to mix up:

- **Locality** -- how far a change travels. :func:`changed_positions` compares a
  layer's outputs before and after a change of its input and reports which output
  positions moved: a 3 x 3 convolution moves only the changed region and a one-pixel
  rim around it; one attention layer moves every token.
- **Order** -- whether the layer knows where an input came from.
  :func:`permutation_gap` shuffles the tokens before a layer and compares the result
  with the layer's output shuffled the same way. Without position embeddings the two
  agree to rounding error: the layer is *permutation-equivariant* and cannot tell
  which patches are neighbours. A position embedding added by slot breaks that.

The two are independent: a position embedding makes order matter but does not make
attention local (every output still depends on every token).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from convkit._checks import as_int, non_negative_float

__all__ = ["changed_positions", "permutation_gap"]


def _array(value: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)


def changed_positions(before: np.ndarray | torch.Tensor, after: np.ndarray | torch.Tensor,
                      feature_axis: int, atol: float = 0.0) -> np.ndarray:
    """Which output positions changed: before, after: same shape -> bool, ``feature_axis`` removed.

    A position (every index except the one along ``feature_axis``, e.g. channel 1 of
    an (N, C, H, W) map or the last axis of (N, T, D) tokens) counts as changed when
    any of its features differs by more than ``atol``. ValueError if the shapes differ
    or the axis does not exist.
    """
    func = "changed_positions"
    a, b = _array(before), _array(after)
    if a.shape != b.shape:
        raise ValueError(f"{func}: before has shape {a.shape}, after {b.shape}")
    axis = as_int(func, "feature_axis", feature_axis)
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"{func}: feature_axis {axis} does not exist for shape {a.shape}")
    tol = non_negative_float(func, "atol", atol)
    return np.any(np.abs(b - a) > tol, axis=axis)


def permutation_gap(layer: Callable[[torch.Tensor], torch.Tensor], tokens: torch.Tensor,
                    order: Sequence[int] | torch.Tensor,
                    position: torch.Tensor | None = None) -> float:
    """max |layer(z + E)[:, order] - layer(z[:, order] + E)| for tokens z: (N, T, D).

    ``order`` is a permutation of ``range(T)``; ``position`` (E) is None (no position
    embedding) or a (T, D) / (1, T, D) tensor added by slot, so it stays put while the
    tokens move. 0 up to rounding error means the layer is permutation-equivariant
    for these tokens. The layer runs without gradients (put it in eval mode first if
    it has dropout).
    """
    func = "permutation_gap"
    if not isinstance(tokens, torch.Tensor) or tokens.ndim != 3:
        raise ValueError(f"{func}: tokens must be a 3-D tensor (N, T, D), got "
                         f"{getattr(tokens, 'shape', type(tokens).__name__)}")
    perm = torch.as_tensor(order, dtype=torch.long)
    length = tokens.shape[1]
    if perm.ndim != 1 or sorted(perm.tolist()) != list(range(length)):
        raise ValueError(f"{func}: order must be a permutation of range({length}), "
                         f"got {perm.tolist()}")
    pos = torch.zeros_like(tokens[:1]) if position is None else position
    if pos.shape[-2:] != tokens.shape[1:]:
        raise ValueError(f"{func}: position must have shape ({length}, {tokens.shape[2]}), "
                         f"got {tuple(pos.shape)}")
    with torch.no_grad():
        moved_after = layer(tokens + pos)[:, perm]
        moved_before = layer(tokens[:, perm] + pos)
    return float((moved_after - moved_before).abs().max())
