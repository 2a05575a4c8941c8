"""OutputSizeCalculator (ch05): the output size for the reader's numbers, as a count of
window positions or as the formula with those numbers in it."""

from __future__ import annotations

import traitlets

from convkit._checks import as_bool, int_in_range
from convkit.sims._base import SimWidget

#: (lowest, highest) value of each control; kept equal to LIMITS in output_size.js.
LIMITS = {
    "size": (1, 256),
    "kernel_size": (1, 15),
    "stride": (1, 8),
    "padding": (0, 16),
    "dilation": (1, 8),
}


class OutputSizeCalculator(SimWidget):
    """Number boxes for W, K, S, P, D and the live output size along one axis.

    With ``show_formula=True`` it shows O = floor((W + 2P - D(K-1) - 1) / S) + 1 with
    the chosen numbers substituted, step by step. With ``show_formula=False`` (a page
    whose readers are to derive that formula themselves) it shows no formula: it
    lists the window starts for the chosen numbers and counts them. Both draw a strip
    of the padded input marking the window starts and the cells no window reads, and
    when the window is wider than the padded input they show why no output exists
    instead of a size. The five sizes are ints within LIMITS; a combination that does
    not fit is allowed (the page explains it).
    """

    _sim_name = "output_size"
    size = traitlets.Int(32).tag(sync=True)
    kernel_size = traitlets.Int(5).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    padding = traitlets.Int(2).tag(sync=True)
    dilation = traitlets.Int(1).tag(sync=True)
    show_formula = traitlets.Bool(True).tag(sync=True)

    def __init__(
        self, size: int = 32, kernel_size: int = 5, stride: int = 1, padding: int = 2,
        dilation: int = 1, *, show_formula: bool = True,
    ) -> None:
        values = {"size": size, "kernel_size": kernel_size, "stride": stride,
                  "padding": padding, "dilation": dilation}
        for name, value in values.items():
            values[name] = int_in_range("OutputSizeCalculator", name, value, *LIMITS[name])
        formula = as_bool("OutputSizeCalculator", "show_formula", show_formula)
        super().__init__(**values, show_formula=formula)
