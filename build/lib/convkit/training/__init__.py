"""Training: the torch trainer (``fit``), the numpy trainer (``fit_numpy``), augmentation,
the per-epoch history and the progress bar."""

from convkit._env import default_threads
from convkit.training.numpy_trainer import fit_numpy
from convkit.training.torch_trainer import (
    RECIPES,
    evaluate,
    fit,
    predict,
    seed_everything,
    shift_images,
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
