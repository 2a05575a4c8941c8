"""Training: the torch trainer (``fit``), the numpy trainer (``fit_numpy``), the epoch loop
they share (``loop.run_epochs``, checked arguments from ``arguments``), the augmentation
(``shift_images``), the per-epoch history and the progress bar."""

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
