"""Training: the torch trainer (``fit``), the numpy trainer (``fit_numpy``), the epoch loop
they share (``loop.run_epochs``, checked arguments from ``arguments``), the augmentation
(``shift_images``; ``random_crop``, ``horizontal_flip``, ``colour_jitter`` and ``cutout`` in
``augment``, with ``apply_colour_jitter`` and ``apply_cutout`` for given parameters), the
per-epoch history and the progress bar; learning-rate ``schedules`` and one-step numpy optimizers
with weight decay as L2 or decoupled (``optim_steps``)."""

from convkit._env import default_threads
from convkit.training.augment import shift_images
from convkit.training.numpy_trainer import fit_numpy
from convkit.training.torch_trainer import (
    RECIPES,
    evaluate,
    fit,
    predict,
    seed_everything,
)

__all__ = [
    "RECIPES",
    "default_threads",
    "evaluate",
    "fit",
    "fit_numpy",
    "predict",
    "seed_everything",
    "shift_images",
]
