"""Argument checks shared by the simulations (clear errors for bad input)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np


def int_at_least(name: str, value: object, low: int) -> int:
    """``value`` as an int >= ``low``: TypeError for non-integers (bools too), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return int(value)


def finite_floats(name: str, values: object, ndim: int) -> np.ndarray:
    """``values`` as a float64 array with ``ndim`` dimensions, non-empty and finite."""
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        kind = type(values).__name__
        raise TypeError(f"{name} must be a {ndim}-D sequence of numbers, got {kind}")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must hold numbers only ({err})") from None
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not all(math.isfinite(v) for v in array.ravel()):
        raise ValueError(f"{name} must hold finite numbers only")
    return array


def as_json_numbers(array: np.ndarray) -> list:
    """Nested lists of Python numbers (ints where integral: the page shows `3`, not `3.0`)."""

    def convert(v: float) -> int | float:
        return int(v) if float(v).is_integer() else float(v)

    if array.ndim == 1:
        return [convert(v) for v in array]
    return [as_json_numbers(row) for row in array]


def image_and_kernel(
    image: object, kernel: object, max_side: int
) -> tuple[np.ndarray, np.ndarray]:
    """A simulation's 2-D image and kernel as float arrays, checked: finite numbers, the
    kernel fits inside the image, and the image is at most ``max_side`` per side."""
    img = finite_floats("image", image, 2)
    ker = finite_floats("kernel", kernel, 2)
    if ker.shape[0] > img.shape[0] or ker.shape[1] > img.shape[1]:
        raise ValueError(f"kernel {ker.shape} does not fit inside the image {img.shape}")
    if max(img.shape) > max_side:
        raise ValueError(f"image: at most {max_side}x{max_side} stays readable, got {img.shape}")
    return img, ker


def named_kernels(kernels: object, image_shape: tuple[int, ...], max_side: int) -> dict[str, list]:
    """label -> kernel as JSON numbers, for a simulation's kernel buttons: a non-empty
    mapping of non-empty string labels to finite 2-D kernels, each at most ``max_side``
    per side and fitting inside an image of ``image_shape`` (TypeError / ValueError)."""
    if not isinstance(kernels, Mapping) or not kernels:
        raise TypeError("kernels must be a non-empty mapping label -> 2-D kernel")
    checked = {}
    for label, values in kernels.items():
        if not isinstance(label, str) or not label.strip():
            raise TypeError(f"kernel labels must be non-empty strings, got {label!r}")
        ker = finite_floats(f"kernels[{label!r}]", values, 2)
        if max(ker.shape) > max_side:
            raise ValueError(f"kernels[{label!r}]: at most {max_side}x{max_side}, got {ker.shape}")
        if ker.shape[0] > image_shape[0] or ker.shape[1] > image_shape[1]:
            raise ValueError(f"kernels[{label!r}] {ker.shape} does not fit inside the image "
                             f"{tuple(image_shape)}")
        checked[label] = as_json_numbers(ker)
    return checked
