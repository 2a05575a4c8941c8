"""Old import paths that released exercise notebooks use, mapped to today's modules.

Students may still hold last term's notebooks, which import ``convkit.dense``,
``convkit.models`` and a few other modules from before the package was layered.
Each old path is one line of :data:`LEGACY_PATHS`; importing it gives the new
module itself (the same object, so ``convkit.models.digit_cnn is
convkit.nn.models.digit_cnn``). Nothing is imported until an old path is used.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

__all__ = ["LEGACY_PATHS", "install_legacy_paths"]

#: old module path -> the module that holds its names now
LEGACY_PATHS: dict[str, str] = {
    "convkit.dense": "convkit.lessons.equivariance",
    "convkit.filters": "convkit.lessons.filters",
    "convkit.models": "convkit.nn.models",
    "convkit.shapes_trace": "convkit.shapes.trace",
    "convkit.train": "convkit.training",
}


class _AliasLoader(importlib.abc.Loader):
    """Hands out the already-imported new module under its old name."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self.target)
        self._spec = module.__spec__  # the import system overwrites __spec__; put it back
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self._spec
        module.__name__ = self.target


class _LegacyFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = LEGACY_PATHS.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(new))


def install_legacy_paths() -> None:
    """Make every old path in :data:`LEGACY_PATHS` importable (once per process)."""
    if not any(isinstance(f, _LegacyFinder) for f in sys.meta_path):
        sys.meta_path.append(_LegacyFinder())
