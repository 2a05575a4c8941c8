"""The adversarial examples of chapter 9, in the course style.

- :func:`plot_flip` draws a :class:`convkit.lessons.adversarial.Flip` (from
  :func:`convkit.lessons.adversarial.find_flip`) as three panels: the image, its FGSM
  perturbation, the flipped image.
- :func:`plot_pairs` puts perturbed images under their originals, on the same grey
  scale, so the reader can judge the change with their own eyes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from convkit.lessons.adversarial import Flip
from convkit.viz.style import course_subplots, finish, set_title

__all__ = ["plot_flip", "plot_pairs"]


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


def plot_pairs(x: np.ndarray, x_adv: np.ndarray, top: Sequence[str],
               bottom: Sequence[str], size: float = 1.6) -> Figure:
    """Originals above, perturbed images below, all on the grey scale [0, 1].

    x, x_adv: (N, C, H, W) in [0, 1] (channel 0 is drawn), N >= 1; top, bottom: one
    title per column for the original and for the perturbed image. size: inches per
    panel -> the figure (closed in pyplot).
    """
    x = np.asarray(x, dtype=np.float32)
    x_adv = np.asarray(x_adv, dtype=np.float32)
    if x.ndim != 4 or x.shape != x_adv.shape or len(x) == 0:
        raise ValueError(f"plot_pairs: x and x_adv must both be (N, C, H, W) with N >= 1, "
                         f"got {x.shape} and {x_adv.shape}")
    if len(top) != len(x) or len(bottom) != len(x):
        raise ValueError(f"plot_pairs: {len(x)} columns need {len(x)} titles per row, got "
                         f"{len(top)} and {len(bottom)}")
    fig, axes = course_subplots(2, len(x), figsize=(size * len(x), 2 * size + 0.4),
                                squeeze=False)
    for col in range(len(x)):
        for row, (image, title) in enumerate(((x[col], top[col]), (x_adv[col], bottom[col]))):
            ax = axes[row, col]
            ax.imshow(image[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    return finish(fig)
