"""Training a ConvNet in pure numpy: every forward and backward pass written out.

:class:`NumpyNet` mirrors a ``torch.nn.Sequential`` built from ``Conv2d``, ``ReLU``,
``MaxPool2d``, ``Flatten`` and ``Linear`` (such as :func:`convkit.nn.models.digit_cnn`)
layer by layer. Each layer's ``forward`` returns its output and a cache of what
its backward pass needs; ``backward`` turns the gradient of the loss with respect
to the layer's output into the gradient with respect to its input and parameters:

- convolution: im2col + one matrix product forward; backward dW = dout @ columns.T,
  db = sum(dout), dx = col2im(W.T @ dout). The training path
  (:mod:`convkit.ops.conv_cached`) unfolds each input once and reuses the columns in
  the backward pass; ``fast=False`` calls the reference :func:`convkit.conv2d` and
  :func:`convkit.conv2d_backward` instead (same numbers, slower);
- max pooling: the gradient of each window goes to its (first) maximum;
- ReLU: the gradient passes where the input was positive;
- linear: ``y = x @ W.T + b``, so ``dW = g.T @ x``, ``db = sum(g)``, ``dx = g @ W``.

The loss is softmax cross-entropy and the optimiser replicates ``torch.optim.Adam``
step for step (the tests check one step against torch to float64 precision).
:func:`convkit.training.fit_numpy` trains a :class:`NumpyNet`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import DTypeLike

from convkit.ops.conv2d import conv2d
from convkit.ops.conv_backward import conv2d_backward
from convkit.ops.conv_cached import conv2d_backward_cached, conv2d_forward_cached
from convkit.ops.pooling import max_pool2d, max_pool2d_backward

__all__ = [
    "Adam",
    "Conv2dLayer",
    "FlattenLayer",
    "LinearLayer",
    "MaxPool2dLayer",
    "NumpyNet",
    "ReLULayer",
    "softmax_cross_entropy",
]


# ----------------------------------------------------------------------------- layers


class Layer:
    """A layer of a :class:`NumpyNet`. Layers hold parameters but no per-batch state:

    ``forward(x) -> (out, cache)`` and ``backward(grad_out, cache, need_input_grad)
    -> (grad_x or None, [grad of each parameter])``, so two halves of a batch can go
    through the same layer at the same time. ``params`` uses torch's order and names
    (``param_names``).
    """

    kind = "Layer"
    param_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []

    def forward(self, x: np.ndarray, keep: bool = True) -> tuple[np.ndarray, object]:
        """x -> (out, cache); ``keep=False``: inference, the cache may be None."""
        raise NotImplementedError  # pragma: no cover

    def backward(
        self, grad_out: np.ndarray, cache: object, need_input_grad: bool = True
    ) -> tuple[np.ndarray | None, list[np.ndarray]]:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        shapes = ", ".join(
            f"{n}={p.shape}" for n, p in zip(self.param_names, self.params, strict=True)
        )
        return f"{self.kind}({shapes})"


class Conv2dLayer(Layer):
    """Convolution: x (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_out, C_in, kh, kw).

    ``fast=True`` (the default) keeps the forward pass's im2col columns for the
    backward pass (:mod:`convkit.ops.conv_cached`); ``fast=False`` calls the reference
    :func:`convkit.conv2d` and :func:`convkit.conv2d_backward` (two unfoldings).
    """

    kind = "Conv2d"
    param_names = ("weight", "bias")

    def __init__(
        self,
        weight: np.ndarray,
        bias: np.ndarray,
        stride: tuple[int, int] = (1, 1),
        padding: tuple[int, int] = (0, 0),
        *,
        fast: bool = True,
    ) -> None:
        super().__init__()
        self.params = [weight, bias]
        self.stride, self.padding, self.fast = tuple(stride), tuple(padding), fast

    def forward(self, x: np.ndarray, keep: bool = True) -> tuple[np.ndarray, object]:
        weight, bias = self.params
        if self.fast and keep:
            return conv2d_forward_cached(x, weight, bias, self.stride, self.padding)
        # the reference conv2d (cache-sized chunks) when nothing is kept for a backward pass
        return conv2d(x, weight, bias, self.stride, self.padding), (x if keep else None)

    def backward(
        self, grad_out: np.ndarray, cache: object, need_input_grad: bool = True
    ) -> tuple[np.ndarray | None, list[np.ndarray]]:
        weight = self.params[0]
        if self.fast:
            grad_x, grad_w, grad_b = conv2d_backward_cached(
                grad_out, cache, weight, need_input_grad=need_input_grad
            )
        else:
            grad_x, grad_w, grad_b = conv2d_backward(
                grad_out, cache, weight, self.stride, self.padding
            )
        return grad_x, [grad_w, grad_b]


class ReLULayer(Layer):
    """max(0, x), elementwise; the gradient passes where x > 0 (torch's convention at 0)."""

    kind = "ReLU"

    def forward(self, x: np.ndarray, keep: bool = True) -> tuple[np.ndarray, object]:
        out = np.maximum(x, 0)
        return out, out  # out > 0 exactly where x > 0

    def backward(
        self, grad_out: np.ndarray, cache: object, need_input_grad: bool = True
    ) -> tuple[np.ndarray | None, list[np.ndarray]]:
        return np.multiply(grad_out, cache > 0, dtype=grad_out.dtype), []


class MaxPool2dLayer(Layer):
    """Max pooling: x (N, C, H, W) -> (N, C, H_out, W_out); the gradient of each window
    goes to its first maximum in row-major order (as torch does).

    Without padding the maximum is separable: first over the kw columns of each window
    row (for every input row), then over the kh rows; each step remembers which
    column / row won (the first one on ties, so the winner is the row-major first
    maximum). Each step is a few whole-array operations on strided slices, which keep
    x's memory layout. With padding it calls :func:`convkit.max_pool2d` and
    :func:`convkit.max_pool2d_backward`.
    """

    kind = "MaxPool2d"

    def __init__(
        self,
        kernel_size: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int] = (0, 0),
    ) -> None:
        super().__init__()
        self.kernel_size = tuple(kernel_size)
        self.stride = tuple(stride)
        self.padding = tuple(padding)

    def _out_size(self, shape: tuple[int, ...]) -> tuple[int, int]:
        (kh, kw), (sh, sw), (h, w) = self.kernel_size, self.stride, shape[2:]
        if h < kh or w < kw:
            raise ValueError(f"MaxPool2d: window {self.kernel_size} larger than the input {shape}")
        return (h - kh) // sh + 1, (w - kw) // sw + 1

    def forward(self, x: np.ndarray, keep: bool = True) -> tuple[np.ndarray, object]:
        if self.padding != (0, 0):
            return max_pool2d(x, self.kernel_size, self.stride, self.padding), x
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        out_h, out_w = self._out_size(x.shape)
        # 1) every input row: the maximum over each window's kw columns -> (N, C, H, W_out)
        by_cols, col_arg = _running_max(
            [x[..., k : k + sw * (out_w - 1) + 1 : sw] for k in range(kw)]
        )
        # 2) every window: the maximum of its kh row maxima -> (N, C, H_out, W_out)
        rows = [by_cols[:, :, m : m + sh * (out_h - 1) + 1 : sh] for m in range(kh)]
        out, row_arg = _running_max(rows)
        return out, (x.shape, x.strides, by_cols.strides, col_arg, row_arg)

    def backward(
        self, grad_out: np.ndarray, cache: object, need_input_grad: bool = True
    ) -> tuple[np.ndarray | None, list[np.ndarray]]:
        if self.padding != (0, 0):
            grad = max_pool2d_backward(grad_out, cache, self.kernel_size, self.stride, self.padding)
            return grad, []
        shape, x_strides, col_strides, col_arg, row_arg = cache
        (kh, kw), (sh, sw), (h, w) = self.kernel_size, self.stride, shape[2:]
        out_h, out_w = grad_out.shape[2:]
        # 2) back through the rows: each window's gradient to its winning row
        cover_rows = sh == kh and h == kh * out_h
        grad_cols = _array_like((*shape[:3], out_w), col_strides, grad_out.dtype, not cover_rows)
        for m in range(kh):
            target = grad_cols[:, :, m : m + sh * (out_h - 1) + 1 : sh]
            _route(grad_out, row_arg, m, target, accumulate=not cover_rows)
        # 1) back through the columns: each row maximum's gradient to its winning column
        cover_cols = sw == kw and w == kw * out_w
        grad_x = _array_like(shape, x_strides, grad_out.dtype, not cover_cols)
        for k in range(kw):
            target = grad_x[..., k : k + sw * (out_w - 1) + 1 : sw]
            _route(grad_cols, col_arg, k, target, accumulate=not cover_cols)
        return grad_x, []


def _running_max(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise maximum of equally shaped arrays and the index of the first array
    holding it (uint8; a later array wins only when strictly larger)."""
    if len(parts) == 1:
        return parts[0].copy(order="K"), np.zeros(parts[0].shape, dtype=np.uint8)
    arg = np.greater(parts[1], parts[0]).view(np.uint8)  # 0 or 1
    best = np.maximum(parts[0], parts[1])
    for index, part in enumerate(parts[2:], start=2):
        np.copyto(arg, index, where=part > best)
        np.maximum(best, part, out=best)
    return best, arg


def _route(
    grad: np.ndarray, arg: np.ndarray, index: int, target: np.ndarray, *, accumulate: bool
) -> None:
    """target (+)= grad where arg == index, else 0 (the backward pass of a max)."""
    if accumulate:
        target += grad * (arg == index)
    else:
        np.multiply(grad, arg == index, out=target)


def _array_like(
    shape: tuple[int, ...], strides: tuple[int, ...], dtype: DTypeLike, zero: bool
) -> np.ndarray:
    """A new array of ``shape`` whose axes are ordered in memory like ``strides``
    (zeros, or uninitialised when every element will be written)."""
    order = sorted(range(len(shape)), key=lambda axis: -strides[axis])
    base = (np.zeros if zero else np.empty)([shape[a] for a in order], dtype=dtype)
    return base.transpose(np.argsort(order))


class FlattenLayer(Layer):
    """(N, C, H, W) -> (N, C*H*W) (torch's ``Flatten`` with start_dim 1).

    The backward pass hands the gradient back in the input's memory layout, so the
    layers below work on arrays laid out alike.
    """

    kind = "Flatten"

    def forward(self, x: np.ndarray, keep: bool = True) -> tuple[np.ndarray, object]:
        return x.reshape(x.shape[0], -1), (x.shape, x.strides)

    def backward(
        self, grad_out: np.ndarray, cache: object, need_input_grad: bool = True
    ) -> tuple[np.ndarray | None, list[np.ndarray]]:
        shape, strides = cache
        grad_x = _array_like(shape, strides, grad_out.dtype, zero=False)
        grad_x[...] = grad_out.reshape(shape)
        return grad_x, []


class LinearLayer(Layer):
    """y = x @ W.T + b: x (N, in) -> (N, out); weight (out, in), bias (out,)."""

    kind = "Linear"
    param_names = ("weight", "bias")

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        super().__init__()
        self.params = [weight, bias]

    def forward(self, x: np.ndarray, keep: bool = True) -> tuple[np.ndarray, object]:
        weight, bias = self.params
        out = x @ weight.T
        out += bias
        return out, x

    def backward(
        self, grad_out: np.ndarray, cache: object, need_input_grad: bool = True
    ) -> tuple[np.ndarray | None, list[np.ndarray]]:
        weight = self.params[0]
        grads = [grad_out.T @ cache, grad_out.sum(axis=0)]
        return (grad_out @ weight if need_input_grad else None), grads


# ------------------------------------------------------------------------------- loss


def softmax_cross_entropy(
    logits: np.ndarray, labels: np.ndarray, divisor: int | None = None
) -> tuple[float, np.ndarray]:
    """Summed cross-entropy of softmax(logits) and the gradient of the mean loss.

    logits: (N, K), labels: int (N,) in 0..K-1 -> (loss_sum, grad (N, K)) with
    loss_sum = sum_n [logsumexp(logits[n]) - logits[n, labels[n]]] and
    grad = (softmax(logits) - one_hot(labels)) / divisor, the gradient of
    loss_sum / divisor (``divisor`` defaults to N: the mean loss of this batch; a
    shard of a larger batch passes the whole batch's size).
    """
    n = logits.shape[0]
    divisor = n if divisor is None else divisor
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss_sum = float(np.sum(np.log(total[:, 0]) - shifted[rows, labels], dtype=np.float64))
    grad = exp
    grad /= total
    grad[rows, labels] -= 1
    grad /= divisor
    return loss_sum, grad


# -------------------------------------------------------------------------- optimiser


@dataclass
class Adam:
    """``torch.optim.Adam`` (no weight decay, no amsgrad) in numpy, the same update:

    m = m + (1 - b1)(g - m);  v = b2 v + (1 - b2) g^2;
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    """

    params: Sequence[np.ndarray]
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    step_count: int = 0
    exp_avg: list[np.ndarray] = field(init=False)
    exp_avg_sq: list[np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.exp_avg = [np.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [np.zeros_like(p) for p in self.params]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Update every parameter in place from its gradient (same order as ``params``)."""
        beta1, beta2 = self.betas
        self.step_count += 1
        t = self.step_count
        step_size = self.lr / (1 - beta1**t)
        correction2_sqrt = math.sqrt(1 - beta2**t)
        for p, g, m, v in zip(self.params, grads, self.exp_avg, self.exp_avg_sq, strict=True):
            dtype = p.dtype.type
            m += dtype(1 - beta1) * (g - m)
            v *= dtype(beta2)
            v += dtype(1 - beta2) * (g * g)
            denom = np.sqrt(v)
            denom /= dtype(correction2_sqrt)
            denom += dtype(self.eps)
            p -= dtype(step_size) * (m / denom)


# ------------------------------------------------------------------------------ net

_TORCH_KINDS = ("Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear")


class NumpyNet:
    """A sequence of numpy layers with the structure and weights of a torch Sequential.

    x: (N, C, H, W) float -> logits (N, K). ``parameters()`` lists the arrays in
    torch's ``model.parameters()`` order.
    """

    def __init__(self, layers: Sequence[Layer], names: Sequence[str] | None = None) -> None:
        self.layers = list(layers)
        self.names = list(names) if names is not None else [str(i) for i in range(len(layers))]
        if not self.layers:
            raise ValueError("NumpyNet: at least one layer is needed")
        if len(self.names) != len(self.layers):
            raise ValueError("NumpyNet: one name per layer is needed")

    @classmethod
    def from_torch(
        cls, model: object, dtype: DTypeLike = np.float32, *, fast: bool = True
    ) -> NumpyNet:
        """Copy the structure and weights of ``model``, a ``torch.nn.Sequential`` of
        Conv2d / ReLU / MaxPool2d / Flatten / Linear layers (float32 copies by default;
        ``fast=False`` makes the convolutions call the reference conv2d / conv2d_backward).

        Conv2d must have groups 1, dilation 1, zero padding mode and a bias; MaxPool2d
        dilation 1 and no ceil mode; Flatten start_dim 1 and end_dim -1.
        """
        from torch import nn  # torch is needed only to read the model

        func = "NumpyNet.from_torch"
        if not isinstance(model, nn.Sequential):
            raise TypeError(f"{func}: expected a torch.nn.Sequential, got {type(model).__name__}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"{func}: dtype must be float32 or float64, got {dtype}")

        def copy(t: object) -> np.ndarray:
            return np.array(t.detach().cpu().numpy(), dtype=dtype, copy=True)

        def pair(v: int | tuple[int, ...]) -> tuple[int, int]:
            return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))

        layers: list[Layer] = []
        names: list[str] = []
        for name, m in model.named_children():
            where = f"{func}: layer {name!r} ({type(m).__name__})"
            if isinstance(m, nn.Conv2d):
                if m.groups != 1 or m.dilation != (1, 1) or m.padding_mode != "zeros":
                    raise ValueError(f"{where}: only groups=1, dilation=1, zero padding supported")
                if isinstance(m.padding, str) or m.bias is None:
                    raise ValueError(f"{where}: needs integer padding and a bias")
                layer: Layer = Conv2dLayer(
                    copy(m.weight), copy(m.bias), m.stride, m.padding, fast=fast
                )
            elif isinstance(m, nn.ReLU):
                layer = ReLULayer()
            elif isinstance(m, nn.MaxPool2d):
                if pair(m.dilation) != (1, 1) or m.ceil_mode or m.return_indices:
                    raise ValueError(f"{where}: dilation, ceil_mode and return_indices unsupported")
                layer = MaxPool2dLayer(pair(m.kernel_size), pair(m.stride), pair(m.padding))
            elif isinstance(m, nn.Flatten):
                if m.start_dim != 1 or m.end_dim != -1:
                    raise ValueError(f"{where}: only Flatten(start_dim=1, end_dim=-1) supported")
                layer = FlattenLayer()
            elif isinstance(m, nn.Linear):
                if m.bias is None:
                    raise ValueError(f"{where}: needs a bias")
                layer = LinearLayer(copy(m.weight), copy(m.bias))
            else:
                raise TypeError(
                    f"{where}: unsupported layer; a NumpyNet mirrors only {', '.join(_TORCH_KINDS)}"
                )
            layers.append(layer)
            names.append(name)
        if not layers:
            raise ValueError(f"{func}: the model has no layers")
        return cls(layers, names)

    def parameters(self) -> list[np.ndarray]:
        """All parameter arrays, in torch's ``model.parameters()`` order."""
        return [p for layer in self.layers for p in layer.params]

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        """(torch-style name such as "conv1.weight", array) pairs."""
        for name, layer in zip(self.names, self.layers, strict=True):
            for pname, p in zip(layer.param_names, layer.params, strict=True):
                yield f"{name}.{pname}", p

    @property
    def dtype(self) -> np.dtype:
        params = self.parameters()
        return params[0].dtype if params else np.dtype(np.float32)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, C, H, W) -> logits (N, K) (inference: nothing is kept)."""
        out = np.asarray(x, dtype=self.dtype)
        for layer in self.layers:
            out, _ = layer.forward(out, keep=False)
        return out

    __call__ = forward

    def loss_and_gradients(
        self, x: np.ndarray, y: np.ndarray, divisor: int | None = None
    ) -> tuple[float, int, list[np.ndarray]]:
        """Forward pass, softmax cross-entropy and backward pass on x (B, C, H, W), y (B,).

        Returns (summed loss, number of correct predictions, gradients of
        loss_sum / divisor parallel to :meth:`parameters`); ``divisor`` defaults to B
        (the mean loss). The first layer's input gradient is not computed.
        """
        out = np.asarray(x, dtype=self.dtype)
        caches = []
        for layer in self.layers:
            out, cache = layer.forward(out)
            caches.append(cache)
        loss_sum, grad = softmax_cross_entropy(out, y, divisor)
        correct = int(np.count_nonzero(out.argmax(axis=1) == y))
        grads_by_layer: list[list[np.ndarray]] = [[] for _ in self.layers]
        for i in range(len(self.layers) - 1, -1, -1):
            grad, grads_by_layer[i] = self.layers[i].backward(grad, caches[i], i > 0)
            caches[i] = None  # free the memory as soon as possible
        return loss_sum, correct, [g for grads in grads_by_layer for g in grads]

    def predict(self, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """Predicted classes (N,) int64 for x (N, C, H, W), computed in batches."""
        preds = [
            self.forward(x[i : i + batch_size]).argmax(axis=1) for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(preds).astype(np.int64) if preds else np.zeros(0, np.int64)

    def accuracy(self, x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> float:
        """Fraction (0..1) of x (N, C, H, W) whose predicted class equals y (N,)."""
        if len(y) == 0:
            raise ValueError("NumpyNet.accuracy: no images")
        return float(np.mean(self.predict(x, batch_size) == np.asarray(y)))

    def to_torch(self, model: object) -> None:
        """Copy this net's weights into ``model`` (a torch model with the same parameters)."""
        import torch

        params = list(model.parameters())
        if len(params) != len(self.parameters()):
            raise ValueError("NumpyNet.to_torch: the model has a different number of parameters")
        for tp, p in zip(params, self.parameters(), strict=True):
            if tuple(tp.shape) != p.shape:
                raise ValueError(
                    f"NumpyNet.to_torch: shape mismatch {tuple(tp.shape)} vs {p.shape}"
                )
        with torch.no_grad():
            for tp, p in zip(params, self.parameters(), strict=True):
                tp.copy_(torch.from_numpy(p))

    def __repr__(self) -> str:
        lines = [f"  ({n}): {layer!r}" for n, layer in zip(self.names, self.layers, strict=True)]
        return "NumpyNet(\n" + "\n".join(lines) + "\n)"
