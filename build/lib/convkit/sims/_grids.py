"""The grids a simulation shows: sizes that stay readable, kernel dictionaries, JSON numbers.

Generic argument checks (ints, finite float arrays, ...) live in :mod:`convkit._checks`;
this module holds only what is about the simulations' pages. Every message starts with
the simulation's public class name (``func``), as in the rest of convkit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from convkit._checks import finite_floats


def check_readable(func: str, name: str, array: np.ndarray, max_side: int) -> None:
    """ValueError unless every axis of ``array`` has at most ``max_side`` entries.

    array: (L,) or (H, W); the page draws one cell per entry, so larger stays unreadable.
    """
    if max(array.shape) > max_side:
        limit = f"{max_side} long" if array.ndim == 1 else "x".join([str(max_side)] * array.ndim)
        raise ValueError(
            f"{func}: {name} must be at most {limit} to stay readable, got shape {array.shape}"
        )


def check_fits(func: str, name: str, kernel: np.ndarray, image_shape: tuple[int, ...]) -> None:
    """ValueError unless ``kernel`` (kh, kw) fits inside an image of ``image_shape`` (H, W)."""
    if kernel.shape[0] > image_shape[0] or kernel.shape[1] > image_shape[1]:
        raise ValueError(
            f"{func}: {name} {kernel.shape} does not fit inside the image {tuple(image_shape)}"
        )


def as_json_numbers(array: np.ndarray) -> list:
    """Nested lists of Python numbers (ints where integral: the page shows `3`, not `3.0`).

    array: (L,) -> [L numbers]; (H, W) -> H lists of W numbers.
    """

    def convert(v: float) -> int | float:
        return int(v) if float(v).is_integer() else float(v)

    if array.ndim == 1:
        return [convert(v) for v in array]
    return [as_json_numbers(row) for row in array]


def image_and_kernel(
    func: str, image: object, kernel: object, max_side: int
) -> tuple[np.ndarray, np.ndarray]:
    """A simulation's image and kernel, checked: finite numbers, the kernel fits inside
    the image, and the image is at most ``max_side`` per side (TypeError / ValueError).

    image: (H, W), kernel: (kh, kw) -> ((H, W), (kh, kw)) float64.
    """
    img = finite_floats(func, "image", image, 2)
    ker = finite_floats(func, "kernel", kernel, 2)
    check_fits(func, "kernel", ker, img.shape)
    check_readable(func, "image", img, max_side)
    return img, ker


def named_kernels(
    func: str, kernels: object, image_shape: tuple[int, ...], max_side: int
) -> dict[str, list]:
    """label -> kernel as JSON numbers, for a simulation's kernel buttons.

    kernels: a non-empty mapping of non-empty string labels to (kh, kw) kernels, each
    finite, at most ``max_side`` per side and fitting inside an image of ``image_shape``
    (H, W) (TypeError / ValueError) -> label -> kh lists of kw numbers, in the same order.
    """
    if not isinstance(kernels, Mapping) or not kernels:
        raise TypeError(f"{func}: kernels must be a non-empty mapping label -> 2-D kernel")
    checked = {}
    for label, values in kernels.items():
        if not isinstance(label, str) or not label.strip():
            raise TypeError(f"{func}: kernel labels must be non-empty strings, got {label!r}")
        name = f"kernels[{label!r}]"
        ker = finite_floats(func, name, values, 2)
        check_readable(func, name, ker, max_side)
        check_fits(func, name, ker, image_shape)
        checked[label] = as_json_numbers(ker)
    return checked
