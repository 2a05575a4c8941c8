"""Initialisation scales (fans, gains, Kaiming and Xavier std) against torch.nn.init."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit.shapes.init_scale import calculate_gain, fan_in_and_fan_out, kaiming_std, xavier_std

shapes = st.lists(st.integers(1, 9), min_size=2, max_size=5)
NONLINEARITIES = [
    "linear", "conv2d", "conv_transpose2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu",
]


@settings(max_examples=100)
@given(shapes)
def test_fans_match_torch(shape):
    weight = torch.empty(shape)
    assert fan_in_and_fan_out(shape) == torch.nn.init._calculate_fan_in_and_fan_out(weight)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("param", [None, 0.2])
def test_gains_match_torch(nonlinearity, param):
    assert calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param)
    )


@settings(max_examples=60, deadline=None)
@given(shapes, st.sampled_from([0.0, 0.1, 1.0]), st.sampled_from(["fan_in", "fan_out"]),
       st.sampled_from(["relu", "leaky_relu", "linear", "tanh"]))
def test_kaiming_std_is_the_spread_torch_draws(shape, a, mode, nonlinearity):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    expected = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    assert kaiming_std(shape, a, mode, nonlinearity) == pytest.approx(expected)


def test_the_std_is_what_torchs_initialisers_sample():
    generator = torch.Generator().manual_seed(0)
    weight = torch.empty(256, 128, 3, 3)
    torch.nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)
    assert float(weight.std()) == pytest.approx(kaiming_std(weight.shape, nonlinearity="relu"),
                                                rel=0.01)
    torch.nn.init.xavier_normal_(weight, gain=2.0, generator=generator)
    assert float(weight.std()) == pytest.approx(xavier_std(weight.shape, 2.0), rel=0.01)


def test_relu_kaiming_is_sqrt_two_over_fan_in():
    assert kaiming_std((64, 32, 3, 3), nonlinearity="relu") == pytest.approx(math.sqrt(2 / 288))


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: fan_in_and_fan_out((5,)), ValueError),
        (lambda: fan_in_and_fan_out((5, 0)), ValueError),
        (lambda: kaiming_std((5, 3), mode="fan_both"), ValueError),
        (lambda: calculate_gain("swish"), ValueError),
        (lambda: calculate_gain("identity"), ValueError),  # torch has no gain for it
        (lambda: calculate_gain("leaky_relu", "0.1"), TypeError),
    ],
)
def test_bad_arguments_raise(call, error):
    with pytest.raises(error):
        call()
