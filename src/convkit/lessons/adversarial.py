"""Adversarial examples (chapter 9) with the fast gradient sign method (FGSM), and its
iterated form, projected gradient descent (PGD, chapter 13).

FGSM moves every pixel by ``epsilon`` in the direction that increases the loss
the most to first order: ``x_adv = clip(x + epsilon * sign(grad_x loss(model(x), y)), 0, 1)``.
One gradient per image, so it is cheap enough to run on a whole test set.

- :func:`fgsm`: the perturbed images for one ``epsilon``.
- :func:`pgd`: many smaller FGSM steps, each projected back into the ``epsilon`` box
  around the image (Madry et al. 2018); one step of size ``epsilon`` from the image
  itself is FGSM.
- :func:`flip_epsilons`: for each image, the smallest ``epsilon`` of a grid that
  changes the model's prediction; :func:`accuracy_under_attack`: accuracy per
  ``epsilon``, and :func:`accuracy_under_noise` the same for random ±epsilon noise.
- :func:`find_flip`: the details of the smallest flip of one image (:class:`Flip`);
  :func:`convkit.viz.adversarial.plot_flip` draws it (original, perturbation,
  adversarial image).
- How large is "small"? :func:`perturbation_size` measures a perturbation per image
  (largest pixel change, Euclidean length, share of pixels moved);
  :func:`nearest_other_class_distance` the Euclidean distance from each image to the
  closest reference image (e.g. a training digit) of another class, the scale the
  perturbation can be compared with; :func:`random_sign_noise` the random control
  images that :func:`accuracy_under_noise` scores.

Images are float ``(N, C, H, W)`` in ``[0, 1]`` (numpy or torch; numpy in gives
numpy out), labels int ``(N,)``. The model is used in eval mode and its
parameters receive no gradient.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convkit._checks import as_bool, int_at_least
from convkit.nn.torch_state import eval_mode

__all__ = [
    "Flip",
    "PerturbationSize",
    "accuracy_under_attack",
    "accuracy_under_noise",
    "fgsm",
    "find_flip",
    "flip_epsilons",
    "nearest_other_class_distance",
    "perturbation_size",
    "pgd",
    "predict_with_confidence",
    "random_sign_noise",
]


class Flip(NamedTuple):
    """The smallest FGSM perturbation of a grid that changed one image's prediction.

    Attributes:
        epsilon: the step size that flipped it.
        x_adv: the adversarial image, float32 ``(C, H, W)`` in ``[0, 1]``.
        label, confidence: the model's prediction for the original image and its
            softmax probability.
        new_label, new_confidence: the same for the adversarial image.
    """

    epsilon: float
    x_adv: np.ndarray
    label: int
    confidence: float
    new_label: int
    new_confidence: float


class PerturbationSize(NamedTuple):
    """How far each perturbed image is from its original (one value per image, (N,)).

    Attributes:
        linf: the largest change of any pixel (the L-infinity norm), in pixel units.
        l2: the Euclidean length of the change (all pixels together).
        changed: the share of pixels that moved at all (0..1).
    """

    linf: np.ndarray
    l2: np.ndarray
    changed: np.ndarray


# ----------------------------------------------------------------------- checks
def _images(func: str, x: object) -> torch.Tensor:
    """``x`` as a float32 tensor (N, C, H, W) with values in [0, 1] (a copy, no grad)."""
    t = x.detach() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    if not t.is_floating_point():
        raise TypeError(f"{func}: x must hold floats in [0, 1], got dtype {t.dtype}")
    if t.ndim != 4:
        raise ValueError(f"{func}: x must be 4-D (N, C, H, W), got shape {tuple(t.shape)}")
    if t.numel() and (t.min() < 0 or t.max() > 1):
        raise ValueError(f"{func}: x must lie in [0, 1], got values in "
                         f"[{t.min().item():.3g}, {t.max().item():.3g}]")
    return t.to(torch.float32).clone()


def _labels(func: str, y: object, n: int) -> torch.Tensor:
    """``y`` as an int64 tensor (n,)."""
    t = y.detach() if isinstance(y, torch.Tensor) else torch.from_numpy(np.asarray(y))
    if t.is_floating_point() or t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{func}: y must hold integer labels, got dtype {t.dtype}")
    if tuple(t.shape) != (n,):
        raise ValueError(f"{func}: y must have shape ({n},) to match x, got {tuple(t.shape)}")
    return t.to(torch.int64)


def _epsilon(func: str, epsilon: object, name: str = "epsilon") -> float:
    """A pixel-size step (``epsilon``, or PGD's ``step``) as a float in [0, 1]."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"{func}: {name} must be a number, got {epsilon!r}")
    if not 0 <= float(epsilon) <= 1:
        raise ValueError(f"{func}: {name} must be in [0, 1], got {epsilon}")
    return float(epsilon)


def _epsilons(func: str, epsilons: Sequence[float]) -> list[float]:
    values = sorted(_epsilon(func, e) for e in epsilons)
    if not values:
        raise ValueError(f"{func}: give at least one epsilon")
    return values


# ------------------------------------------------------------------------ attack
def _gradient_sign(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """sign of d(cross-entropy summed over the batch)/dx: (N, C, H, W) in {-1, 0, 1}."""
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x)
    return grad.sign()


def _perturb(x: torch.Tensor, sign: torch.Tensor, epsilon: float) -> torch.Tensor:
    return (x + epsilon * sign).clamp_(0.0, 1.0)


def _random_signs(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """A float32 tensor of ``shape`` holding -1 and +1 with equal probability, from ``seed``."""
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.choice([-1.0, 1.0], size=shape).astype(np.float32))


def fgsm(model: nn.Module, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor,
         epsilon: float) -> np.ndarray | torch.Tensor:
    """One FGSM step: x: (N, C, H, W) in [0, 1], y: (N,) -> x_adv: (N, C, H, W) in [0, 1].

    Every pixel moves by exactly ``epsilon`` (up or down, following the sign of the
    loss gradient) unless the clipping to [0, 1] stops it; a pixel whose gradient is
    0 does not move. A numpy input gives a float32 numpy array, a tensor a tensor.
    """
    func = "fgsm"
    xt = _images(func, x)
    yt = _labels(func, y, xt.shape[0])
    eps = _epsilon(func, epsilon)
    with eval_mode(model):
        x_adv = _perturb(xt, _gradient_sign(model, xt, yt), eps)
    return x_adv if isinstance(x, torch.Tensor) else x_adv.numpy()


def pgd(model: nn.Module, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor,
        epsilon: float, step: float, steps: int, seed: int | None = None,
        random_start: bool = True) -> np.ndarray | torch.Tensor:
    """Projected gradient descent (L-infinity): x: (N, C, H, W) in [0, 1], y: (N,) ->
    x_adv: (N, C, H, W) in [0, 1] with |x_adv - x| <= epsilon for every pixel.

    Madry et al. (2018, §2): start at x, or with ``random_start`` at x plus uniform noise
    in [-epsilon, epsilon] (clipped to [0, 1]; drawn from a numpy generator seeded with
    ``seed``, or with ``seed=None`` from torch's global generator, so that a seeded
    training run that attacks every batch is reproducible); then ``steps`` times take an
    FGSM step of size ``step`` from the current point (the sign of the loss gradient
    there) and project back: clip to [0, 1] and into the box [x - epsilon, x + epsilon].
    With ``steps=1, step=epsilon, random_start=False`` this is :func:`fgsm`. A numpy
    input gives a float32 numpy array, a tensor a tensor. The model is used in eval mode;
    its parameters receive no gradient.
    """
    func = "pgd"
    xt = _images(func, x)
    yt = _labels(func, y, xt.shape[0])
    eps = _epsilon(func, epsilon)
    step_size = _epsilon(func, step, "step")
    n_steps = int_at_least(func, "steps", steps, 1)
    if seed is not None:
        seed = int_at_least(func, "seed", seed, 0)
    x_adv = xt.clone()
    if as_bool(func, "random_start", random_start):
        if seed is None:
            noise = torch.empty_like(xt).uniform_(-eps, eps)
        else:
            rng = np.random.default_rng(seed)
            noise = torch.from_numpy(rng.uniform(-eps, eps, size=tuple(xt.shape)))
        x_adv = (x_adv + noise.to(xt.dtype)).clamp_(0.0, 1.0)
    lowest, highest = xt - eps, xt + eps
    with eval_mode(model):
        for _ in range(n_steps):
            moved = _perturb(x_adv, _gradient_sign(model, x_adv, yt), step_size)
            x_adv = torch.clamp(moved, lowest, highest)  # stays in [0, 1] too
    return x_adv if isinstance(x, torch.Tensor) else x_adv.numpy()


def predict_with_confidence(
    model: nn.Module, x: np.ndarray | torch.Tensor
) -> tuple[np.ndarray, np.ndarray]:
    """x: (N, C, H, W) -> (labels int64 (N,), softmax probability of each label (N,))."""
    xt = _images("predict_with_confidence", x)
    with eval_mode(model), torch.no_grad():
        probs = F.softmax(model(xt), dim=1)
    conf, labels = probs.max(dim=1)
    return labels.numpy(), conf.numpy()


def flip_epsilons(model: nn.Module, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor,
                  epsilons: Sequence[float]) -> np.ndarray:
    """For each image, the smallest epsilon of ``epsilons`` whose FGSM image is misclassified.

    x: (N, C, H, W), y: (N,) -> float64 (N,): 0.0 for an image the model already gets
    wrong, ``inf`` if no epsilon of the grid changes the prediction away from ``y``.
    """
    func = "flip_epsilons"
    xt = _images(func, x)
    yt = _labels(func, y, xt.shape[0])
    grid = _epsilons(func, epsilons)
    result = np.full(xt.shape[0], np.inf)
    with eval_mode(model):
        sign = _gradient_sign(model, xt, yt)
        with torch.no_grad():
            result[(model(xt).argmax(1) != yt).numpy()] = 0.0
            for eps in grid:  # ascending; only images not flipped yet are tried again
                todo = torch.from_numpy(np.flatnonzero(np.isinf(result)))
                if len(todo) == 0:
                    break
                wrong = model(_perturb(xt[todo], sign[todo], eps)).argmax(1) != yt[todo]
                result[todo[wrong].numpy()] = eps
    return result


def accuracy_under_attack(model: nn.Module, x: np.ndarray | torch.Tensor,
                          y: np.ndarray | torch.Tensor, epsilons: Sequence[float]) -> np.ndarray:
    """Accuracy (0..1) on FGSM images, one value per epsilon, in the order given.

    x: (N, C, H, W) in [0, 1], y: (N,) -> float64 (len(epsilons),).
    """
    func = "accuracy_under_attack"
    xt = _images(func, x)
    yt = _labels(func, y, xt.shape[0])
    values = [_epsilon(func, e) for e in epsilons]
    with eval_mode(model):
        sign = _gradient_sign(model, xt, yt)
        with torch.no_grad():
            acc = [(model(_perturb(xt, sign, e)).argmax(1) == yt).float().mean().item()
                   for e in values]
    return np.array(acc)


def accuracy_under_noise(model: nn.Module, x: np.ndarray | torch.Tensor,
                         y: np.ndarray | torch.Tensor, epsilons: Sequence[float],
                         seed: int = 0) -> np.ndarray:
    """Accuracy (0..1) when every pixel moves by ±epsilon with a random sign (clipped).

    The control for :func:`accuracy_under_attack`: the same size of change, in a
    random direction. x: (N, C, H, W) in [0, 1], y: (N,) -> float64 (len(epsilons),);
    one random sign pattern (from ``seed``) is shared by all epsilons.
    """
    func = "accuracy_under_noise"
    xt = _images(func, x)
    yt = _labels(func, y, xt.shape[0])
    values = [_epsilon(func, e) for e in epsilons]
    sign = _random_signs(tuple(xt.shape), seed)
    with eval_mode(model), torch.no_grad():
        acc = [(model(_perturb(xt, sign, e)).argmax(1) == yt).float().mean().item()
               for e in values]
    return np.array(acc)


def find_flip(model: nn.Module, x: np.ndarray | torch.Tensor, y: int,
              epsilons: Sequence[float]) -> Flip | None:
    """The smallest epsilon of ``epsilons`` whose FGSM image changes the prediction.

    x: one image (C, H, W) in [0, 1]; y: its true label. Returns a :class:`Flip`, or
    None if no epsilon of the grid changes the model's prediction away from ``y``.
    """
    func = "find_flip"
    xt = _images(func, x[None])
    if isinstance(y, bool) or not isinstance(y, numbers.Integral):
        raise TypeError(f"{func}: y must be one integer label, got {y!r}")
    yt = torch.tensor([int(y)])
    grid = _epsilons(func, epsilons)
    label, conf = predict_with_confidence(model, xt)
    with eval_mode(model):
        sign = _gradient_sign(model, xt, yt)
    for eps in grid:
        x_adv = _perturb(xt, sign, eps)
        new_label, new_conf = predict_with_confidence(model, x_adv)
        if new_label[0] != y:
            return Flip(eps, x_adv[0].numpy(), int(label[0]), float(conf[0]),
                        int(new_label[0]), float(new_conf[0]))
    return None


def random_sign_noise(x: np.ndarray | torch.Tensor, epsilon: float,
                      seed: int = 0) -> np.ndarray | torch.Tensor:
    """x: (N, C, H, W) in [0, 1] -> x moved by ±epsilon per pixel, signs at random, clipped.

    The images :func:`accuracy_under_noise` scores for this ``epsilon`` and ``seed``
    (the same sign pattern). A numpy input gives a float32 numpy array, a tensor a tensor.
    """
    func = "random_sign_noise"
    xt = _images(func, x)
    noisy = _perturb(xt, _random_signs(tuple(xt.shape), seed), _epsilon(func, epsilon))
    return noisy if isinstance(x, torch.Tensor) else noisy.numpy()


def perturbation_size(x: np.ndarray | torch.Tensor,
                      x_adv: np.ndarray | torch.Tensor) -> PerturbationSize:
    """x, x_adv: (N, C, H, W) in [0, 1] -> :class:`PerturbationSize`, each field (N,).

    Per image: the largest absolute pixel change, the Euclidean norm of
    ``x_adv - x`` and the share of its pixels that changed. ValueError if the shapes
    differ.
    """
    func = "perturbation_size"
    a, b = _images(func, x), _images(func, x_adv)
    if a.shape != b.shape:
        raise ValueError(f"{func}: x has shape {tuple(a.shape)}, x_adv {tuple(b.shape)}")
    delta = (b.double() - a.double()).reshape(a.shape[0], -1).numpy()
    return PerturbationSize(
        linf=np.abs(delta).max(axis=1, initial=0.0),
        l2=np.linalg.norm(delta, axis=1),
        changed=np.mean(delta != 0, axis=1) if delta.shape[1] else np.zeros(len(delta)),
    )


def nearest_other_class_distance(x: np.ndarray, y: np.ndarray, x_ref: np.ndarray,
                                 y_ref: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Euclidean distance from each image to the closest reference image of another class.

    x: (N, C, H, W), y: (N,); x_ref: (M, C, H, W), y_ref: (M,) -> float64 (N,).
    ``inf`` for an image whose class is the only one among the references. Computed
    in float64, ``batch_size`` images at a time (the N x M distance matrix is never
    held whole).
    """
    func = "nearest_other_class_distance"
    xt, rt = _images(func, x), _images(func, x_ref)
    if xt.shape[1:] != rt.shape[1:]:
        raise ValueError(f"{func}: x images are {tuple(xt.shape[1:])}, "
                         f"x_ref images {tuple(rt.shape[1:])}")
    labels = _labels(func, y, xt.shape[0]).numpy()
    ref_labels = _labels(func, y_ref, rt.shape[0]).numpy()
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size < 1:
        raise ValueError(f"{func}: batch_size must be a positive int, got {batch_size!r}")
    a = xt.double().reshape(xt.shape[0], -1).numpy()
    r = rt.double().reshape(rt.shape[0], -1).numpy()
    r_sq = (r * r).sum(axis=1)
    out = np.full(len(a), np.inf)
    for start in range(0, len(a), int(batch_size)):
        chunk = a[start:start + int(batch_size)]
        sq = (chunk * chunk).sum(axis=1)[:, None] + r_sq[None, :] - 2.0 * chunk @ r.T
        other = labels[start:start + len(chunk), None] != ref_labels[None, :]
        sq = np.where(other, np.maximum(sq, 0.0), np.inf)
        out[start:start + len(chunk)] = np.sqrt(sq.min(axis=1, initial=np.inf))
    return out
