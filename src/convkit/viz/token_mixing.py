"""Where a change travels (chapter 9): the outputs a layer moved, drawn as masks.

:func:`plot_reach` draws the boolean masks of
:func:`convkit.lessons.token_mixing.changed_positions` side by side: one pixel per
output position of a convolution, one square per token of a transformer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from convkit.viz.style import course_subplots, finish

__all__ = ["plot_reach"]


def plot_reach(masks: Sequence[np.ndarray], titles: Sequence[str],
               size: float = 2.8) -> Figure:
    """One panel per mask: (H, W) booleans, dark where the output moved, light where not.

    masks: 2-D arrays (a token sequence reshaped to its patch grid); titles: one per
    mask; size: inches per panel -> the figure (closed in pyplot). Grid lines mark the
    cells of masks up to 8 x 8.
    """
    arrays = [np.asarray(m, dtype=bool) for m in masks]
    if not arrays or any(a.ndim != 2 for a in arrays):
        raise ValueError("plot_reach: give one or more 2-D masks, got shapes "
                         f"{[a.shape for a in arrays]}")
    if len(titles) != len(arrays):
        raise ValueError(f"plot_reach: {len(arrays)} masks need {len(arrays)} titles, "
                         f"got {len(titles)}")
    fig, axes = course_subplots(1, len(arrays), figsize=(size * len(arrays), size + 0.5),
                                squeeze=False)
    for ax, mask, title in zip(axes[0], arrays, titles, strict=True):
        ax.imshow(mask.astype(float), cmap="Oranges", vmin=-0.15, vmax=1.0,
                  interpolation="nearest")
        if max(mask.shape) <= 8:
            for k in range(1, mask.shape[0]):
                ax.axhline(k - 0.5, color="white", lw=1.5)
            for k in range(1, mask.shape[1]):
                ax.axvline(k - 0.5, color="white", lw=1.5)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.spines[:].set_visible(True)
    fig.tight_layout()
    return finish(fig)
