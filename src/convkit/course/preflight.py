"""Pre-flight checks that must pass before an assignment is autograded.

1. ``convkit`` (and ``convkit.grading``) import in the grading kernel's Python.
2. The committed ``exercises/<assignment>`` is exactly what nbgrader generates.
3. The reference solutions get full marks.
4. The release version (untouched by a student) gets zero on the autograded tests.

Checks 3 and 4 autograde in a scratch copy of the course, so the real
gradebook never sees these pseudo-students.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbgrader.api import Gradebook

from convkit.course.course import Course, nbgrader_env
from convkit.course.generate import (
    release_differences,
    scratch_db_url,
    scratch_gradebook,
    temp_course_overrides,
)
from convkit.course.outcomes import classify_failure
from convkit.course.runner import run_nbgrader
from convkit.course.sandbox import memory_confined
from convkit.course.sandbox import probe as sandbox_probe

SOLUTION_STUDENT = "preflight-solution"
RELEASE_STUDENT = "preflight-release"


@dataclass(frozen=True)
class Check:
    """One pre-flight check: its name, whether it passed, and what was seen."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class PreflightReport:
    """All pre-flight checks of one assignment."""

    assignment: str
    checks: list[Check] = field(default_factory=list)
    # The scratch gradebook right after generation: the assignment alone, no student
    # (autograde's kit, see ``convkit.course.jobs``); None if generation failed.
    generated_gradebook: bytes | None = None

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return bool(self.checks) and all(check.ok for check in self.checks)

    def format(self) -> str:
        """One line per check, PASS or FAIL, with details of failures."""
        lines = [f"pre-flight checks for {self.assignment}:"]
        for check in self.checks:
            mark = "PASS" if check.ok else "FAIL"
            lines.append(f"  [{mark}] {check.name}" + (f": {check.detail}" if check.detail else ""))
        return "\n".join(lines)


def check_kernel_imports(course: Course) -> Check:
    """``import convkit, convkit.grading`` with the grading kernel's Python."""
    name = "convkit imports in the grading kernel"
    kernel_name = course.config.Execute.get("kernel_name", "python3")
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        return Check(name, False, f"no kernel named {kernel_name!r} (see nbgrader_config.py)")
    python = spec.argv[0]
    if python in {"python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"}:
        python = sys.executable
    code = "import convkit, convkit.grading; print(convkit.__file__)"
    result = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, env=nbgrader_env(), timeout=300
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        return Check(name, False, f"kernel {kernel_name!r}: {lines[-1] if lines else 'failed'}")
    return Check(name, True, f"kernel {kernel_name!r}: {result.stdout.strip()}")


def check_sandbox() -> Check:
    """The grading sandbox starts (bubblewrap installed, user namespaces allowed)."""
    why = sandbox_probe()
    name = "the grading sandbox starts"
    if why is None:
        memory = (
            "the memory of each kernel capped as a whole (cgroup)"
            if memory_confined()
            else "memory capped per process only (no cgroup memory controller, or not root)"
        )
        return Check(name, True, f"student code runs in bubblewrap, without network; {memory}")
    return Check(name, False, why + "; or grade without it: --no-sandbox (unsafe)")


def _grade_pseudo_students(
    course: Course, assignment: str, scratch: Path, run_timeout: float, sandbox: bool
) -> list[Check]:
    """Autograde the reference solution and the release in ``scratch``; check their scores."""
    submitted = (
        scratch / course.submitted_dir("x", assignment).relative_to(course.root).parent.parent
    )
    shutil.copytree(course.source_dir(assignment), submitted / SOLUTION_STUDENT / assignment)
    shutil.copytree(course.release_dir(assignment), submitted / RELEASE_STUDENT / assignment)
    run = run_nbgrader(
        course,
        ["autograde", assignment, "--force", *temp_course_overrides(scratch)],
        timeout=run_timeout,
        sandbox=sandbox,
    )
    if not run.ok:
        why = "timed out" if run.timed_out else " ".join(classify_failure(run.log)).strip()
        failed = Check("reference solution and release autograde", False, why)
        return [failed]
    with Gradebook(scratch_db_url(scratch)) as gb:
        solution = _autograded_cells(gb.find_submission(assignment, SOLUTION_STUDENT))
        release = _autograded_cells(gb.find_submission(assignment, RELEASE_STUDENT))
    full = sum(max_score for _, _, max_score in solution)
    got = sum(score or 0.0 for _, score, _ in solution)
    lost = [
        f"{name} {score}/{max_score:g}" for name, score, max_score in solution if score != max_score
    ]
    credited = [f"{name} {score:g}" for name, score, _ in release if (score or 0.0) > 0]
    return [
        Check(
            "reference solutions get full marks on the autograded tests",
            full > 0 and not lost,
            f"{got:g} / {full:g}" + (f"; lost points: {', '.join(lost)}" if lost else ""),
        ),
        Check(
            "release version gets zero on the autograded tests",
            not credited,
            "credited: " + ", ".join(credited) if credited else "0 on every test",
        ),
    ]


def _autograded_cells(submission) -> list[tuple[str, float | None, float]]:
    """(notebook/cell id, auto score, max score) of each autograded (code test) cell."""
    return [
        (f"{notebook.name}/{grade.name}", grade.auto_score, float(grade.max_score))
        for notebook in submission.notebooks
        for grade in notebook.grades
        if grade.cell_type == "code"
    ]


def run_preflight(
    course: Course, assignment: str, *, run_timeout: float = 900.0, sandbox: bool = True
) -> PreflightReport:
    """Run all pre-flight checks of ``assignment``; never touches the real gradebook.

    With ``sandbox`` (the default), the first check is that the grading sandbox
    starts, and the pseudo-students are graded in it, as real students will be.
    """
    report = PreflightReport(assignment)
    course.notebook_names(assignment)  # a clear error for an unknown assignment
    if sandbox:
        report.checks.append(check_sandbox())
        if not report.checks[-1].ok:
            return report
    report.checks.append(check_kernel_imports(course))
    with tempfile.TemporaryDirectory(prefix=f"preflight-{assignment}-") as tmp:
        scratch = Path(tmp)
        differences = release_differences(course, assignment, scratch)
        if scratch_gradebook(scratch).is_file():
            report.generated_gradebook = scratch_gradebook(scratch).read_bytes()
        release = course.release_dir(assignment).relative_to(course.root)
        report.checks.append(
            Check(
                f"{release} matches generate_assignment",
                not differences,
                "; ".join(differences[:5])
                + (" (run: python -m convkit.course generate)" if differences else ""),
            )
        )
        if course.release_dir(assignment).is_dir():
            report.checks.extend(
                _grade_pseudo_students(course, assignment, scratch, run_timeout, sandbox)
            )
        else:
            report.checks.append(
                Check("reference solution and release autograde", False, "no release")
            )
    return report
