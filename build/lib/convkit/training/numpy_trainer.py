"""Training a :class:`convkit.nn.numpy_net.NumpyNet` in pure numpy (chapter 7).

:func:`fit_numpy` draws the same batches as :func:`convkit.training.fit`, so both
trainers follow the same mathematics. Training runs in float32 and splits each
batch between the cores (:class:`ShardedStep`).
"""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from convkit._env import default_threads
from convkit.data import Digits
from convkit.nn.numpy_net import Adam, NumpyNet
from convkit.training.history import History
from convkit.training.progress import progress_bar

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
        """x (B, C, H, W), y (B,) -> (summed loss, correct predictions, mean-loss gradients)."""
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

    ``model`` is a :class:`NumpyNet` (trained in place) or a torch ``nn.Sequential``
    such as :func:`convkit.nn.models.digit_cnn` (its weights are copied into a float32
    NumpyNet, trained, and copied back at the end, so torch tools can inspect it).
    The batches are those of ``fit`` with the same seed: each epoch a fresh random
    order (drawn, as ``fit`` draws it, from a torch generator seeded with ``seed``), the
    last batch possibly smaller; with ``augment_shift > 0`` a newly shifted copy of the
    training images per epoch (:func:`convkit.training.shift_images`, numpy generator
    seeded with ``seed``). ``threads``: cores to use (the batch is split between them;
    default :func:`convkit.training.default_threads`);
    ``time_budget``: stop after the epoch that crosses this many training seconds.

    Returns a :class:`convkit.training.history.History` (mean loss, training accuracy on the
    batches as trained, test accuracy, cumulative training seconds per epoch).
    """
    import torch
    from threadpoolctl import threadpool_limits
    from torch import nn

    from convkit.training.torch_trainer import (
        _check_data,
        _int_at_least,
        _positive_float,
        shift_images,
    )

    func = "fit_numpy"
    if isinstance(model, nn.Module):
        net, torch_model = NumpyNet.from_torch(model), model
    elif isinstance(model, NumpyNet):
        net, torch_model = model, None
    else:
        raise TypeError(
            f"{func}: model must be a NumpyNet or a torch nn.Sequential, got {type(model).__name__}"
        )
    data = _check_data(data)
    epochs = _int_at_least(func, "epochs", epochs, 1)
    batch_size = _int_at_least(func, "batch_size", batch_size, 1)
    lr = _positive_float(func, "lr", lr)
    augment_shift = _int_at_least(func, "augment_shift", augment_shift, 0)
    seed = _int_at_least(func, "seed", seed, 0)
    threads = _int_at_least(func, "threads", default_threads() if threads is None else threads, 1)
    if time_budget is not None:
        time_budget = _positive_float(func, "time_budget", time_budget)
    if augment_shift >= min(data.x_train.shape[2:]):
        raise ValueError(f"{func}: augment_shift must be smaller than the image size")

    x_train = np.ascontiguousarray(data.x_train, dtype=net.dtype)
    y_train = np.asarray(data.y_train)
    n = len(x_train)
    history = History()
    rng = np.random.default_rng(seed)
    order_gen = torch.Generator().manual_seed(seed)
    optimizer = Adam(net.parameters(), lr=lr)
    step = ShardedStep(net, threads)
    bar = progress_bar(epochs, "training (numpy)", "epoch", enabled=progress)
    elapsed = 0.0
    try:
        # one BLAS thread per shard: the shards themselves keep the cores busy
        with threadpool_limits(limits=1 if threads > 1 else threads):
            for _ in range(epochs):
                start = time.perf_counter()
                images = shift_images(x_train, augment_shift, rng) if augment_shift else x_train
                order = torch.randperm(n, generator=order_gen).numpy()
                total_loss, correct = 0.0, 0
                for first in range(0, n, batch_size):
                    idx = order[first : first + batch_size]
                    loss, right, grads = step(images[idx], y_train[idx])
                    optimizer.step(grads)
                    total_loss += loss
                    correct += right
                elapsed += time.perf_counter() - start
                if not np.isfinite(total_loss):
                    raise FloatingPointError(
                        f"{func}: the training loss became {total_loss} in epoch "
                        f"{history.epochs + 1}; try a smaller lr (now {lr})"
                    )
                test_acc = net.accuracy(data.x_test, data.y_test)
                history.record(total_loss / n, correct / n, test_acc, elapsed)
                bar.set_postfix(
                    loss=f"{total_loss / n:.3f}", test_acc=f"{test_acc:.3f}", s=f"{elapsed:.1f}"
                )
                bar.update(1)
                if time_budget is not None and elapsed >= time_budget:
                    break
    finally:
        bar.close()
        step.close()
        if torch_model is not None:
            net.to_torch(torch_model)
    return history
