"""Chapter 5's random case kinds: valid for their references, varied, reproducible."""

import pytest

import convkit
from convkit.grading import random_cases
from convkit.shapes.trace import shape_trace


def test_output_size_cases_fit_and_vary():
    cases = random_cases("output_size", n=200, seed=1)
    sizes = [convkit.output_size(*a, **k) for a, k in cases]
    assert min(sizes) >= 1 and len(set(sizes)) > 10
    assert any(k.get("dilation", 1) > 1 for _, k in cases)
    plain = random_cases("output_size", n=100, seed=1, dilation=False)
    assert all(k.get("dilation", 1) == 1 for _, k in plain)


def test_no_fit_cases_all_raise():
    for args, kwargs in random_cases("output_size_no_fit", n=200, seed=2):
        with pytest.raises(ValueError, match="does not fit"):
            convkit.output_size(*args, **kwargs)


def test_shape_trace_cases_fit():
    cases = random_cases("shape_trace", n=200, seed=3)
    assert all(len(shape_trace(*a, **k)) == len(a[1]) for a, k in cases)
    assert any(spec[0] == "pool" for (_, layers), _ in cases for spec in layers)
    convs = random_cases("shape_trace", n=100, seed=3, pool=False)
    assert all(spec[0] == "conv" for (_, layers), _ in convs for spec in layers)
    assert {len(spec) for (_, layers), _ in convs for spec in layers} == {3, 4, 5, 6}


def test_receptive_field_cases():
    cases = random_cases("receptive_field", n=100, seed=4)
    fields = [convkit.receptive_field(*a) for a, _ in cases]
    assert 1 in fields and max(fields) > 50
    assert random_cases("receptive_field", n=5, seed=4) == cases[:5]
