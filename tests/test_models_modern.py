"""convkit.nn.models.modern: patch embedding = conv = reshape + linear, the ConvNeXt block,
depthwise-separable parameter counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit import conv2d_params
from convkit.nn.models.modern import (
    ConvNeXtBlock,
    DepthwiseSeparableConv2d,
    PatchEmbedding,
    convnext_block_params,
    depthwise_separable_params,
    patch_embed,
    patchify,
)


def numel(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------- patchify / patch_embed
def test_patchify_small_example_by_hand() -> None:
    x = np.arange(2 * 4 * 4, dtype=float).reshape(1, 2, 4, 4)
    rows = patchify(x, 2)
    assert rows.shape == (1, 4, 8)
    # patch 1 is the top-right 2x2 block: channel 0 then channel 1, each row by row
    assert rows[0, 1].tolist() == [2, 3, 6, 7, 18, 19, 22, 23]
    # patch 2 is the bottom-left block
    assert rows[0, 2, :4].tolist() == [8, 9, 12, 13]


def test_patchify_rectangular_patches_and_dtypes() -> None:
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 8)).astype(np.float32)
    rows = patchify(x, (3, 2))
    assert rows.shape == (2, 2 * 4, 3 * 3 * 2) and rows.dtype == np.float32
    assert patchify(np.ones((1, 1, 2, 2), dtype=int), 1).dtype == np.float64
    t = patchify(torch.tensor(x), (3, 2))
    assert isinstance(t, torch.Tensor) and np.array_equal(t.numpy(), rows)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3), c=st.integers(1, 4), d=st.integers(1, 6),
    ph=st.integers(1, 4), pw=st.integers(1, 4), gh=st.integers(1, 4), gw=st.integers(1, 4),
    bias=st.booleans(), seed=st.integers(0, 2**16),
)
def test_patch_embed_equals_strided_conv(n, c, d, ph, pw, gh, gw, bias, seed) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, c, gh * ph, gw * pw))
    w = rng.normal(size=(d, c, ph, pw))
    b = rng.normal(size=d) if bias else None
    ours = patch_embed(x, w, b)
    conv = F.conv2d(torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b),
                    stride=(ph, pw))
    expected = conv.flatten(2).transpose(1, 2).numpy()
    assert ours.shape == (n, gh * gw, d)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


def test_patch_embedding_module_equals_reshape_plus_linear_float64() -> None:
    torch.manual_seed(0)
    layer = PatchEmbedding(3, 16, 4).double()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    out = layer(x)
    assert out.shape == (2, 64, 16) and layer.num_patches(32, 32) == 64
    linear = layer.as_linear()
    via_linear = linear(patchify(x, 4))
    assert (out - via_linear).abs().max().item() < 1e-12
    numpy_way = patch_embed(x.numpy(), layer.proj.weight.detach().numpy(),
                            layer.proj.bias.detach().numpy())
    assert np.abs(out.detach().numpy() - numpy_way).max() < 1e-12
    assert numel(linear) == numel(layer) == conv2d_params(3, 16, 4)


def test_as_linear_is_a_copy_and_keeps_no_bias() -> None:
    layer = PatchEmbedding(1, 4, 2)
    layer.proj.bias = None
    linear = layer.as_linear()
    assert linear.bias is None
    with torch.no_grad():
        linear.weight.zero_()
    assert layer.proj.weight.abs().sum() > 0


def test_patch_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="whole 4 x 4 patches"):
        patchify(np.zeros((1, 1, 10, 8)), 4)
    with pytest.raises(ValueError, match="4-D"):
        patchify(np.zeros((1, 8, 8)), 4)
    with pytest.raises(ValueError, match="positive"):
        patchify(np.zeros((1, 1, 8, 8)), 0)
    with pytest.raises(ValueError, match="weight's channels"):
        patch_embed(np.zeros((1, 2, 4, 4)), np.zeros((3, 1, 2, 2)))
    with pytest.raises(ValueError, match="bias"):
        patch_embed(np.zeros((1, 1, 4, 4)), np.zeros((3, 1, 2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="whole"):
        PatchEmbedding(1, 4, 4)(torch.zeros(1, 1, 30, 30))
    with pytest.raises(TypeError):
        PatchEmbedding(1, 4, 2.5)


# ---------------------------------------------------------------------------- ConvNeXt
@pytest.mark.parametrize(("dim", "kernel", "scale"), [(8, 7, 1e-6), (4, 3, None), (6, 5, 0.5)])
def test_convnext_block_shapes_and_params(dim, kernel, scale) -> None:
    block = ConvNeXtBlock(dim, kernel_size=kernel, layer_scale_init=scale)
    x = torch.randn(2, dim, 9, 11)
    assert block(x).shape == x.shape
    assert numel(block) == convnext_block_params(dim, kernel, layer_scale=scale is not None)


def test_convnext_block_params_worked_example() -> None:
    # dim 96 (ConvNeXt-T's first stage): 96*49 + 96 + 192 + (96*384 + 384) + (384*96 + 96) + 96
    assert convnext_block_params(96) == 4704 + 96 + 192 + 37248 + 36960 + 96


def test_convnext_block_matches_its_definition() -> None:
    torch.manual_seed(1)
    block = ConvNeXtBlock(5, kernel_size=3, layer_scale_init=0.3).double()
    x = torch.randn(1, 5, 6, 6, dtype=torch.float64)
    dw = F.conv2d(x, block.dwconv.weight, block.dwconv.bias, padding=1, groups=5)
    y = F.layer_norm(dw.permute(0, 2, 3, 1), (5,), block.norm.weight, block.norm.bias, 1e-6)
    y = F.linear(F.gelu(F.linear(y, block.expand.weight, block.expand.bias)),
                 block.project.weight, block.project.bias)
    expected = x + (0.3 * y).permute(0, 3, 1, 2)
    assert torch.allclose(block(x), expected, atol=1e-12)
    # a tiny layer scale makes a fresh block almost the identity
    assert torch.allclose(ConvNeXtBlock(5)(x.float()), x.float(), atol=1e-4)


def test_convnext_block_rejects_even_kernels() -> None:
    with pytest.raises(ValueError, match="odd"):
        ConvNeXtBlock(4, kernel_size=4)


# ---------------------------------------------------------------- depthwise separable
def test_depthwise_separable_worked_example() -> None:
    assert depthwise_separable_params(64, 128, 3) == 8960
    assert depthwise_separable_params(64, 128, 3, bias=False) == 64 * 9 + 128 * 64
    assert conv2d_params(64, 128, 3) == 73856


@settings(max_examples=60, deadline=None)
@given(
    c_in=st.integers(1, 24), c_out=st.integers(1, 24), kh=st.integers(1, 7),
    kw=st.integers(1, 7), bias=st.booleans(),
)
def test_depthwise_separable_counts_match_modules(c_in, c_out, kh, kw, bias) -> None:
    kernel = kh if kh == kw else (kh, kw)
    layer = DepthwiseSeparableConv2d(c_in, c_out, kernel, bias=bias)
    assert numel(layer) == depthwise_separable_params(c_in, c_out, kernel, bias)
    standard = torch.nn.Conv2d(c_in, c_out, (kh, kw), bias=bias)
    assert numel(standard) == conv2d_params(c_in, c_out, kernel, bias)
    if kh * kw > 1 and c_out > 1:  # then only the depthwise biases can make it dearer
        assert depthwise_separable_params(c_in, c_out, kernel, bias) <= conv2d_params(
            c_in, c_out, kernel, bias) + (c_in if bias else 0)


def test_depthwise_separable_module_shapes() -> None:
    layer = DepthwiseSeparableConv2d(3, 8, 3, stride=2, padding=1)
    assert layer(torch.randn(2, 3, 15, 15)).shape == (2, 8, 8, 8)
    assert layer.depthwise.groups == 3


def test_depthwise_separable_bad_input() -> None:
    with pytest.raises(ValueError, match="positive"):
        depthwise_separable_params(0, 3, 3)
    with pytest.raises(TypeError):
        depthwise_separable_params(3, 3, 3, bias=1)
    with pytest.raises(ValueError):
        depthwise_separable_params(3, 3, (3, 3, 3))


# ------------------------------------------------------- hidden-test cases of the assignment
@pytest.mark.parametrize("kind", ["patchify", "patch_embed", "depthwise_separable_params"])
def test_random_cases_fit_the_references(kind) -> None:
    from convkit.grading import random_cases
    from convkit.nn.models import modern

    reference = getattr(modern, kind)
    cases = random_cases(kind, n=40, seed=5)
    shapes = set()
    for args, kwargs in cases:
        result = reference(*args, **kwargs)
        if kind == "patch_embed":
            x, w = args
            b = kwargs.get("bias")
            conv = F.conv2d(torch.tensor(x), torch.tensor(w),
                            None if b is None else torch.tensor(b), stride=w.shape[2:])
            np.testing.assert_allclose(result, conv.flatten(2).transpose(1, 2).numpy(),
                                       atol=1e-12)
            shapes.add((w.shape[2] == w.shape[3], "bias" in kwargs))
        elif kind == "patchify":
            shapes.add(isinstance(args[1], tuple))
    if kind == "patch_embed":
        assert len(shapes) == 4  # square and rectangular patches, with and without bias
    if kind == "patchify":
        assert shapes == {True, False}  # int and pair patch sizes
