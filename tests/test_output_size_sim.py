"""OutputSizeCalculator (ch05): argument checks and agreement of its JS limits with Python."""

import re

import pytest

from convkit.sims import OutputSizeCalculator
from convkit.sims._base import esm_source
from convkit.sims.output_size import LIMITS


def test_defaults_and_state():
    """The constructor stores the five settings as synced traits."""
    sim = OutputSizeCalculator(size=8, kernel_size=3, stride=2, padding=0, dilation=1)
    assert (sim.size, sim.kernel_size, sim.stride, sim.padding, sim.dilation) == (8, 3, 2, 0, 1)
    assert OutputSizeCalculator().size == 32


def test_formula_can_be_left_off_the_page():
    """A page whose readers derive the formula shows the count of starts instead."""
    assert OutputSizeCalculator().show_formula is True
    assert OutputSizeCalculator(show_formula=False).show_formula is False
    with pytest.raises(TypeError, match=r"^OutputSizeCalculator: show_formula"):
        OutputSizeCalculator(show_formula=1)
    source = esm_source("output_size")
    assert 'model.get("show_formula")' in source and 'data-role": "starts"' in source


def test_window_that_does_not_fit_is_allowed():
    """The page explains a non-fitting window, so the widget accepts one."""
    assert OutputSizeCalculator(size=4, kernel_size=3, padding=0, dilation=2).dilation == 2


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"size": 0}, ValueError),
        ({"stride": 0}, ValueError),
        ({"padding": -1}, ValueError),
        ({"kernel_size": 16}, ValueError),
        ({"size": 3.0}, TypeError),
        ({"dilation": True}, TypeError),
    ],
)
def test_bad_arguments(kwargs, error):
    with pytest.raises(error, match=r"^OutputSizeCalculator: "):
        OutputSizeCalculator(**kwargs)


def test_js_limits_match_python():
    """The number boxes' ranges in output_size.js equal LIMITS."""
    source = esm_source("output_size")
    limits_line = source.split("const LIMITS = ", 1)[1].split(";")[0]
    found = dict(re.findall(r"(\w+): \[(\d+, \d+)\]", limits_line))
    assert {k: tuple(int(v) for v in found[k].split(", ")) for k in found} == LIMITS
