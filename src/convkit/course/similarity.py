"""The similarity report: pairs of submissions whose answer code is alike, for a human to read.

Each student's *answer code* is the source of the code cells nbgrader marks as
solution cells (``metadata.nbgrader.solution``) in their submitted notebooks,
one text per student.  The released template's solution cells (the function
signatures, docstrings and ``raise NotImplementedError()`` every student
starts from) are the boilerplate: code that matches them counts for nobody.
``copydetect`` fingerprints the texts (MOSS-style winnowing over tokens, with
names replaced, so renamed variables do not hide a copy) and scores every pair.

Written to ``grading/similarity/<assignment>/``:

- ``report.html``: copydetect's report (the pairs above the threshold, their
  matched code side by side), under a header of ours that says what it is:
  it flags pairs for a human to read, it judges nothing;
- ``pairs.csv``: every pair with both similarities and whether it is flagged;
- ``skipped.csv``: students left out (no submission, no answer code,
  unreadable notebook) with the reason.

The default threshold, :data:`DEFAULT_THRESHOLD` (0.6), comes from the synthetic
cohort of ``tests/grading_e2e/test_similarity_report.py``: the two copies (one
student's code, renamed and reordered) scored 0.95 to 0.98 against each other
and their original, while ten answers written independently scored at most
0.43 (their shared numpy idioms and the task's fixed names).  0.6 leaves a
margin on both sides, wider towards the copies.
"""

from __future__ import annotations

import csv
import html
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from convkit.course.course import Course

DEFAULT_THRESHOLD = 0.6
# copydetect's k-gram length (noise_t) and the match length it is sure to find
# (guarantee_t), in characters of filtered code (names become V, F or O, strings S;
# no spaces, no comments).  Equal, as copydetect's defaults are: the winnowing window
# is 1, every k-gram is kept, and the scores do not depend on Python's per-process
# string-hash salt (a larger window made them vary from run to run).
NOISE_T = 25
GUARANTEE_T = 25
PAIR_COLUMNS = [
    "student_a",
    "student_b",
    "similarity_a",
    "similarity_b",
    "tokens_overlapped",
    "flagged",
]
HEADER_NOTE = (
    "This report flags pairs of submissions for a human to read; it judges nothing. "
    "Similar code can have innocent causes, such as a hint everyone followed, a standard "
    "formula or a short answer with few ways to write it. Read the matched code, and the "
    "rest of both submissions, before drawing any conclusion."
)


@dataclass(frozen=True)
class Pair:
    """Two students' answer code compared: each one's share of code found in the other."""

    student_a: str
    student_b: str
    similarity_a: float  # share (0..1) of a's fingerprinted code that matches b's
    similarity_b: float  # share (0..1) of b's fingerprinted code that matches a's
    tokens_overlapped: int  # characters of a's filtered code inside matching fingerprints
    flagged: bool

    @property
    def score(self) -> float:
        """The larger of the two similarities (what the threshold is compared with)."""
        return max(self.similarity_a, self.similarity_b)


@dataclass
class SimilarityResult:
    """What :func:`write_similarity_report` found and wrote."""

    assignment: str
    threshold: float
    answers: dict[str, str]  # student -> answer code compared
    skipped: dict[str, str]  # student -> why they were not compared
    pairs: list[Pair] = field(default_factory=list)  # highest score first
    html: Path | None = None
    pairs_csv: Path | None = None
    skipped_csv: Path | None = None

    @property
    def flagged(self) -> list[Pair]:
        """Pairs above the threshold."""
        return [p for p in self.pairs if p.flagged]


def solution_code(notebook: nbformat.NotebookNode) -> list[str]:
    """Sources of the notebook's code cells that nbgrader marks as solution cells, in order."""
    return [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    ]


def answer_cells(notebooks: list[Path]) -> list[str]:
    """The solution code cells of ``notebooks``, read in the given order.

    Raises nbformat's (and json's) errors for a file that is not a notebook.
    """
    cells: list[str] = []
    for path in notebooks:
        cells += solution_code(nbformat.read(path, as_version=4))
    return cells


def joined(cells: list[str]) -> str:
    """Cells as one text, a blank line between two cells ("" for no cells)."""
    return "\n\n".join(cell.rstrip() for cell in cells) + "\n" if cells else ""


def template_cells(course: Course, assignment: str) -> list[str]:
    """The released template's solution cells: the code every student starts from.

    Raises ValueError for an unknown assignment.
    """
    course.notebook_names(assignment)  # the error for an unknown assignment
    return answer_cells(sorted(course.release_dir(assignment).glob("*.ipynb")))


def known_students(course: Course) -> list[str]:
    """Everyone with a folder in ``submitted/`` (any assignment) or a gradebook entry."""
    base = course.submitted_dir("x", "x").parent.parent
    students = {p.name for p in base.iterdir() if p.is_dir()} if base.is_dir() else set()
    db_url = course.db_url
    db_file = db_url.removeprefix("sqlite:///").split("?")[0]
    if not db_url.startswith("sqlite:///") or Path(db_file).is_file():
        from nbgrader.api import Gradebook

        with Gradebook(db_url, course.course_id) as gb:
            students.update(s.id for s in gb.students)
    return sorted(s for s in students if not s.startswith("."))


def collect_answers(course: Course, assignment: str) -> tuple[dict[str, str], dict[str, str]]:
    """(student -> answer code, student -> reason skipped) for every known student.

    A student is skipped when they have no submission of ``assignment``, no
    notebook in it, a notebook that cannot be read, or no answer code beyond
    the released template's.  Raises ValueError for an unknown assignment.
    """
    released = {_normal(c) for c in template_cells(course, assignment)}
    answers: dict[str, str] = {}
    skipped: dict[str, str] = {}
    submitted = set(course.submitted_students(assignment))
    for student in sorted(set(known_students(course)) | submitted):
        if student not in submitted:
            skipped[student] = "no submission"
            continue
        notebooks = sorted(course.submitted_dir(student, assignment).glob("*.ipynb"))
        if not notebooks:
            skipped[student] = "no notebook in the submission"
            continue
        try:
            cells = answer_cells(notebooks)
        except Exception as exc:  # any unreadable file is reported, never fatal
            skipped[student] = f"unreadable notebook ({type(exc).__name__})"
            continue
        if not any(_normal(c) and _normal(c) not in released for c in cells):
            skipped[student] = "no answer code (answer cells empty or as released)"
            continue
        answers[student] = joined(cells)
    return answers, skipped


def _normal(code: str) -> str:
    """Code without blank lines and trailing spaces (to compare cells with the template)."""
    return "\n".join(line.rstrip() for line in code.splitlines() if line.strip())


def compare(
    answers: dict[str, str], boilerplate: str, threshold: float = DEFAULT_THRESHOLD
) -> tuple[list[Pair], str]:
    """Score every pair of ``answers`` with copydetect; (pairs highest first, report HTML).

    ``boilerplate`` is code whose fingerprints count for nobody.  A pair is
    flagged when either similarity is above ``threshold`` (0..1); the HTML
    (copydetect's own page, file names shortened to student ids) shows the
    flagged pairs' matched code side by side.  Needs at least two students.
    """
    import matplotlib

    matplotlib.use("Agg")  # copydetect draws its two plots with pyplot
    from copydetect import CopyDetector

    if len(answers) < 2:
        raise ValueError("copydetect needs at least two students with answer code")
    with tempfile.TemporaryDirectory(prefix="convkit-similarity-") as tmp:
        folder = Path(tmp) / "answers"
        folder.mkdir()
        # One file per student, named by the student id; copydetect reads them as Python.
        files = {student: folder / student for student in sorted(answers)}
        for student, path in files.items():
            path.write_text(answers[student], encoding="utf-8")
        template = Path(tmp) / "template"
        template.write_text(boilerplate, encoding="utf-8")
        detector = CopyDetector(
            noise_t=NOISE_T,
            guarantee_t=GUARANTEE_T,
            display_t=threshold,
            force_language="python",
            autoopen=False,
            silent=True,
            out_file=str(Path(tmp) / "report.html"),
        )
        for path in files.values():
            detector.add_file(str(path), "testref")
        detector.add_file(str(template), "boilerplate")
        detector.run()
        with warnings.catch_warnings():  # copydetect 0.5.0 reads its template the old way
            warnings.filterwarnings("ignore", "open_text is deprecated", DeprecationWarning)
            page = detector.generate_html_report(output_mode="return")
        index = {name: i for i, name in enumerate(detector.test_files)}
        ref_index = {name: j for j, name in enumerate(detector.ref_files)}
        pairs = []
        students = sorted(files)
        for a_pos, a in enumerate(students):
            for b in students[a_pos + 1 :]:
                i, j = index[str(files[a])], ref_index[str(files[b])]
                sim_a, sim_b = (float(s) for s in detector.similarity_matrix[i, j])
                pairs.append(
                    Pair(
                        a,
                        b,
                        max(sim_a, 0.0),
                        max(sim_b, 0.0),
                        int(max(detector.token_overlap_matrix[i, j], 0)),
                        max(sim_a, sim_b) > threshold,
                    )
                )
        page = page.replace(str(folder) + os.sep, "").replace(tmp, "(temporary folder)")
    pairs.sort(key=lambda p: (-p.score, p.student_a, p.student_b))
    return pairs, page


# copydetect's page loads Bootstrap from a CDN; the report must open offline, so the
# <link>/<script> go, with the buttons that only Bootstrap's script makes work (without
# Bootstrap the "collapsed" lists and matched code are simply shown).
_EXTERNAL = re.compile(r"<(link|script)\b[^>]*https?://[^>]*>(\s*</script>)?", re.I)
_BUTTON = re.compile(r"<button\b[^>]*data-bs-toggle[^>]*>.*?</button>", re.I | re.S)
_OUR_CSS = """
<style>
  body { font-family: system-ui, sans-serif; color: #222; line-height: 1.45; }
  .container { margin: 0 auto; padding: 0 1rem; }
  .convkit-header { max-width: 60rem; margin: 1.5rem auto; padding: 0.8rem 1.2rem;
                    border: 1px solid #d9c77a; background: #fffbe6; }
  .convkit-header table { border-collapse: collapse; margin: 0.4rem 0; }
  .convkit-header th, .convkit-header td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; }
  .d-flex, .row { display: flex; flex-wrap: wrap; gap: 1rem; }
  .col { flex: 1 1 0; min-width: 0; } img { max-width: 100%; }
  table.table { width: 100%; border-collapse: collapse; }
  table.table td { border-top: 1px solid #ddd; padding: 0.6rem; }
  pre { overflow-x: auto; background: #f8f8f8; padding: 0.5rem; font-size: 0.85rem; }
</style>
"""


def _header(result: SimilarityResult) -> str:
    """Our part of the page: what it is, the threshold, the flagged pairs, who was skipped."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(p.student_a)}</td><td>{e(p.student_b)}</td>"
        f"<td>{100 * p.similarity_a:.0f}%</td><td>{100 * p.similarity_b:.0f}%</td></tr>"
        for p in result.flagged
    )
    flagged = (
        "<table id='flagged'><thead><tr><th>student a</th><th>student b</th>"
        "<th>a's code matched</th><th>b's code matched</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if result.flagged
        else "<p id='flagged'>No pair is above the threshold.</p>"
    )
    skipped = (
        "<p id='skipped'>Not compared: "
        + "; ".join(f"{e(s)} ({e(r)})" for s, r in sorted(result.skipped.items()))
        + ".</p>"
        if result.skipped
        else "<p id='skipped'>Every known student was compared.</p>"
    )
    return (
        "<div class='convkit-header'>"
        f"<h1>Similarity of {e(result.assignment)}'s answer code</h1>"
        f"<p><strong>{e(HEADER_NOTE)}</strong></p>"
        f"<p>Compared: the code of the solution cells of {len(result.answers)} students, "
        "with the released template's code removed from the comparison. A pair is listed "
        f"when either student's code is more than {100 * result.threshold:.0f}% matched "
        "by the other's (all pairs and scores: <code>pairs.csv</code>).</p>"
        f"{flagged}{skipped}</div>"
    )


def render_page(result: SimilarityResult, copydetect_page: str | None) -> str:
    """The report page: our header above copydetect's page (or alone, with no pairs)."""
    header = _header(result)
    if copydetect_page is None:
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>Similarity: {html.escape(result.assignment)}</title>{_OUR_CSS}</head>"
            f"<body>{header}<p class='convkit-header'>Fewer than two students have answer "
            "code: there is nothing to compare.</p></body></html>\n"
        )
    page = _EXTERNAL.sub("", copydetect_page)
    page = _BUTTON.sub("", page)
    page = page.replace("</head>", _OUR_CSS + "</head>", 1)
    return re.sub(r"<body>", lambda m: m.group(0) + "\n" + header, page, count=1)


def write_similarity_report(
    course: Course,
    assignment: str,
    threshold: float = DEFAULT_THRESHOLD,
    folder: Path | None = None,
) -> SimilarityResult:
    """Compare the submissions of ``assignment``; write report.html, pairs.csv and skipped.csv.

    ``folder`` defaults to ``grading/similarity/<assignment>``.  Raises
    ValueError for an unknown assignment, when nobody has submitted it, or for
    a threshold outside 0..1.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"the threshold is a share of code, 0..1; got {threshold}")
    if not course.submitted_students(assignment):
        course.notebook_names(assignment)  # an unknown assignment says so first
        where = course.submitted_dir("<student>", assignment).relative_to(course.root)
        raise ValueError(f"no submissions of {assignment}: nothing in {where}")
    answers, skipped = collect_answers(course, assignment)
    result = SimilarityResult(assignment, threshold, answers, skipped)
    page = None
    if len(answers) >= 2:
        boilerplate = joined(template_cells(course, assignment))
        result.pairs, page = compare(answers, boilerplate, threshold)
    folder = folder or course.grading_dir / "similarity" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    result.html = folder / "report.html"
    result.pairs_csv = folder / "pairs.csv"
    result.skipped_csv = folder / "skipped.csv"
    result.html.write_text(render_page(result, page), encoding="utf-8")
    with open(result.pairs_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PAIR_COLUMNS)
        for p in result.pairs:
            writer.writerow(
                [
                    p.student_a,
                    p.student_b,
                    f"{p.similarity_a:.4f}",
                    f"{p.similarity_b:.4f}",
                    p.tokens_overlapped,
                    "yes" if p.flagged else "no",
                ]
            )
    with open(result.skipped_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "reason"])
        writer.writerows(sorted(skipped.items()))
    return result
