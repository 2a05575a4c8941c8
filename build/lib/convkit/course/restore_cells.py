"""Put deleted test cells back into a submission before it is autograded.

nbgrader's ``OverwriteCells.add_missing_cells`` re-inserts a deleted grade cell
after the previous *grade or solution* cell of the source, and fails with a
KeyError when the previous source cell is a locked read-only cell (e.g. a
locked imports cell).  :class:`RestoreTestCells` inserts each missing cell
after the nearest preceding source cell that the submission still has, of any
kind, so a deleted test is always put back and run.
"""

from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import OverwriteCells


def cell_ids(nb: NotebookNode) -> list[str | None]:
    """The nbgrader ``grade_id`` of each cell of ``nb`` (None for plain cells)."""
    return [cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") for cell in nb.cells]


def insertion_index(nb_ids: list[str | None], source_ids: list[str], missing: str) -> int:
    """Where the missing source cell ``missing`` goes in a notebook with cell ids ``nb_ids``.

    Right after the nearest source cell before it (in source order) that the
    notebook still has; at the top if there is none.
    """
    position = source_ids.index(missing)
    for earlier in reversed(source_ids[:position]):
        if earlier in nb_ids:
            return nb_ids.index(earlier) + 1
    return 0


class RestoreTestCells(OverwriteCells):
    """OverwriteCells that puts every deleted grade (test) cell back in source order."""

    def add_missing_grade_cells(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Insert the source's missing grade cells next to their source neighbours."""
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = {cell.name: cell for cell in source_nb.source_cells}
        source_ids = [cell.name for cell in source_nb.source_cells]
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        for grade_cell in sorted(source_nb.grade_cells, key=lambda c: source_ids.index(c.name)):
            ids = cell_ids(nb)
            if grade_cell.name in ids:
                continue
            self.log.warning(
                "Missing grade cell %s encountered, adding to notebook", grade_cell.name
            )
            new_cell = self.missing_cell_transform(
                source_cells[grade_cell.name],
                grade_cell.max_score,
                is_solution=grade_cell.name in solution_ids,
            )
            nb.cells.insert(insertion_index(ids, source_ids, grade_cell.name), new_cell)
        return nb, resources
