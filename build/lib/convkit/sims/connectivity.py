"""ConnectivitySim (ch00): fully-connected vs convolutional connectivity."""

from __future__ import annotations

import traitlets

from convkit._checks import int_at_least
from convkit.shapes import output_size
from convkit.sims._base import SimWidget

_MAX_INPUTS = 16  # more input units do not stay readable


class ConnectivitySim(SimWidget):
    """A row of ``n_inputs`` input units and ``n_inputs - kernel_size + 1`` output units.

    A toggle switches between a fully-connected layer (every output reads every
    input through weights of its own) and a 1-D convolution (each output reads
    ``kernel_size`` neighbouring inputs through the same shared weights).  Clicking
    an output unit highlights the inputs it touches; edges are coloured by weight,
    so shared weights share a colour.  The weight count of each mode is shown.
    """

    _sim_name = "connectivity"
    n_inputs = traitlets.Int(8).tag(sync=True)
    kernel_size = traitlets.Int(3).tag(sync=True)
    mode = traitlets.Enum(["dense", "conv"], default_value="conv").tag(sync=True)
    selected = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        n_inputs: int = 8,
        kernel_size: int = 3,
        *,
        mode: str = "conv",
        selected: int | None = None,
    ) -> None:
        func = "ConnectivitySim"
        n = int_at_least(func, "n_inputs", n_inputs, 2)
        k = int_at_least(func, "kernel_size", kernel_size, 1)
        if k > n:
            raise ValueError(f"{func}: kernel_size ({k}) must not exceed n_inputs ({n})")
        if n > _MAX_INPUTS:
            raise ValueError(
                f"{func}: n_inputs must be at most {_MAX_INPUTS} to stay readable, got {n}"
            )
        n_out = output_size(n, k)
        sel = n_out // 2 if selected is None else int_at_least(func, "selected", selected, 0)
        if sel >= n_out:
            raise ValueError(
                f"{func}: selected must be below the number of outputs ({n_out}), got {sel}"
            )
        super().__init__(n_inputs=n, kernel_size=k, mode=mode, selected=sel)

    @property
    def n_outputs(self) -> int:
        """Number of output units (a valid 1-D convolution: n_inputs - kernel_size + 1)."""
        return output_size(self.n_inputs, self.kernel_size)
