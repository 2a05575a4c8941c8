"""nbgrader's Execute with a bound on output and a check that errors are still reported.

The kernel is sandboxed, but its output arrives in the trusted nbgrader process,
which keeps every message in memory until the notebook is written.  A cell that
prints gigabytes would exhaust the grader, not the kernel.  ``LimitedExecute``
counts the bytes of every message the kernel sends while a cell runs and stops
the run with :class:`OutputLimitExceeded` past ``max_output_bytes``; autograde
then reports that one submission as ``UNGRADED: output too large``.

Tests run in the student's own kernel, so code that rewires the kernel (its
``do_execute``, its exception handler) can make failing tests look passed.
After the last cell, ``LimitedExecute`` sends the kernel code that must fail,
with a message nobody can guess; a kernel that does not report that error has
been tampered with, and the run stops with :class:`KernelTampered`
(``UNGRADED: kernel tampered with``).  The source scan (``grading.tamper_scan``)
flags such code as well.
"""

from __future__ import annotations

import secrets
from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer

DEFAULT_MAX_OUTPUT_BYTES = 32 * 2**20


class OutputLimitExceeded(RuntimeError):
    """The kernel sent more output than ``LimitedExecute.max_output_bytes``."""


def message_bytes(content: Any) -> int:
    """Characters of text in a message's content (strings, nested in dicts and lists)."""
    if isinstance(content, str):
        return len(content)
    if isinstance(content, dict):
        return sum(len(str(key)) + message_bytes(value) for key, value in content.items())
    if isinstance(content, list | tuple):
        return sum(message_bytes(item) for item in content)
    return 8


class KernelTampered(RuntimeError):
    """The kernel did not report an error that the grader's own code raised."""


class LimitedExecute(Execute):
    """``nbgrader.preprocessors.Execute`` that refuses more than ``max_output_bytes``."""

    max_output_bytes = Integer(
        DEFAULT_MAX_OUTPUT_BYTES,
        help="Largest total output (characters of every message) a notebook may produce.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> Any:
        """Execute ``nb`` (see nbgrader's Execute), counting its output from zero."""
        self._output_bytes = 0
        return super().preprocess(nb, resources, km)

    def process_message(
        self, msg: dict[str, Any], cell: NotebookNode, cell_index: int
    ) -> NotebookNode | None:
        """Count the message, refuse it past the limit, else handle it as nbclient does."""
        self._output_bytes = getattr(self, "_output_bytes", 0) + message_bytes(
            msg.get("content", {})
        )
        if self._output_bytes > self.max_output_bytes:
            raise OutputLimitExceeded(
                f"the notebook's output passed {self.max_output_bytes} characters "
                f"(in cell {cell_index})"
            )
        return super().process_message(msg, cell, cell_index)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        """Execute the cell; after the last one, check that the kernel still reports errors."""
        result = super().preprocess_cell(cell, resources, index)
        if index == len(self.nb.cells) - 1:
            self.check_errors_reported()
        return result

    def check_errors_reported(self) -> None:
        """Raise :class:`KernelTampered` unless code that raises comes back as an error."""
        nonce = secrets.token_hex(16)
        msg_id = self.kc.execute(f"raise AssertionError({nonce!r})", store_history=False)
        reply = self.wait_for_reply(msg_id)
        content = (reply or {}).get("content", {})
        if content.get("status") != "error" or nonce not in str(content.get("evalue", "")):
            raise KernelTampered(
                "code that raises came back without its error: the submission changed "
                "how the kernel reports errors"
            )
