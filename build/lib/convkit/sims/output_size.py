"""OutputSizeCalculator (ch05): the output-size formula with the reader's numbers in it."""

from __future__ import annotations

import traitlets

from convkit._checks import int_in_range
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

    Shows O = floor((W + 2P - D(K-1) - 1) / S) + 1 with the chosen numbers substituted,
    step by step, and a strip of the padded input marking the window starts and the
    cells no window reads (what the floor throws away).  When the dilated window
    D(K-1)+1 is wider than W + 2P it shows why no output exists instead of a size.
    All arguments are ints within LIMITS; a combination that does not fit is allowed
    (the page explains it).
    """

    _sim_name = "output_size"
    size = traitlets.Int(32).tag(sync=True)
    kernel_size = traitlets.Int(5).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    padding = traitlets.Int(2).tag(sync=True)
    dilation = traitlets.Int(1).tag(sync=True)

    def __init__(
        self, size: int = 32, kernel_size: int = 5, stride: int = 1, padding: int = 2,
        dilation: int = 1,
    ) -> None:
        values = {"size": size, "kernel_size": kernel_size, "stride": stride,
                  "padding": padding, "dilation": dilation}
        for name, value in values.items():
            values[name] = int_in_range("OutputSizeCalculator", name, value, *LIMITS[name])
        super().__init__(**values)
