"""The per-exercise ``deny=`` list: refusing what one exercise asks the student to write.

While ``pad2d`` is graded, padding with ``np.pad`` or torch's pad is the shortcut;
in every other exercise padding with them is fine. Each route to torch's padding
(the Python wrapper, its C function, torch.ops, an alias made earlier) is tried.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import convkit
from convkit.grading import ShortcutError, check_function, library_padding, no_shortcuts

PAD_DENY = library_padding()
np_pad_alias = np.pad  # an alias made before grading


def _cases() -> list[tuple[tuple, dict]]:
    x = np.arange(24, dtype=float).reshape(1, 2, 3, 4)
    return [((x, 1), {}), ((x, (2, 1)), {"value": -1.0})]


def _pads_with_numpy(x, padding, value=0.0):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    widths = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    return np_pad_alias(x, widths, constant_values=value)


def _pads_with_torch(x, padding, value=0.0):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return F.pad(torch.from_numpy(x), (pw, pw, ph, ph), value=value).numpy()


def _pads_with_torch_ops(x, padding, value=0.0):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    t = torch.ops.aten.constant_pad_nd(torch.from_numpy(x), [pw, pw, ph, ph], value)
    return t.numpy()


def _pads_with_builtin(x, padding, value=0.0):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return torch.constant_pad_nd(torch.from_numpy(x), [pw, pw, ph, ph], value).numpy()


def _pads_by_hand(x, padding, value=0.0):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    out = np.full((*x.shape[:-2], x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw), value)
    out[..., ph : ph + x.shape[-2], pw : pw + x.shape[-1]] = x
    return out


@pytest.mark.parametrize(
    "shortcut", [_pads_with_numpy, _pads_with_torch, _pads_with_torch_ops, _pads_with_builtin]
)
def test_denied_padding_is_refused(shortcut) -> None:
    """Every route to a library's padding fails the pad2d check, naming the call."""
    assert np.array_equal(shortcut(*_cases()[0][0]), convkit.pad2d(*_cases()[0][0]))
    with pytest.raises(ShortcutError, match="asks you to write"):
        check_function(shortcut, convkit.pad2d, _cases(), deny=PAD_DENY)


def test_hand_written_padding_passes_with_deny() -> None:
    """An honest pad2d passes: deny refuses only what it lists."""
    check_function(_pads_by_hand, convkit.pad2d, _cases(), deny=PAD_DENY)


def test_padding_is_allowed_without_deny() -> None:
    """Without a deny list np.pad is an ordinary numpy function (conv2d may pad with it)."""
    check_function(_pads_with_numpy, convkit.pad2d, _cases())


def test_caught_refusal_still_fails() -> None:
    """Catching the refusal inside the student's code does not help."""

    def sneaky(x, padding, value=0.0):
        try:
            return _pads_with_numpy(x, padding, value)
        except ShortcutError:
            return _pads_by_hand(x, padding, value)

    with pytest.raises(ShortcutError):
        check_function(sneaky, convkit.pad2d, _cases(), deny=PAD_DENY)


def test_no_shortcuts_accepts_deny_directly() -> None:
    """The context manager takes the same deny list."""
    x = np.ones((2, 2))
    with pytest.raises(ShortcutError), no_shortcuts(deny=(np.pad,)):
        np_pad_alias(x, 1)
