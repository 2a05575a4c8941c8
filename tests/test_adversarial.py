"""convkit.lessons.adversarial: FGSM on tiny models whose gradients we can write by hand."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from convkit.lessons.adversarial import (
    Flip,
    accuracy_under_attack,
    accuracy_under_noise,
    fgsm,
    find_flip,
    flip_epsilons,
    nearest_other_class_distance,
    perturbation_size,
    pgd,
    predict_with_confidence,
    random_sign_noise,
)
from convkit.viz.adversarial import plot_flip, plot_pairs


def linear_model(seed: int = 0, classes: int = 3) -> nn.Sequential:
    """A linear classifier on 1x4x4 images (its input gradient is W^T (softmax - onehot))."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, classes))


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.05, 0.95, size=(n, 1, 4, 4)).astype(np.float32)


def test_fgsm_follows_the_sign_of_the_hand_written_gradient() -> None:
    model = linear_model()
    x, y = images(5), np.array([0, 1, 2, 0, 1])
    x_adv = fgsm(model, x, y, 0.03)
    assert isinstance(x_adv, np.ndarray) and x_adv.shape == x.shape
    w = model[1].weight.detach().numpy()
    logits = x.reshape(5, 16) @ w.T + model[1].bias.detach().numpy()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(5), y] -= 1
    grad = (p @ w).reshape(x.shape)
    np.testing.assert_allclose(x_adv - x, 0.03 * np.sign(grad), atol=1e-6)
    # the loss goes up
    loss = nn.functional.cross_entropy
    assert loss(model(torch.tensor(x_adv)), torch.tensor(y)) > loss(model(torch.tensor(x)),
                                                                    torch.tensor(y))


def test_fgsm_clips_to_the_unit_interval_and_keeps_tensors() -> None:
    model = linear_model(1)
    x = torch.tensor(np.random.default_rng(2).choice([0.0, 1.0], size=(4, 1, 4, 4)),
                     dtype=torch.float32)
    x_adv = fgsm(model, x, torch.tensor([0, 1, 2, 0]), 0.5)
    assert isinstance(x_adv, torch.Tensor)
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert set(np.unique(x_adv.numpy())) <= {0.0, 0.5, 1.0}
    assert torch.equal(fgsm(model, x, torch.tensor([0, 1, 2, 0]), 0.0), x)


def test_model_state_is_left_alone() -> None:
    model = linear_model()
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    fgsm(model, images(3), np.array([0, 1, 2]), 0.1)
    flip_epsilons(model, images(3), np.array([0, 1, 2]), [0.1, 0.2])
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_flip_epsilons_agree_with_single_fgsm_calls() -> None:
    model = linear_model(3)
    x = images(40, seed=3)
    labels, _ = predict_with_confidence(model, x)
    y = labels.copy()
    y[:5] = (y[:5] + 1) % 3  # five images the model gets "wrong"
    grid = [0.01, 0.02, 0.05, 0.1, 0.2, 0.4]
    smallest = flip_epsilons(model, x, y, grid)
    assert np.all(smallest[:5] == 0.0)
    for i in range(5, 40):
        wrong_at = [e for e in grid
                    if predict_with_confidence(model, fgsm(model, x[i:i + 1], y[i:i + 1], e))[0][0]
                    != y[i]]
        assert smallest[i] == (wrong_at[0] if wrong_at else np.inf)
    acc = accuracy_under_attack(model, x, y, [0.0, *grid])
    assert acc[0] == pytest.approx(35 / 40)
    for e, a in zip(grid, acc[1:], strict=True):
        assert a == pytest.approx(np.mean(smallest > e))


def test_find_flip_reports_the_smallest_flip() -> None:
    model = linear_model(4)
    x = images(1, seed=5)[0]
    label = int(predict_with_confidence(model, x[None])[0][0])
    grid = [0.02 * k for k in range(1, 40)]
    flip = find_flip(model, x, label, grid)
    assert isinstance(flip, Flip) and flip.label == label and flip.new_label != label
    assert flip.epsilon == flip_epsilons(model, x[None], np.array([label]), grid)[0]
    assert np.abs(flip.x_adv - x).max() <= flip.epsilon + 1e-6
    assert 0 < flip.new_confidence <= 1 and 0 < flip.confidence <= 1
    assert find_flip(model, x, label, [0.0]) is None
    fig = plot_flip(x, flip)
    assert len(fig.axes) == 3 and "adversarial" in fig.axes[2].get_title()
    plt.close(fig)


def test_bad_input_is_refused_clearly() -> None:
    model = linear_model()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fgsm(model, images(1) * 3, np.array([0]), 0.1)
    with pytest.raises(ValueError, match="4-D"):
        fgsm(model, images(1)[0], np.array([0]), 0.1)
    with pytest.raises(ValueError, match="shape"):
        fgsm(model, images(2), np.array([0]), 0.1)
    with pytest.raises(TypeError, match="integer labels"):
        fgsm(model, images(1), np.array([0.5]), 0.1)
    with pytest.raises(ValueError, match="epsilon"):
        fgsm(model, images(1), np.array([0]), 1.5)
    with pytest.raises(ValueError, match="at least one"):
        flip_epsilons(model, images(1), np.array([0]), [])
    with pytest.raises(TypeError):
        fgsm("not a model", images(1), np.array([0]), 0.1)


def test_random_noise_control() -> None:
    model = linear_model(6)
    x = images(30, seed=6)
    y, _ = predict_with_confidence(model, x)
    noisy = accuracy_under_noise(model, x, y, [0.0, 0.05, 0.3], seed=1)
    assert noisy[0] == 1.0
    assert np.array_equal(noisy, accuracy_under_noise(model, x, y, [0.0, 0.05, 0.3], seed=1))
    attacked = accuracy_under_attack(model, x, y, [0.0, 0.05, 0.3])
    # same step size, chosen direction: the attack hurts at least as much as noise here
    assert np.all(attacked <= noisy + 1e-12) and attacked[2] < noisy[2]


def test_random_sign_noise_is_the_noise_the_control_scores() -> None:
    model = linear_model(7)
    x = images(20, seed=8)
    y, _ = predict_with_confidence(model, x)
    noisy = random_sign_noise(x, 0.2, seed=3)
    assert isinstance(noisy, np.ndarray) and noisy.shape == x.shape
    # pixels far enough from 0 and 1 move by exactly 0.2, the others are clipped
    inside = (x > 0.2) & (x < 0.8)
    np.testing.assert_allclose(np.abs(noisy - x)[inside], 0.2, atol=1e-6)
    assert 0 <= noisy.min() and noisy.max() <= 1
    assert np.array_equal(noisy, random_sign_noise(x, 0.2, seed=3))
    assert not np.array_equal(noisy, random_sign_noise(x, 0.2, seed=4))
    accuracy = np.mean(predict_with_confidence(model, noisy)[0] == y)
    assert accuracy == pytest.approx(accuracy_under_noise(model, x, y, [0.2], seed=3)[0])
    assert isinstance(random_sign_noise(torch.tensor(x), 0.1), torch.Tensor)


def test_perturbation_size_by_hand() -> None:
    x = np.zeros((2, 1, 2, 2), dtype=np.float32)
    x_adv = x.copy()
    x_adv[0, 0, 0, 0] = 0.3
    x_adv[0, 0, 1, 1] = 0.4
    x_adv[1] = 0.1
    size = perturbation_size(x, x_adv)
    np.testing.assert_allclose(size.linf, [0.4, 0.1], atol=1e-6)
    np.testing.assert_allclose(size.l2, [0.5, 0.2], atol=1e-6)  # 3-4-5; 2 * 0.1
    np.testing.assert_allclose(size.changed, [0.5, 1.0])
    with pytest.raises(ValueError, match="shape"):
        perturbation_size(x, x_adv[:1])


def test_fgsm_size_is_epsilon_per_pixel() -> None:
    model = linear_model(2)
    x = images(6, seed=9)
    size = perturbation_size(x, fgsm(model, x, np.arange(6) % 3, 0.04))
    np.testing.assert_allclose(size.linf, 0.04, atol=1e-6)  # no clipping in [0.05, 0.95]
    np.testing.assert_allclose(size.l2, 0.04 * 4, atol=1e-5)  # 16 pixels, all moved
    assert np.all(size.changed == 1)


def test_nearest_other_class_distance_against_brute_force() -> None:
    rng = np.random.default_rng(10)
    x = rng.uniform(size=(7, 1, 3, 3)).astype(np.float32)
    y = rng.integers(0, 3, size=7)
    ref = rng.uniform(size=(25, 1, 3, 3)).astype(np.float32)
    ref_y = rng.integers(0, 3, size=25)
    got = nearest_other_class_distance(x, y, ref, ref_y, batch_size=3)
    for i in range(7):
        others = [np.linalg.norm(x[i].astype(np.float64) - ref[j].astype(np.float64))
                  for j in range(25) if ref_y[j] != y[i]]
        assert got[i] == pytest.approx(min(others), abs=1e-9)
    # an image whose class is the only one among the references has no other class
    assert np.isinf(nearest_other_class_distance(x[:1], np.array([5]), ref[:2],
                                                 np.array([5, 5])))[0]
    with pytest.raises(ValueError, match="images"):
        nearest_other_class_distance(x, y, ref[:, :, :2], ref_y)
    with pytest.raises(ValueError, match="batch_size"):
        nearest_other_class_distance(x, y, ref, ref_y, batch_size=0)


def mlp(seed: int = 0) -> nn.Sequential:
    """A small nonlinear classifier on 1x4x4 images, 3 classes."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 3))


@pytest.mark.parametrize("epsilon", [0.0, 0.03, 0.3])
def test_one_pgd_step_of_epsilon_from_the_image_is_fgsm(epsilon: float) -> None:
    model = mlp(1)
    x = np.random.default_rng(12).choice([0.0, 0.02, 0.5, 0.99, 1.0], size=(6, 1, 4, 4))
    x = x.astype(np.float32)  # values at and near the clipping bounds too
    y = np.array([0, 1, 2, 0, 1, 2])
    one_step = pgd(model, x, y, epsilon, step=epsilon, steps=1, random_start=False)
    assert isinstance(one_step, np.ndarray)
    np.testing.assert_array_equal(one_step, fgsm(model, x, y, epsilon))
    tensors = pgd(model, torch.tensor(x), torch.tensor(y), epsilon, epsilon, 1,
                  random_start=False)
    assert isinstance(tensors, torch.Tensor) and torch.equal(tensors, torch.tensor(one_step))


def test_pgd_on_two_classes_walks_to_the_corner_fgsm_jumps_to() -> None:
    """With two classes the loss gradient of a linear model has the sign of +-(W_1 - W_0)
    everywhere, so from any start in the box, enough steps reach the corner FGSM picks."""
    model = linear_model(13, classes=2)
    x, y = images(8, seed=13), np.arange(8) % 2
    walked = pgd(model, x, y, 0.1, step=0.05, steps=6, seed=1)  # 0.3 > the box's width 0.2
    np.testing.assert_array_equal(walked, fgsm(model, x, y, 0.1))


def test_pgd_stays_in_the_box_and_beats_fgsm_on_a_nonlinear_model() -> None:
    model = mlp(2)
    x = images(64, seed=14)
    y, _ = predict_with_confidence(model, x)
    epsilon = 0.1
    x_adv = pgd(model, x, y, epsilon, step=0.025, steps=10, seed=0)
    assert np.abs(x_adv - x).max() <= epsilon + 1e-6
    assert 0 <= x_adv.min() and x_adv.max() <= 1
    loss = nn.functional.cross_entropy
    labels = torch.tensor(y)
    pgd_loss = loss(model(torch.tensor(x_adv)), labels).item()
    fgsm_loss = loss(model(torch.tensor(fgsm(model, x, y, epsilon))), labels).item()
    assert pgd_loss > fgsm_loss > loss(model(torch.tensor(x)), labels).item()


def test_pgd_random_start_follows_the_seed_and_leaves_the_model_alone() -> None:
    model = mlp(3)
    model.train()
    x, y = images(5, seed=15), np.array([0, 1, 2, 0, 1])
    first = pgd(model, x, y, 0.2, 0.05, 3, seed=4)
    assert np.array_equal(first, pgd(model, x, y, 0.2, 0.05, 3, seed=4))
    assert not np.array_equal(first, pgd(model, x, y, 0.2, 0.05, 3, seed=5))
    fixed = pgd(model, x, y, 0.2, 0.05, 3, seed=4, random_start=False)
    assert np.array_equal(fixed, pgd(model, x, y, 0.2, 0.05, 3, seed=5, random_start=False))
    assert model.training
    assert all(p.grad is None for p in model.parameters())


def test_pgd_refuses_bad_arguments() -> None:
    model = mlp()
    x, y = images(2), np.array([0, 1])
    with pytest.raises(ValueError, match="pgd: steps must be positive"):
        pgd(model, x, y, 0.1, 0.01, 0)
    with pytest.raises(ValueError, match=r"pgd: step must be in \[0, 1\]"):
        pgd(model, x, y, 0.1, 1.5, 3)
    with pytest.raises(TypeError, match="pgd: step must be a number"):
        pgd(model, x, y, 0.1, "big", 3)
    with pytest.raises(ValueError, match="pgd: epsilon must be in"):
        pgd(model, x, y, -0.1, 0.01, 3)
    with pytest.raises(TypeError, match="random_start must be True or False"):
        pgd(model, x, y, 0.1, 0.01, 3, random_start=1)
    with pytest.raises(ValueError, match="seed must be non-negative"):
        pgd(model, x, y, 0.1, 0.01, 3, seed=-1)
    with pytest.raises(ValueError, match="shape"):
        pgd(model, x, y[:1], 0.1, 0.01, 3)


def test_plot_pairs_draws_originals_over_perturbed() -> None:
    x = images(3, seed=11)
    fig = plot_pairs(x, np.clip(x + 0.1, 0, 1), ["a", "b", "c"], ["d", "e", "f"])
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c", "d", "e", "f"]
    assert fig.axes[0].images[0].get_clim() == (0, 1)  # one grey scale for all panels
    plt.close(fig)
    with pytest.raises(ValueError, match="titles"):
        plot_pairs(x, x, ["a"], ["b"])
    with pytest.raises(ValueError, match="N, C, H, W"):
        plot_pairs(x[0], x[0], ["a"], ["b"])
