"""The degradation experiment: a deep plain stack vs the same stack with shortcuts."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from convkit.lessons.degradation import (
    DeepStack,
    activation_gradient_norms,
    plain_stack,
    residual_stack,
    run_degradation_experiment,
    spirals,
    train_briefly,
    training_accuracy,
    weight_gradient_norms,
)
from convkit.viz.degradation import plot_training_losses, plot_weight_gradient_norms

pytestmark = pytest.mark.usefixtures("one_thread")


def test_spirals_shape_labels_and_determinism():
    x, y = spirals(n_per_class=50, classes=3, seed=1)
    assert x.shape == (150, 2) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and torch.bincount(y).tolist() == [50, 50, 50]
    assert x.norm(dim=1).max() <= 1.0 + 1e-6
    x2, _ = spirals(n_per_class=50, classes=3, seed=1)
    torch.testing.assert_close(x, x2)
    assert not torch.equal(x, spirals(n_per_class=50, classes=3, seed=2)[0])


def test_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    plain, residual = plain_stack(6, 8, seed=3), residual_stack(6, 8, seed=3)
    assert torch.rand(1).item() == before.item()
    for p, r in zip(plain.parameters(), residual.parameters(), strict=True):
        assert torch.equal(p, r)
    assert not plain.residual and residual.residual
    x = torch.randn(5, 2)
    assert plain(x).shape == residual(x).shape == (5, 3)
    assert not torch.allclose(plain(x), residual(x))


def test_residual_forward_is_relu_of_sum():
    stack = residual_stack(2, 4, seed=0)
    x = torch.randn(3, 2)
    h = torch.relu(stack.stem(x))
    f = stack.layers[1](torch.relu(stack.layers[0](h)))
    torch.testing.assert_close(stack(x), stack.head(torch.relu(h + f)))


def test_weight_gradient_norms_match_autograd_and_leave_grads_alone():
    x, y = spirals(n_per_class=20)
    model = plain_stack(4, 8, seed=0)
    norms = weight_gradient_norms(model, x, y)
    assert norms.shape == (6,) and norms.dtype == np.float64
    assert all(p.grad is None for p in model.parameters())
    torch.nn.functional.cross_entropy(model(x), y).backward()
    manual = [model.stem.weight.grad.norm().item()]
    manual += [layer.weight.grad.norm().item() for layer in model.layers]
    manual.append(model.head.weight.grad.norm().item())
    np.testing.assert_allclose(norms, manual, rtol=1e-6)


def test_plain_gradients_vanish_toward_the_input_residual_ones_do_not():
    x, y = spirals()
    plain = weight_gradient_norms(plain_stack(30, 32), x, y)
    residual = weight_gradient_norms(residual_stack(30, 32), x, y)
    assert plain.shape == residual.shape == (32,)
    # The first layer of the plain stack gets a gradient at least 10x (here ~1e11x) smaller.
    assert plain[0] * 10 < residual[0]
    assert plain[0] < 1e-6 * plain[-1]
    assert residual[0] > 1e-2 * residual[-1]
    # In the plain stack the gradient shrinks layer after layer towards the input.
    assert np.all(np.diff(np.log(plain[5:-1])) > 0)


def test_training_deep_plain_stays_at_chance_residual_learns():
    x, y = spirals()
    plain, residual = plain_stack(30, 32), residual_stack(30, 32)
    plain_losses = train_briefly(plain, x, y, steps=120)
    residual_losses = train_briefly(residual, x, y, steps=120)
    assert plain_losses.shape == (120,)
    assert abs(plain_losses[-1] - math.log(3)) < 0.01
    assert residual_losses[-1] < 0.1
    assert training_accuracy(residual, x, y) > 0.95
    assert training_accuracy(plain, x, y) < 0.5


def test_experiment_bundle_and_plots():
    result = run_degradation_experiment(depth=10, width=16, shallow_depth=2, steps=5)
    assert len(result.labels) == 3 and set(result.losses) == set(result.labels)
    assert result.weight_gradient_norms[result.labels[1]].shape == (12,)
    assert result.losses[result.labels[2]].shape == (5,)
    assert all(0 <= a <= 1 for a in result.train_accuracy.values())
    assert result.seconds > 0
    fig = plot_weight_gradient_norms(result.weight_gradient_norms)
    assert isinstance(fig, Figure) and fig.axes[0].get_yscale() == "log"
    assert len(fig.axes[0].get_lines()) == 3
    fig = plot_training_losses(result.losses, chance=math.log(3))
    assert isinstance(fig, Figure) and len(fig.axes[0].get_lines()) == 4


def test_activation_gradient_norms_sigmoid_vanishes_relu_holds():
    xavier = torch.nn.init.xavier_normal_

    def kaiming(w, generator):
        return torch.nn.init.kaiming_normal_(w, nonlinearity="relu", generator=generator)

    sigmoid = activation_gradient_norms(torch.sigmoid, xavier)
    relu = activation_gradient_norms(torch.relu, kaiming)
    assert sigmoid.shape == relu.shape == (20,)
    assert sigmoid[-1] / sigmoid[0] > 1e6  # layer 1 gets a millionth of layer 20's gradient
    assert max(relu[-1] / relu[0], relu[0] / relu[-1]) < 10
    np.testing.assert_array_equal(sigmoid, activation_gradient_norms(torch.sigmoid, xavier))
    short = activation_gradient_norms(torch.tanh, xavier, depth=3, width=8, seed=1)
    assert short.shape == (3,) and np.all(short > 0)
    with pytest.raises(ValueError):
        activation_gradient_norms(torch.tanh, xavier, depth=0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="even"):
        DeepStack(5, 8, residual=True)
    with pytest.raises(ValueError, match="labels"):
        weight_gradient_norms(plain_stack(2, 4), torch.zeros(3, 2), torch.zeros(4).long())
    with pytest.raises(ValueError, match="Linear or Conv2d"):
        weight_gradient_norms(torch.nn.ReLU(), torch.zeros(3, 2), torch.zeros(3).long())
    with pytest.raises(ValueError, match="lr"):
        train_briefly(plain_stack(2, 4), *spirals(n_per_class=5), lr=0)
    with pytest.raises(ValueError, match="no series"):
        plot_weight_gradient_norms({})
