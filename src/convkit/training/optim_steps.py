"""One optimizer step in numpy, with weight decay as an L2 penalty or decoupled (ch11).

Weight decay shrinks the weights towards zero every step.  Written as an L2
penalty ``wd/2 * |w|^2`` added to the loss, it enters through the gradient
(``g + wd * w``), and Adam then divides it, like every gradient, by the running
root mean square of the gradients: weights with large gradients are barely
decayed.  Decoupled (Loshchilov & Hutter 2019, torch's ``AdamW``), the weights are
shrunk directly, ``w -= lr * wd * w``, before the optimizer's own step, by the
same factor for every weight.  For plain SGD the two coincide; for Adam they do not.

Both functions update their arrays in place (as torch's optimizers do) and
follow ``torch.optim.SGD`` / ``Adam`` / ``AdamW`` step for step.
"""

from __future__ import annotations

import math

import numpy as np

from convkit._checks import as_bool, int_at_least, non_negative_float, positive_float

__all__ = ["adam_step", "sgd_step"]


def sgd_step(
    param: np.ndarray,
    grad: np.ndarray,
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    momentum_buffer: np.ndarray | None = None,
    decoupled: bool = False,
) -> np.ndarray | None:
    """One SGD step on ``param`` in place, as ``torch.optim.SGD(lr, momentum, weight_decay)``
    (``decoupled``: the decay shrinks ``param`` directly instead of joining the gradient).

    param, grad: the same shape.  With ``momentum > 0`` returns the momentum buffer
    to pass as ``momentum_buffer`` next step (None at the first step: the buffer starts
    as that step's update, as in torch; a given buffer is updated in place); else None.
    """
    func = "sgd_step"
    param, grad = _pair(func, param, grad)
    lr = positive_float(func, "lr", lr)
    decay = non_negative_float(func, "weight_decay", weight_decay)
    mu = non_negative_float(func, "momentum", momentum)
    if momentum_buffer is not None:
        if mu == 0:
            raise ValueError(f"{func}: momentum_buffer given but momentum is 0")
        _state(func, "momentum_buffer", momentum_buffer, param)  # checked before any write
    if as_bool(func, "decoupled", decoupled):
        param *= 1 - lr * decay
        update = grad.copy()
    else:
        update = grad + decay * param
    buffer = None
    if mu > 0:
        if momentum_buffer is None:
            buffer = update
        else:
            buffer = _state(func, "momentum_buffer", momentum_buffer, param)
            buffer *= mu
            buffer += update
        update = buffer
    param -= lr * update
    return buffer


def adam_step(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    step: int,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> None:
    """One Adam step on ``param`` in place: ``torch.optim.Adam`` (weight decay as L2), or
    with ``decoupled`` ``torch.optim.AdamW`` (weight decay applied to ``param`` directly).

    param, grad, exp_avg, exp_avg_sq: the same shape (the two averages are updated in
    place; zeros before the first step).  ``step``: this step's number, 1 for the first
    (it corrects the averages' bias towards zero).
    """
    func = "adam_step"
    param, grad = _pair(func, param, grad)
    first = _state(func, "exp_avg", exp_avg, param)
    second = _state(func, "exp_avg_sq", exp_avg_sq, param)
    t = int_at_least(func, "step", step, 1)
    lr = positive_float(func, "lr", lr)
    beta1, beta2 = (non_negative_float(func, "betas", b) for b in betas)
    if beta1 >= 1 or beta2 >= 1:
        raise ValueError(f"{func}: betas must be below 1, got {tuple(betas)}")
    eps = positive_float(func, "eps", eps)
    decay = non_negative_float(func, "weight_decay", weight_decay)
    if as_bool(func, "decoupled", decoupled):
        param *= 1 - lr * decay
    elif decay:
        grad = grad + decay * param
    first *= beta1
    first += (1 - beta1) * grad
    second *= beta2
    second += (1 - beta2) * grad * grad
    corrected_lr = lr / (1 - beta1**t)
    denominator = np.sqrt(second) / math.sqrt(1 - beta2**t) + eps
    param -= corrected_lr * first / denominator


def _pair(func: str, param: object, grad: object) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
        raise TypeError(f"{func}: param must be a float numpy array (updated in place)")
    grad = np.asarray(grad, dtype=param.dtype)
    if grad.shape != param.shape:
        raise ValueError(f"{func}: grad must have param's shape {param.shape}, got {grad.shape}")
    return param, grad


def _state(func: str, name: str, value: object, param: np.ndarray) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        raise TypeError(f"{func}: {name} must be a float numpy array (updated in place)")
    if value.shape != param.shape:
        raise ValueError(f"{func}: {name} must have param's shape {param.shape}, got {value.shape}")
    return value
