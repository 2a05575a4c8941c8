"""Keep hidden tests out of feedback.

nbgrader puts the hidden tests back into each autograded notebook, and its
feedback HTML shows every cell's source and error tracebacks, so students
would read the hidden tests.  :class:`HideHiddenTests` (a GenerateFeedback
preprocessor, see ``nbgrader_config.py``) replaces each hidden region of a
test cell by a one-line placeholder and removes every output line that quotes
hidden source (IPython's traceback context lines included).  Visible tests and
their failures stay in full.
"""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool, Unicode

BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
PLACEHOLDER = "# (hidden tests are not shown)"
REMOVED_LINE = "(a line of a hidden test is not shown)"
# Hidden lines at least this long are also removed where they appear inside a longer line.
MIN_QUOTED_LENGTH = 12

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# IPython traceback context: "---> 12 code", "     11 code", "File <cell>:3 ...".
_CONTEXT = re.compile(r"^\s*(?:-*>\s*)?\d+\s(.*)$")


def split_hidden(
    source: str, begin: str = BEGIN_HIDDEN, end: str = END_HIDDEN
) -> tuple[str, list[str]]:
    """Split a test cell's source into (shown source, hidden lines).

    Every region from a line containing ``begin`` to the next line containing
    ``end`` becomes one ``PLACEHOLDER`` line; the hidden lines include the
    delimiters.  An unterminated region hides everything to the end of the cell.
    """
    shown: list[str] = []
    hidden: list[str] = []
    inside = False
    for line in source.splitlines():
        if not inside and begin in line:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            shown.append(indent + PLACEHOLDER)
            hidden.append(line)
        elif inside:
            hidden.append(line)
            if end in line:
                inside = False
        else:
            shown.append(line)
    return "\n".join(shown), hidden


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes."""
    return _ANSI.sub("", text)


def quotes_hidden(line: str, hidden: set[str]) -> bool:
    """Whether an output line shows a hidden source line (exactly, or a long one inside it)."""
    plain = strip_ansi(line).rstrip()
    context = _CONTEXT.match(plain)
    candidates = {plain.strip()}
    if context:
        candidates.add(context.group(1).strip())
    if candidates & hidden:
        return True
    return any(len(h) >= MIN_QUOTED_LENGTH and h in plain for h in hidden)


def scrub_text(text: str, hidden: set[str]) -> str:
    """``text`` with every line that quotes hidden source replaced by ``REMOVED_LINE``."""
    lines = text.split("\n")
    return "\n".join(REMOVED_LINE if quotes_hidden(line, hidden) else line for line in lines)


def scrub_cell(cell: NotebookNode, hidden: set[str]) -> None:
    """Scrub a code cell's outputs (streams, results, errors) in place."""
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            output["text"] = scrub_text(output.get("text", ""), hidden)
        elif kind == "error":
            output["evalue"] = scrub_text(output.get("evalue", ""), hidden)
            output["traceback"] = [
                scrub_text(entry, hidden) for entry in output.get("traceback", [])
            ]
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            for mime in ("text/plain", "text/html", "text/markdown", "text/latex"):
                if mime in data:
                    value = data[mime]
                    text = "".join(value) if isinstance(value, list) else value
                    data[mime] = scrub_text(text, hidden)


def hide_hidden_tests(nb: NotebookNode, begin: str = BEGIN_HIDDEN, end: str = END_HIDDEN) -> int:
    """Remove hidden-test source from every cell of ``nb`` and from all outputs, in place.

    Returns the number of cells that had hidden tests.  Output lines are
    scrubbed in every cell, since a later cell's traceback could also quote
    a hidden line.
    """
    hidden: set[str] = set()
    count = 0
    for cell in nb.cells:
        if begin in cell.get("source", ""):
            shown, lines = split_hidden(cell.source, begin, end)
            cell.source = shown
            hidden.update(line.strip() for line in lines if line.strip())
            count += 1
    if hidden:
        for cell in nb.cells:
            if cell.get("cell_type") == "code":
                scrub_cell(cell, hidden)
    return count


class HideHiddenTests(Preprocessor):
    """nbconvert preprocessor for GenerateFeedback: no hidden-test source in the feedback."""

    enabled = Bool(True, help="Whether to hide hidden tests (always, for feedback)").tag(
        config=True
    )
    begin_test_delimeter = Unicode(BEGIN_HIDDEN, help="Start of a hidden test region").tag(
        config=True
    )
    end_test_delimeter = Unicode(END_HIDDEN, help="End of a hidden test region").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        """Apply :func:`hide_hidden_tests` to the whole notebook."""
        count = hide_hidden_tests(nb, self.begin_test_delimeter, self.end_test_delimeter)
        if count:
            self.log.info("Removed hidden tests from %d cell(s) of the feedback", count)
        return nb, resources
