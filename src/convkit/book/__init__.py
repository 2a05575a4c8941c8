"""The book build: ``python -m convkit.book build`` from the course root.

- ``builder``: the command, the Jupyter Book run and its failing-cell report;
- ``pre_execute``: the uncached notebooks executed side by side before the build;
- ``exec_cache`` and ``imports``: the execution cache keyed on each notebook's cells
  and the convkit files it imports (followed statically, never imported);
- ``sphinx_ext`` and ``assets``: the Sphinx extension and the offline JavaScript.

Imports only ``convkit._env`` of convkit (the import-linter contract ``book``).
"""

from convkit.book.builder import BookBuildError, build

__all__ = ["BookBuildError", "build"]
