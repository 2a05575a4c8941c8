"""The first cell of every released exercise notebook: how to install ``convkit``.

Outside this repository's Makefile (a JupyterHub, Colab, Binder without our
environment) ``import convkit`` may fail; the first cell says, in one line, what to
run.  With a repository in ``course.yml`` that is a ``%pip install`` of the package
straight from the course's git repository and branch; without one, the editable
install from the course folder.  ``nbgrader_config.py`` sets ``AddInstallHint``'s
repository from ``course.yml`` and puts it first in ``GenerateAssignment``'s
preprocessors, so ``generate`` writes the cell; the source notebooks in
``solutions/`` do not hold it.  The cell is plain markdown (no nbgrader metadata):
nbgrader neither grades nor checksums it.
"""

from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

# Marks the cell in its metadata, so a second pass replaces it instead of adding another.
HINT_KEY = "convkit_install_hint"
# The extras an exercise needs: torch (and with it data, nn, training, lessons) and the
# grading helpers, which ship in the base package.
EXTRAS = "torch"


def install_line(repository_url: str, branch: str) -> str:
    """The one line of markdown that tells a student how to install ``convkit``."""
    if repository_url:
        command = f'%pip install "convkit[{EXTRAS}] @ git+{repository_url}@{branch}"'
        return (
            f"If `import convkit` fails (JupyterHub, Colab), run `{command}` "
            "in a cell, then restart the kernel."
        )
    return (
        f'If `import convkit` fails, run `pip install -e ".[{EXTRAS}]"` in a terminal at '
        "the course folder (or `make setup`), then restart the kernel."
    )


def install_cell(repository_url: str, branch: str) -> NotebookNode:
    """A markdown cell holding :func:`install_line`, tagged so it can be found again."""
    cell = new_markdown_cell(install_line(repository_url, branch))
    cell.metadata[HINT_KEY] = True
    cell["id"] = "convkit-install-hint"  # fixed, so generating again changes nothing
    return cell


class AddInstallHint(NbGraderPreprocessor):
    """nbgrader preprocessor: make :func:`install_cell` the notebook's first cell."""

    repository_url = Unicode("", help="course.yml's repository.url ('' for none)").tag(
        config=True
    )
    branch = Unicode("main", help="course.yml's repository.branch").tag(config=True)

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Drop any earlier hint cell and insert the current one at the top."""
        cells = [cell for cell in nb.cells if not cell.get("metadata", {}).get(HINT_KEY)]
        nb.cells = [install_cell(self.repository_url, self.branch), *cells]
        return nb, resources
