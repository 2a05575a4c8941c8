"""Training a :class:`convkit.nn.numpy_net.NumpyNet` in pure numpy (chapter 7).

:func:`fit_numpy` runs the epoch loop of :func:`convkit.training.fit`
(:func:`convkit.training.loop.run_epochs`), so both trainers see the same batches
and follow the same mathematics. Training runs in float32 and splits each batch
between the cores (:class:`ShardedStep`).
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from torch import nn

from convkit.data import Digits
from convkit.nn.numpy_net import Adam, NumpyNet
from convkit.training.arguments import check_fit_arguments
from convkit.training.history import History
from convkit.training.loop import run_epochs

__all__ = ["ShardedStep", "fit_numpy"]


class ShardedStep:
    """One training step's gradients, computed on ``workers`` slices of the batch at once.

    numpy runs one operation on one core, except matrix products; splitting the
    batch into equal parts that go through the network in parallel threads (numpy
    releases the GIL inside its loops) uses every core for everything. The summed
    shard gradients equal the whole batch's gradient (each shard divides its loss
    by the whole batch's size).
    """

    def __init__(self, net: NumpyNet, workers: int) -> None:
        self.net, self.workers = net, workers
        self._pool = ThreadPoolExecutor(workers) if workers > 1 else None

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int, list[np.ndarray]]:
        """x (B, C, H, W), y (B,) -> (summed loss, correct predictions, mean-loss gradients).

        The gradients are one array per parameter, shaped like it.
        """
        n = len(x)
        parts = min(self.workers, max(1, n // 8))  # tiny batches: not worth a thread
        if self._pool is None or parts == 1:
            return self.net.loss_and_gradients(x, y)
        bounds = np.linspace(0, n, parts + 1).astype(int)
        jobs = [
            self._pool.submit(self.net.loss_and_gradients, x[a:b], y[a:b], n)
            for a, b in itertools.pairwise(bounds)
        ]
        results = [job.result() for job in jobs]
        loss = sum(r[0] for r in results)
        correct = sum(r[1] for r in results)
        grads = results[0][2]
        for other in results[1:]:
            for g, h in zip(grads, other[2], strict=True):
                g += h
        return loss, correct, grads

    def close(self) -> None:
        """Stop the worker threads."""
        if self._pool is not None:
            self._pool.shutdown()


def fit_numpy(
    model: object,
    data: Digits,
    *,
    epochs: int = 8,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    progress: bool = True,
    augment_shift: int = 0,
    threads: int | None = None,
    time_budget: float | None = None,
) -> History:
    """Train in pure numpy with Adam and cross-entropy, the recipe of :func:`convkit.training.fit`.

    data: x_train (N, C, H, W) float, y_train (N,) int, x_test (M, C, H, W), y_test (M,);
    model: (B, C, H, W) -> (B, K) logits, a :class:`NumpyNet` (trained in place) or a
    torch ``nn.Sequential`` such as :func:`convkit.nn.models.digit_cnn` (its weights are
    copied into a float32 NumpyNet, trained, and copied back at the end, so torch
    tools can inspect it).

    The epochs are those of ``fit`` (:func:`convkit.training.loop.run_epochs`): with
    the same seed the same batches in the same order and, with ``augment_shift > 0``,
    the same shifted copies of the training images. ``threads``: cores to use (the
    batch is split between them, :class:`ShardedStep`; default
    :func:`convkit.training.default_threads`); ``time_budget``: stop after the epoch
    that crosses this many training seconds; the other arguments as in ``fit``.

    Returns a :class:`convkit.training.history.History` (mean loss, training accuracy on the
    batches as trained, test accuracy, cumulative training seconds per epoch).
    """
    from threadpoolctl import threadpool_limits

    func = "fit_numpy"
    if isinstance(model, nn.Module):
        net, torch_model = NumpyNet.from_torch(model), model
    elif isinstance(model, NumpyNet):
        net, torch_model = model, None
    else:
        raise TypeError(
            f"{func}: model must be a NumpyNet or a torch nn.Sequential, got {type(model).__name__}"
        )
    args = check_fit_arguments(
        func, data, epochs=epochs, batch_size=batch_size, lr=lr, augment_shift=augment_shift,
        seed=seed, threads=threads, time_budget=time_budget,
    )  # fmt: skip

    optimizer = Adam(net.parameters(), lr=args.lr)
    sharded = ShardedStep(net, args.threads)

    def train_step(x_batch: np.ndarray, y_batch: np.ndarray) -> tuple[float, int]:
        loss, correct, grads = sharded(x_batch, y_batch)
        optimizer.step(grads)
        return loss, correct

    def test_accuracy() -> float:
        return net.accuracy(args.data.x_test, args.data.y_test)

    x_train = np.ascontiguousarray(args.data.x_train, dtype=net.dtype)
    try:
        # one BLAS thread per shard: the shards themselves keep the cores busy
        with threadpool_limits(limits=1 if args.threads > 1 else args.threads):
            return run_epochs(
                args, x_train, train_step, test_accuracy, desc="training (numpy)",
                progress=progress,
            )  # fmt: skip
    finally:
        sharded.close()
        if torch_model is not None:
            net.to_torch(torch_model)
