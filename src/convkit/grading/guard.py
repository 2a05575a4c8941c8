"""``no_shortcuts()``: run a student's code with the off-limits functions refused.

Two independent layers, both installed only for the duration of the ``with`` block:

1. A profile hook (``sys.setprofile``) sees every Python function the student's
   code enters (by code object) and every C function it is about to call (by the
   builtin object), whatever name it was reached by, and refuses the ones
   :class:`convkit.grading._rules.Rules` forbids, before they run.
2. If torch is loaded, a torch dispatch mode sees every operator torch executes
   (also ones reached from C++ — TorchScript, an operator handle) and refuses
   convolution, pooling, im2col/col2im, unfold, normalisation (batch, group,
   layer, instance and RMS norm), dropout and fused optimizer steps.

Every refusal is recorded before it is raised, so a student who catches the
exception still fails: leaving the block raises :class:`ShortcutError` with the
first recorded reason.  Leaving the block also checks that both layers were
still in place (calling ``sys.setprofile`` or popping torch's mode counts as
switching the guard off).
"""

from __future__ import annotations

import sys
import types

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import any, type
from collections.abc import Iterable
from typing import Any

from convkit.grading._rules import OFF_LIMITS_ADVICE, ImportExempt, Rules
from convkit.grading.errors import ShortcutError

_MODE_CLASS: type | None = None


def _dispatch_mode_class() -> type:
    """A TorchDispatchMode subclass that records and refuses forbidden operators."""
    global _MODE_CLASS
    if _MODE_CLASS is None:
        # torch imports its compiler stack lazily the first time a mode dispatches;
        # load it now, before the guard is watching.
        import torch._dynamo  # noqa: F401
        from torch.utils._python_dispatch import TorchDispatchMode

        class _NoShortcutsMode(TorchDispatchMode):
            def __init__(self, record: Any, rules: Rules) -> None:
                super().__init__()
                self._record = record
                self._rules = rules

            def __torch_dispatch__(self, func, types_, args=(), kwargs=None):
                name = str(func.name()) if hasattr(func, "name") else str(func)
                denied = self._rules.denied_op_verdict(name)
                if denied is not None:
                    self._record(denied)
                if self._rules.forbidden_op.search(name.split("::")[-1].split(".")[0]):
                    self._record(f"it makes torch run {name}. " + OFF_LIMITS_ADVICE)
                return func(*args, **(kwargs or {}))

        _MODE_CLASS = _NoShortcutsMode
    return _MODE_CLASS


class no_shortcuts:
    """Context manager: refuse convkit references, torch/scipy/numpy convolutions, torch's
    normalisation layers and torch.nn.init.

    allow: functions the exercise is allowed to call (their internals are not checked
    either), e.g. ``allow=(convkit.pad2d,)``.
    deny: functions the exercise forbids on top of the standing rules, e.g.
    ``deny=(np.pad, F.pad, "constant_pad_nd")`` while ``pad2d`` is graded: Python
    functions (and numpy's dispatchers), C functions, or torch operator names as strings.

    On leaving the block it raises ShortcutError if something off limits was called
    (even if the student's code caught the first error) or the guard was switched off.
    """

    def __init__(self, *, allow: Iterable[object] = (), deny: Iterable[object] = ()) -> None:
        self._allow = tuple(allow)
        self._deny = tuple(deny)
        self.violations: list[str] = []
        self._rules: Rules | None = None
        self._mode: Any = None
        self._profile: Any = None
        self._previous_profile: Any = None

    def _record(self, reason: str) -> None:
        self.violations.append(reason)
        raise ShortcutError(reason)

    def _make_profile(self, rules: Rules) -> Any:
        verdicts: dict[types.CodeType, str | None] = {}
        code_verdict = rules.code_verdict
        builtin_verdict = rules.builtin_verdict
        ops_file = rules.torch_ops_file
        allowed_codes = rules.allowed_codes
        record = self._record
        inside_allowed: list[types.FrameType] = []
        exit_code = no_shortcuts.__exit__.__code__

        def profile(frame: types.FrameType, event: str, arg: Any) -> None:
            if inside_allowed:
                if event == "return" and frame is inside_allowed[-1]:
                    inside_allowed.pop()
                return
            if event == "call":
                code = frame.f_code
                if code in allowed_codes:
                    inside_allowed.append(frame)
                    return
                try:
                    verdict = verdicts[code]
                except KeyError:
                    verdict = verdicts[code] = code_verdict(code)
                if verdict is None and code.co_filename == ops_file and code.co_name == "__call__":
                    verdict = rules.ops_call_verdict(frame.f_locals.get("self"))
                if type(verdict) is ImportExempt and _importing(frame):
                    return
                if verdict is not None:
                    record(verdict)
            elif event == "c_call":
                if frame.f_code is exit_code:  # the guard's own __exit__ switching off
                    return
                verdict = builtin_verdict(arg, frame)
                if verdict is not None:
                    record(verdict)

        return profile

    def __enter__(self) -> no_shortcuts:
        self._rules = Rules(self._allow, self._deny)
        if "torch" in sys.modules:
            try:
                self._mode = _dispatch_mode_class()(self._record, self._rules)
                self._mode.__enter__()
            except Exception:  # torch too old/broken for modes: the profile layer remains
                self._mode = None
        self._previous_profile = sys.getprofile()
        self._profile = self._make_profile(self._rules)
        sys.setprofile(self._profile)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        still_installed = sys.getprofile() is self._profile
        sys.setprofile(self._previous_profile)
        mode_ok = True
        if self._mode is not None:
            from torch.utils._python_dispatch import _get_current_dispatch_mode

            mode_ok = _get_current_dispatch_mode() is self._mode
            if mode_ok:
                self._mode.__exit__(None, None, None)
            else:
                _remove_mode(self._mode)
        if self.violations:
            raise ShortcutError(self.violations[0]) from (exc if exc_type else None)
        if not still_installed or not mode_ok:
            raise ShortcutError(
                "the grading guard was switched off while your function ran (it changed "
                "the interpreter's profiling hook or torch's dispatch modes)."
            )
        return False


def _importing(frame: types.FrameType | None) -> bool:
    """True if ``frame`` runs inside an ``import`` statement (importlib is on the stack)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _remove_mode(mode: Any) -> None:
    """Take ``mode`` off torch's dispatch-mode stack wherever it is (after tampering)."""
    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack, _pop_mode

    stack = _get_current_dispatch_mode_stack()
    if any(m is mode for m in stack):
        popped = []
        while True:
            top = _pop_mode()
            if top is mode:
                break
            popped.append(top)
        for other in reversed(popped):
            from torch.utils._python_dispatch import _push_mode

            _push_mode(other)
