"""The adversarial example of chapter 9: an image, its FGSM perturbation, the flipped image.

:func:`plot_flip` draws a :class:`convkit.lessons.adversarial.Flip` (from
:func:`convkit.lessons.adversarial.find_flip`) as three panels, in the course style.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from convkit.lessons.adversarial import Flip
from convkit.viz.style import course_subplots, finish, set_title

__all__ = ["plot_flip"]


def plot_flip(x: np.ndarray, flip: Flip, axes: Sequence[Axes] | None = None) -> Figure:
    """Three panels: the image with its prediction, the perturbation, the adversarial image.

    x: the original image (C, H, W) in [0, 1], the same shape as ``flip.x_adv``; its
    first channel is drawn. The perturbation ``flip.x_adv - x`` is blue where a pixel
    got darker, red where it got brighter, full colour at ±epsilon. axes: three axes
    to draw into; a new figure (closed in pyplot) is made when None -> the figure.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.shape != flip.x_adv.shape:
        raise ValueError(f"plot_flip: x has shape {x.shape}, flip.x_adv {flip.x_adv.shape}")
    if axes is None:
        fig, axes = course_subplots(1, 3, figsize=(9, 3.3))
        owned = True
    else:
        fig, owned = axes[0].figure, False
    delta = flip.x_adv - x
    scale = flip.epsilon if flip.epsilon > 0 else 1.0
    adversarial = f"adversarial: {flip.new_label} ({flip.new_confidence:.0%})"
    panels = [
        (x[0], "gray", 0, 1, f"original: {flip.label} ({flip.confidence:.0%})"),
        (delta[0], "RdBu_r", -scale, scale, f"perturbation (±{flip.epsilon:g})"),
        (flip.x_adv[0], "gray", 0, 1, adversarial),
    ]
    for ax, (image, cmap, vmin, vmax, title) in zip(axes, panels, strict=True):
        ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        set_title(ax, title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.spines[:].set_visible(True)  # a frame around each panel: white pixels stay inside
    fig.tight_layout()
    return finish(fig, owned)
