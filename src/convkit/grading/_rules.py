"""What a graded function may not call, and why: the verdicts the guard applies.

Every rule looks at what is actually executed, never at a name in the student's
namespace, so aliases, ``getattr``, ``importlib`` and re-imports change nothing:

- Python functions are recognised by their code object's file and name
  (``frame.f_code``); a copy of convkit's code (``exec`` of its source,
  ``code.replace``) is recognised by its bytecode.
- C functions (``torch.conv2d``, ``torch._C._nn.im2col``, a Tensor's
  ``unfold`` method, numpy's ``correlate``) are recognised from the builtin
  object the interpreter is about to call: its name and the module or object it
  belongs to.
- ``torch.ops.aten.*`` calls are recognised by the operator's name.

A verdict is ``None`` (allowed) or a sentence saying why the call is refused.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import os
import re
import sys
import sysconfig
import threading
import types

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import any, getattr, isinstance, len, str, type  # noqa: UP029
from collections.abc import Iterable

import convkit

# Operator / function names of torch's normalisation layers (ch10 asks for batch norm and
# group norm in numpy): F.batch_norm, torch.native_batch_norm, aten::_native_batch_norm_legit,
# cudnn_batch_norm, group_norm, layer_norm, instance_norm, rms_norm and their backward
# passes. Lp norms (torch.norm, linalg_vector_norm, renorm, _weight_norm) are not matched.
NORMALIZATION = r"(batch|group|layer|instance|rms)_norm"
# Operator / function names of torch's dropout (ch11 asks for dropout in numpy): F.dropout,
# dropout2d / 3d, alpha and feature-alpha dropout, torch.dropout, aten::native_dropout and
# _fused_dropout with their backward passes. torch.bernoulli and torch.rand stay allowed:
# drawing the mask is the student's own work.
DROPOUT = r"dropout"
# Fused optimizer kernels (ch11 asks for an AdamW step in numpy): aten::_fused_adam_,
# _fused_adamw_, _fused_sgd_, _fused_adagrad_. The Python optimizers are refused by file
# (torch/optim/); the _foreach_ arithmetic they use is plain arithmetic and stays allowed.
FUSED_OPTIMIZER = r"^_?fused_(adam|sgd|adagrad)"
# Operator / function names that are convolution, pooling, window extraction, normalisation,
# dropout or a fused optimizer step.
FORBIDDEN_OP = re.compile(
    rf"^(?!.*philox).*(conv(?!ert)|pool|im2col|col2im|unfold|^fold|{NORMALIZATION}|{DROPOUT})"
    rf"|{FUSED_OPTIMIZER}"
)
NORMALIZATION_OP = re.compile(NORMALIZATION)
DROPOUT_OP = re.compile(DROPOUT)
# torch._C functions that switch off or rearrange torch's dispatch (and so our mode).
TORCH_TAMPER = re.compile(
    r"dispatch_mode|torch_function_mode|DisableTorch|_dispatch_tls|_set_dispatch|"
    r"_pop_mode|_push_on|ExcludeDispatchKey|_unset_"
)
# torch's own counters of what a network costs (ch12 asks for a cost counter): the FLOP
# counter (torch/utils/flop_counter.py: FlopCounterMode and its per-operator formulas) and the
# profilers that estimate FLOPs (torch.profiler.profile, torch.autograd.profiler.profile and
# the legacy profiler, with_flops=True), by file; the C functions that start or stop a
# profiling session (torch.autograd._enable_profiler, _prepare_profiler, ...), by name.
# Refused in every exercise, torch's layers allowed or not. torch.autograd.profiler's
# record_function, which torch.optim and the DataLoader run, stays allowed.
TORCH_COUNTER_FILES = (
    "utils/flop_counter.py", "profiler/profiler.py", "autograd/profiler_legacy.py",
)
TORCH_PROFILER_CLASS = ("autograd/profiler.py", "profile.")  # (file, qualname prefix)
TORCH_PROFILER_SWITCH = re.compile(r"^_(enable|prepare|disable)_profiler")
COUNTER_ADVICE = (
    "They count the multiply-adds this exercise asks you to count: work them out from "
    "each layer's sizes (running the model's layers to learn their output shapes is fine)."
)
NUMPY_CONV_NAMES = frozenset({"convolve", "correlate", "correlate2"})
# C functions that would switch the guard off, inspect it or run code out of its sight.
TAMPER_BUILTINS = {
    "sys": {"setprofile", "getprofile", "settrace", "_setprofileallthreads"},
    "gc": {"get_referrers", "get_referents", "get_objects"},
    "_thread": {"start_new_thread", "start_new", "start_joinable_thread"},
    "posix": {"fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "execv", "execve"},
    "_posixsubprocess": {"fork_exec"},
}
OFF_LIMITS_ADVICE = (
    "This exercise asks you to write the computation yourself (plain Python and numpy); "
    "while your function is graded it may not call convkit's reference implementations, "
    "torch's convolution / pooling / unfold / normalisation / dropout layers, torch.nn.init "
    "or torch.optim, torchvision's transforms, scipy.signal or scipy.ndimage, or "
    "np.convolve / np.correlate."
)
# Only substantial functions are fingerprinted, so a student's short helper or
# comprehension cannot collide with one of convkit's by accident.
MIN_FINGERPRINT_BYTES = 80
MIN_FINGERPRINT_NAMES = 2


class ImportExempt(str):
    """A refusal that does not apply while a module is being imported.

    ``import torch`` inside a graded function loads libraries with ctypes and
    builds TorchScript classes; that is not a shortcut. The guard checks the call
    stack for importlib before applying such a verdict.
    """


# Put in ``allow=`` for an exercise that builds networks from torch's layers (ch06, ch08,
# ch10): torch's convolution, pooling, normalisation and linear layers, and torch.nn.init
# (their constructors initialise with it), are then allowed; convkit's code is still
# refused (a student's module may not be, or run, convkit's), but not by bytecode
# fingerprint, since a prescribed layout makes a correct forward() identical to convkit's.
TORCH_LAYERS = "torch layers"
_NEVER = re.compile(r"(?!)")  # matches nothing
# Put in ``allow=`` for an exercise that builds a convolution from torch's window
# extraction (ch07's UnfoldConv2d): unfold / fold (F.unfold, nn.Unfold, Tensor.unfold,
# their im2col / col2im operators and backward passes) and torch.nn.init (a layer's
# constructor may initialise its weight like nn.Conv2d's) are allowed; convolution,
# pooling and normalisation, and convkit's code, stay refused.
TORCH_UNFOLD = "torch unfold"
CONV_OR_POOL_OP = re.compile(
    rf"^(?!.*philox).*(conv(?!ert)|pool|{NORMALIZATION}|{DROPOUT})|{FUSED_OPTIMIZER}"
)

CTYPES_VERDICT = ImportExempt("it uses ctypes, which could run code the grader cannot see.")
# Code in convkit/grading/cases.py that a graded function may call: the operations
# the hidden tests hand to it as arguments (registered when they are made).
STUDENT_CALLABLE_CODES: set[types.CodeType] = set()


@functools.cache
def _package_dir(name: str) -> str | None:
    """Directory of an installed package (without importing it), with a trailing slash."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return os.path.dirname(os.path.abspath(spec.origin)) + os.sep


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    """Where installed (non-student) code lives: stdlib and site-packages."""
    dirs = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(os.path.abspath(path) + os.sep)
    return tuple(sorted(dirs))


def _walk_code(code: types.CodeType) -> Iterable[types.CodeType]:
    """``code`` and every code object nested in it (inner functions, comprehensions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _walk_code(const)


def _fingerprint(code: types.CodeType) -> tuple[bytes, tuple[str, ...]]:
    return code.co_code, code.co_names


def library_padding() -> tuple[object, ...]:
    """The ``deny=`` list for an exercise that asks for padding (``pad2d``): numpy's
    ``np.pad`` and every route to torch's padding (``F.pad``, its C functions and the
    ``constant_pad_nd`` / ``pad`` operators). torch is included only if installed."""
    import numpy

    denied: list[object] = [numpy.pad, "constant_pad_nd", "pad"]
    if importlib.util.find_spec("torch") is not None:
        import torch
        import torch.nn.functional

        denied += [torch.nn.functional.pad, torch._C._nn.pad, torch.constant_pad_nd]
    return tuple(denied)


def _torch_kind(name: str) -> str:
    """What a refused torch function named ``name`` is, in words for the student."""
    if NORMALIZATION_OP.search(name):
        return "torch's own normalisation"
    if DROPOUT_OP.search(name):
        return "torch's own dropout"
    return "torch's own convolution/pooling/unfold"


def _denied_label(obj: object) -> str:
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
    return f"{module}.{name}" if module else str(name)


class Rules:
    """The verdicts for one guard: built once per guard entry (cheap), cached per code."""

    def __init__(self, allow: Iterable[object] = (), deny: Iterable[object] = ()) -> None:
        allow = tuple(allow)
        self.torch_layers = any(obj is TORCH_LAYERS for obj in allow)
        self.forbidden_op = _NEVER if self.torch_layers else FORBIDDEN_OP
        self.torch_unfold = any(obj is TORCH_UNFOLD for obj in allow)
        if self.torch_unfold and not self.torch_layers:
            self.forbidden_op = CONV_OR_POOL_OP
        self.convkit_dir = os.path.dirname(os.path.abspath(convkit.__file__)) + os.sep
        self.grading_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
        self.grading_cases = os.path.join(self.grading_dir, "cases.py")
        self.torch_dir = _package_dir("torch")
        self.scipy_dir = _package_dir("scipy")
        # torchvision's transforms (RandomCrop, RandomHorizontalFlip, ...: ch11 asks for
        # them in numpy): refused by file, like scipy.signal; torchvision may be absent.
        torchvision_dir = _package_dir("torchvision")
        self.torchvision_transforms = (
            os.path.join(torchvision_dir, "transforms") + os.sep
            if torchvision_dir and not self.torch_layers
            else None
        )
        self.ctypes_dir = _package_dir("ctypes")
        self.numpy_numeric = os.path.join(_package_dir("numpy") or "", "_core", "numeric.py")
        self.threading_file = os.path.abspath(threading.__file__)
        self.library_dirs = _library_dirs()
        self.torch_ops_file = (
            os.path.join(self.torch_dir, "_ops.py") if self.torch_dir else None
        )
        self.torch_files = () if self.torch_layers else self._torch_forbidden_paths()
        self.torch_counters = (
            tuple(os.path.join(self.torch_dir, rel) for rel in TORCH_COUNTER_FILES)
            if self.torch_dir
            else ()
        )
        # torch.nn.init (fans, gains, Kaiming / Xavier): refused unless the exercise builds
        # torch layers, whose constructors call it
        self.torch_init_file = (
            os.path.join(self.torch_dir, "nn", "init.py")
            if self.torch_dir and not (self.torch_layers or self.torch_unfold)
            else None
        )
        self.fingerprints = {} if self.torch_layers else self._convkit_fingerprints()
        if self.torch_unfold:  # nn.Unfold / nn.Fold live in nn/modules/fold.py
            self.torch_files = tuple(p for p in self.torch_files if not p.endswith("fold.py"))
        self.allowed_codes: set[types.CodeType] = set()
        self.allowed_builtins: list[object] = []
        for obj in allow:
            if obj is TORCH_LAYERS or obj is TORCH_UNFOLD:
                continue
            code = getattr(obj, "__code__", None)
            if isinstance(code, types.CodeType):
                self.allowed_codes.add(code)
            else:
                self.allowed_builtins.append(obj)
        self._tensor_types: dict[type, bool] = {}
        # Extra, exercise-specific refusals (e.g. np.pad while pad2d is graded): Python
        # functions by code object (numpy's dispatchers by their implementation), C
        # functions by identity, and strings as torch operator names.
        self.denied_codes: dict[types.CodeType, str] = {}
        self.denied_builtins: list[tuple[object, str]] = []
        self.denied_op_names: frozenset[str] = frozenset(d for d in deny if isinstance(d, str))
        for obj in deny:
            if isinstance(obj, str):
                continue
            target = getattr(obj, "_implementation", obj)  # numpy's array-function wrapper
            code = getattr(target, "__code__", None)
            if isinstance(code, types.CodeType):
                self.denied_codes[code] = _denied_label(obj)
            else:
                self.denied_builtins.append((obj, _denied_label(obj)))

    def denied_op_verdict(self, op_name: str) -> str | None:
        """Verdict for a torch operator named ``op_name`` (e.g. ``aten::constant_pad_nd``)."""
        base = op_name.split("::")[-1].split(".")[0]
        if base in self.denied_op_names:
            return f"it makes torch run {op_name}, which this exercise asks you to write. "
        return None

    # -- building -----------------------------------------------------------------
    def _torch_forbidden_paths(self) -> tuple[str, ...]:
        if not self.torch_dir:
            return ()
        rel = (
            "nn/modules/conv.py", "nn/modules/pooling.py", "nn/modules/fold.py",
            "nn/modules/linear.py", "nn/modules/batchnorm.py", "nn/modules/normalization.py",
            "nn/modules/instancenorm.py", "nn/grad.py", "_decomp/", "_refs/",
            "jit/_script.py", "jit/_trace.py", "ao/nn/", "nn/modules/dropout.py", "optim/",
        )
        return tuple(os.path.join(self.torch_dir, r) for r in rel)

    def _convkit_fingerprints(self) -> dict[tuple[bytes, tuple[str, ...]], str]:
        """Bytecode of convkit's own functions (not grading's), to spot copies."""
        prints: dict[tuple[bytes, tuple[str, ...]], str] = {}
        for name, module in list(sys.modules.items()):
            if not (name == "convkit" or name.startswith("convkit.")):
                continue
            if name.startswith("convkit.grading") or module is None:
                continue
            for value in list(vars(module).values()):
                functions = [value]
                if isinstance(value, type):
                    functions = list(vars(value).values())
                for fn in functions:
                    code = getattr(fn, "__code__", None)
                    if not isinstance(code, types.CodeType):
                        continue
                    if not code.co_filename.startswith(self.convkit_dir):
                        continue
                    for inner in _walk_code(code):
                        if (
                            len(inner.co_code) >= MIN_FINGERPRINT_BYTES
                            and len(inner.co_names) >= MIN_FINGERPRINT_NAMES
                            and not inner.co_name.startswith("<")
                        ):
                            prints[_fingerprint(inner)] = f"convkit's {name}.{code.co_name}"
        return prints

    # -- verdicts on Python code ---------------------------------------------------
    def code_verdict(self, code: types.CodeType) -> str | None:
        """Why running ``code`` is refused, or None."""
        denied = self.denied_codes.get(code)
        if denied is not None:
            return f"it calls {denied}, which this exercise asks you to write yourself."
        filename = code.co_filename
        name = code.co_name
        if not code.co_flags & inspect.CO_OPTIMIZED:
            return None  # a module or class body: importing runs nothing off limits by itself
        if filename.startswith(self.convkit_dir):
            if filename.startswith(self.grading_dir):
                if filename != self.grading_cases or code in STUDENT_CALLABLE_CODES:
                    return None
                return (
                    f"it calls the grader's own case generator ({code.co_qualname}). "
                    + OFF_LIMITS_ADVICE
                )
            module = filename[len(self.convkit_dir):].removesuffix(".py").replace(os.sep, ".")
            return (
                f"it calls convkit's reference code ({code.co_qualname} in convkit.{module}); "
                "the hidden tests compare your function with that reference, so calling it "
                "proves nothing. " + OFF_LIMITS_ADVICE
            )
        if self.torch_dir and filename.startswith(self.torch_dir):
            rel = filename[len(self.torch_dir):]
            profiler_file, profiler_class = TORCH_PROFILER_CLASS
            if filename in self.torch_counters or (
                rel == profiler_file and code.co_qualname.startswith(profiler_class)
            ):
                return ImportExempt(
                    f"it uses torch's own cost counters (torch/{rel}: {code.co_qualname}: "
                    "the FLOP counter or a profiler that counts FLOPs). " + COUNTER_ADVICE
                )
            if filename.startswith(self.torch_files):
                return ImportExempt(
                    f"it uses torch (torch/{rel}: {code.co_qualname}). " + OFF_LIMITS_ADVICE
                )
            if rel == "__init__.py" and name == "compile":
                return "it calls torch.compile, whose generated code the grader cannot see."
            if filename == self.torch_init_file:  # (importing torch calls none of it)
                return (
                    f"it calls torch.nn.init ({code.co_qualname}), torch's own fans, gains and "
                    "initialisation scales. " + OFF_LIMITS_ADVICE
                )
            if rel == "nn/functional.py" and self.forbidden_op.search(name.lstrip("_")):
                return (
                    f"it calls torch.nn.functional.{name.lstrip('_')} "
                    f"({_torch_kind(name)}). " + OFF_LIMITS_ADVICE
                )
            return None
        if self.torchvision_transforms and filename.startswith(self.torchvision_transforms):
            return f"it calls torchvision's transforms ({code.co_qualname}). " + OFF_LIMITS_ADVICE
        if self.scipy_dir and filename.startswith(self.scipy_dir):
            rel = filename[len(self.scipy_dir):]
            if rel.startswith(("signal" + os.sep, "ndimage" + os.sep)):
                sub = rel.split(os.sep)[0]
                return f"it calls scipy.{sub} ({code.co_qualname}). " + OFF_LIMITS_ADVICE
            return None
        if filename == self.numpy_numeric and name in NUMPY_CONV_NAMES:
            return f"it calls np.{name} (numpy's built-in 1-D convolution). " + OFF_LIMITS_ADVICE
        if self.ctypes_dir and filename.startswith(self.ctypes_dir):
            return CTYPES_VERDICT
        if filename == self.threading_file and name in ("setprofile", "settrace",
                                                         "setprofile_all_threads"):
            return "it changes the interpreter's profiling hooks, which the grader relies on."
        if not filename.startswith(self.library_dirs):
            origin = self.fingerprints.get(_fingerprint(code))
            if origin is not None:
                return f"it runs a copy of {origin}. " + OFF_LIMITS_ADVICE
        return None

    def ops_call_verdict(self, op: object) -> str | None:
        """Verdict for ``torch.ops.<ns>.<op>(...)`` given the OpOverload(Packet) object."""
        qualified = getattr(op, "_qualified_op_name", None) or getattr(op, "_name", "")
        base = str(qualified).split("::")[-1]
        denied = self.denied_op_verdict(str(qualified))
        if denied is not None:
            return denied
        if self.forbidden_op.search(base):
            return f"it calls torch.ops ({qualified}), torch's own operator. " + OFF_LIMITS_ADVICE
        return None

    # -- verdicts on C functions ----------------------------------------------------
    def _is_tensor(self, kind: type) -> bool:
        known = self._tensor_types.get(kind)
        if known is None:
            mro = type.__dict__["__mro__"].__get__(kind)
            known = any(
                base.__name__ in ("Tensor", "TensorBase")
                and str(base.__module__).startswith("torch")
                for base in mro
            )
            self._tensor_types[kind] = known
        return known

    def builtin_verdict(self, func: object, caller: types.FrameType) -> str | None:
        """Why calling the C function ``func`` (from frame ``caller``) is refused, or None."""
        if type(func) is not types.BuiltinFunctionType:
            return None
        for allowed in self.allowed_builtins:
            if func == allowed:
                return None
        for denied, label in self.denied_builtins:
            if func == denied:
                return f"it calls {label}, which this exercise asks you to write yourself."
        name = func.__name__
        if name in self.denied_op_names and str(getattr(func, "__module__", "") or "").startswith(
            "torch"
        ):
            return f"it calls torch's {name}, which this exercise asks you to write yourself."
        if TORCH_PROFILER_SWITCH.search(name) and str(
            getattr(func, "__module__", "") or ""
        ).startswith("torch"):  # pybind11 functions of torch._C._autograd
            return (
                f"it calls torch's {name}, which runs torch's profiler (it counts FLOPs). "
                + COUNTER_ADVICE
            )
        owner = func.__self__
        owner_type = type(owner)
        if owner_type is types.ModuleType:
            module = owner.__name__
            tamper = TAMPER_BUILTINS.get(module)
            if tamper is not None and name in tamper:
                return (
                    f"it calls {module}.{name}, which could switch off or get around the "
                    "grading guard (profiling hooks, gc inspection, threads and processes "
                    "are not allowed while a graded function runs)."
                )
            if module.startswith("torch"):
                if TORCH_TAMPER.search(name):
                    return f"it calls {module}.{name}, which switches off torch's dispatch checks."
                if self.forbidden_op.search(name):
                    return f"it calls {module}.{name} (torch's own operator). " + OFF_LIMITS_ADVICE
                return None
            if module.startswith("numpy") and name in NUMPY_CONV_NAMES:
                return (
                    f"it calls numpy's {name} (numpy's built-in 1-D convolution). "
                    + OFF_LIMITS_ADVICE
                )
            if module.startswith(("scipy.signal", "scipy.ndimage")):
                return f"it calls {module}.{name}. " + OFF_LIMITS_ADVICE
            return None
        if owner is None:
            module = str(func.__module__ or "")
            if module.startswith("torch") and self.forbidden_op.search(name):
                return f"it calls torch.{name} (torch's own operator). " + OFF_LIMITS_ADVICE
            return None
        if owner_type.__name__.startswith("pybind11_"):
            # torch.ops operator handles: named ones by name; the unnamed handle of an
            # overload only from torch/_ops.py itself (whose __call__ we check by name).
            if name == "":
                if caller is not None and caller.f_code.co_filename == self.torch_ops_file:
                    return None
                return "it calls a torch operator handle directly. " + OFF_LIMITS_ADVICE
            if self.forbidden_op.search(name):
                return f"it calls torch operator {name}. " + OFF_LIMITS_ADVICE
            return None
        if owner_type is types.ModuleType or owner_type.__module__ == "numpy":
            return None
        if self._is_tensor(owner_type) and self.forbidden_op.search(name):
            return (
                f"it calls Tensor.{name} (torch's window extraction / pooling). "
                + OFF_LIMITS_ADVICE
            )
        if owner_type.__name__ in ("_VariableFunctionsClass",) and self.forbidden_op.search(name):
            return f"it calls torch.{name} (torch's own operator). " + OFF_LIMITS_ADVICE
        return None
