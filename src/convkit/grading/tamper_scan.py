"""Static scan of a submission's own cells for attempts to get around the grader.

The in-notebook guard (:mod:`convkit.grading.guard`) watches what a graded
function calls. Code that runs in the same kernel can still attack the grader
itself (rebind ``convkit.grading.check_function``, swap modules in
``sys.modules``, prepare a worker thread before grading starts). Those attacks
need code that no honest exercise answer contains, so a simple line scan of the
student's cells finds them; the instructor tooling can flag such submissions for
a human to look at.

``suspicious_lines(source)`` scans one cell's source; ``scan_notebook(nb)``
scans every code cell a student could have written (nbgrader solution cells and
cells without nbgrader metadata; locked cells are restored by nbgrader anyway).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.MULTILINE), reason)
    for pattern, reason in (
        (
            r"\bconvkit\s*\.\s*grading\b|\bfrom\s+convkit\s+import\b.*\bgrading\b",
            "touches the grader (convkit.grading)",
        ),
        (r"\bset(profile|trace)(_all_threads)?\b", "changes the interpreter's profiling hooks"),
        (r"\bsys\s*\.\s*modules\b", "edits the module table (sys.modules)"),
        (r"\b__builtins__\b|\bimport\s+builtins\b|\bbuiltins\s*\.", "edits Python's built-ins"),
        (r"\bgc\s*\.\s*get_(referrers|referents|objects)\b", "inspects the interpreter's objects"),
        (r"\bctypes\b", "uses ctypes"),
        (
            r"\b(threading|_thread|multiprocessing|subprocess|concurrent\.futures)\b"
            r"|\b(fork|forkpty|system|popen|posix_spawnp?|exec[lv]p?e?)\s*\(",
            "starts threads or processes",
        ),
        (
            r"__code__|__globals__|__closure__|\bf_back\b|\bf_locals\b|\btb_frame\b|_getframe",
            "reaches into functions or stack frames",
        ),
        (
            r"^\s*(np|numpy|convkit|torch|F|scipy)\s*\.[\w.]+\s*=(?!=)",
            "replaces a library function",
        ),
        (r"\bsetattr\s*\(\s*(np|numpy|convkit|torch|scipy)\b", "replaces a library function"),
        (
            r"\bget_ipython\b|\bset_custom_exc\b|\bdo_execute\b|\bshowtraceback\b"
            r"|\bsys\s*\.\s*excepthook\b|\bipykernel\b",
            "rewires the kernel that runs the tests",
        ),
        (r"\bimportlib\s*\.\s*reload\b|\breload\s*\(", "reloads modules"),
        (r"_DisableTorchDispatch|_python_dispatch|_pop_mode", "switches off torch's dispatch"),
    )
)


class Finding(NamedTuple):
    """One suspicious line: where it is, what it says and why it is flagged."""

    cell: str
    line: int
    text: str
    reason: str


def suspicious_lines(source: str, cell: str = "") -> list[Finding]:
    """Every line of ``source`` matching a pattern, with the reason (1-based line numbers)."""
    findings = []
    for number, text in enumerate(source.splitlines(), start=1):
        if text.lstrip().startswith("#"):
            continue
        for pattern, reason in PATTERNS:
            if pattern.search(text):
                findings.append(Finding(cell, number, text.strip(), reason))
                break
    return findings


def scan_notebook(nb: Any) -> list[Finding]:
    """Findings in the cells a student could have written (an nbformat notebook)."""
    findings: list[Finding] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("locked") and not meta.get("solution"):
            continue  # instructions, imports and tests: nbgrader puts the original back
        label = meta.get("grade_id") or f"cell {index + 1}"
        findings.extend(suspicious_lines(cell.source, label))
    return findings
