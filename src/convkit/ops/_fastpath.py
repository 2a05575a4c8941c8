"""The fast paths' plumbing, private to :mod:`convkit.ops` (only ``ops`` modules import it).

- :class:`BufferPool` and its one instance :data:`BUFFERS`: the work arrays of
  :func:`~convkit.ops.conv2d.conv2d`, :func:`~convkit.ops.conv_backward.conv2d_backward`
  and the training path's convolution (:mod:`~convkit.ops.conv_cached`) are taken from
  it and given back, instead of fresh memory on every call.
- :func:`slice_size`, :func:`batch_slices`: the batch cut into slices whose columns
  fit in the CPU cache; each fast path takes its work arrays once, sized for one
  slice, and reuses them for every slice.
- :func:`padding_buffer`, :func:`pad_chunk`: each slice zero-padded into one pooled array.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np
from numpy.typing import DTypeLike

from convkit.ops.padding import pad_hw

__all__ = [
    "BUFFERS",
    "CACHE_BYTES",
    "BufferPool",
    "batch_slices",
    "pad_chunk",
    "padding_buffer",
    "slice_size",
]


class BufferPool:
    """Work arrays handed out and taken back, so the fast paths do not ask the operating
    system for fresh megabytes on every call (the page faults of touching new memory can
    cost more than the arithmetic done in it).

    ``take(shape, dtype)`` returns an array nobody else holds, contents undefined (a kept
    spare of exactly that shape and dtype, or a new one); ``give(array)`` hands it back
    once its contents are no longer needed. An array never given back is simply garbage
    collected, so forgetting ``give`` costs speed, not safety; giving back an array that
    did not come from ``take``, or one still in use, is a bug. Thread-safe. At most
    ``per_shape`` spares are kept for each shape and dtype, none larger than
    ``max_bytes``, and at most ``max_total_bytes`` in all (the least recently given back
    are dropped first).
    """

    def __init__(
        self, per_shape: int = 4, max_bytes: int = 1 << 27, max_total_bytes: int = 1 << 28
    ) -> None:
        self.per_shape = per_shape
        self.max_bytes = max_bytes
        self.max_total_bytes = max_total_bytes
        # (shape, dtype) -> spares, oldest first; the shape given back most recently last
        self._spares: OrderedDict[tuple[tuple[int, ...], np.dtype], list[np.ndarray]]
        self._spares = OrderedDict()
        self._spare_bytes = 0
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
        """An array of this shape and dtype with undefined contents."""
        key = (tuple(shape), np.dtype(dtype))
        with self._lock:
            spares = self._spares.get(key)
            if spares:
                array = spares.pop()
                if not spares:
                    del self._spares[key]
                self._spare_bytes -= array.nbytes
                return array
        return np.empty(key[0], dtype=key[1])

    def give(self, *arrays: np.ndarray | None) -> None:
        """Hand ``arrays`` (from :meth:`take`) back for reuse; None is ignored."""
        for array in arrays:
            if array is not None and array.nbytes <= self.max_bytes:
                self._keep(array)

    def _keep(self, array: np.ndarray) -> None:
        key = (array.shape, array.dtype)
        with self._lock:
            spares = self._spares.setdefault(key, [])
            if len(spares) >= self.per_shape:
                return
            spares.append(array)
            self._spares.move_to_end(key)
            self._spare_bytes += array.nbytes
            while self._spare_bytes > self.max_total_bytes:
                self._drop_oldest()

    def _drop_oldest(self) -> None:
        """Forget the oldest spare of the least recently given-back shape (lock held)."""
        key, spares = next(iter(self._spares.items()))
        self._spare_bytes -= spares.pop(0).nbytes
        if not spares:
            del self._spares[key]


#: The pool of every fast path in :mod:`convkit.ops`.
BUFFERS = BufferPool()

# Columns are built for at most this many bytes of the batch at a time (about the
# size of a CPU's L2 cache; at least one sample).
CACHE_BYTES = 1 << 21


def slice_size(batch: int, bytes_per_sample: int) -> int:
    """How many samples go into one batch slice: as many as keep their columns within
    ``CACHE_BYTES`` (the columns are kh*kw times larger than the input), so that they
    stay in the CPU cache; at least one, at most ``batch``."""
    return max(1, min(batch, CACHE_BYTES // max(bytes_per_sample, 1)))


def batch_slices(batch: int, size: int) -> Iterator[slice]:
    """Consecutive slices of ``size`` samples (the last may be shorter) covering 0..batch-1."""
    for start in range(0, batch, size):
        yield slice(start, min(start + size, batch))


def padding_buffer(
    x: np.ndarray, pads: tuple[tuple[int, int], ...], size: int
) -> np.ndarray | None:
    """An array of :data:`BUFFERS` that slices of ``x`` are zero-padded into, or None when
    they can be unfolded as they are (no padding, and rows contiguous in memory).

    x: (N, C, H, W), pads ((top, bottom), (left, right)) -> (size, C, top + H + bottom,
    left + W + right) or None. Give it back to :data:`BUFFERS` after the last slice.
    """
    (top, bottom), (left, right) = pads
    _, c, h, w = x.shape
    contiguous_rows = x.strides[3] == x.itemsize and (h == 1 or x.strides[2] == w * x.itemsize)
    if top == bottom == left == right == 0 and contiguous_rows:
        return None
    return BUFFERS.take((size, c, top + h + bottom, left + w + right), x.dtype)


def pad_chunk(
    chunk: np.ndarray, pads: tuple[tuple[int, int], ...], buffer: np.ndarray | None
) -> np.ndarray:
    """A slice of the batch, zero-padded into the first samples of ``buffer`` (from
    :func:`padding_buffer`), or ``chunk`` itself when ``buffer`` is None.

    chunk: (n, C, H, W) -> (n, C, top + H + bottom, left + W + right).
    """
    if buffer is None:
        return chunk
    (top, bottom), (left, right) = pads
    return pad_hw(chunk, top, bottom, left, right, out=buffer[: chunk.shape[0]])
