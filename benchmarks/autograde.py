"""Autograde benchmark (`make bench`): plain sequential nbgrader against ours with 2 jobs.

N synthetic ch01 submissions (default 40; correct, wrong, unfinished and raising
in turn, built from the real notebooks like the grading tests' scenarios) are
graded twice in the same run, each time in a fresh copy of a scratch course:

1. plain ``nbgrader autograde ch01 --force``: one process, one student after another;
2. ours: ``grade_assignment(course, "ch01", jobs=2)`` in a fresh interpreter
   (what ``python -m convkit.course autograde ch01 --jobs 2`` runs after its
   pre-flight checks).

Both times start with launching Python.  Reported: seconds per submission, the
ratio plain / ours, CPU seconds and the CPU cores kept busy on average (on a
busy machine the parallel run cannot get its cores, and then the ratio says
little), and peak memory (the summed proportional set size of the whole
process tree, kernels included, sampled every 0.1 s).  Both runs must give
every student the same score.  Targets on 2 cores: ratio >= 1.6 and
<= 2 s per submission for ours.  Exits with status 1 when a target is missed.

Usage: python benchmarks/autograde.py [--n 40] [--jobs 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading_e2e"))

from course_scenarios import SCENARIOS, build_submission  # noqa: E402

from convkit.course.course import Course, nbgrader_env  # noqa: E402
from convkit.course.generate import generate_assignment  # noqa: E402

ASSIGNMENT = "ch01"
KINDS = {  # submission kind -> the grading tests' scenario that builds it
    "correct": "s01-solution",
    "wrong": "s03-wrong",
    "unfinished": "s02-untouched",
    "raising": "s04-raises",
}
TARGET_RATIO = 1.6  # plain seconds / our seconds, at least
TARGET_SECONDS_PER_SUBMISSION = 2.0  # ours, at most
OURS = """
import sys
from pathlib import Path
from convkit.course.autograde import grade_assignment
from convkit.course.course import Course
from convkit.course.outcomes import Status
outcomes = grade_assignment(Course(Path(sys.argv[1])), "{assignment}", jobs=int(sys.argv[2]),
                            progress=False)
bad = [o.summary for o in outcomes if o.status is not Status.GRADED]
sys.exit(f"ungraded: {{bad}}" if bad else 0)
"""


@dataclass
class Measured:
    """One timed grading run."""

    name: str
    seconds: float
    cpu_seconds: float
    peak_mb: float
    submissions: int

    @property
    def per_submission(self) -> float:
        """Wall-clock seconds per submission."""
        return self.seconds / self.submissions

    @property
    def cores(self) -> float:
        """CPU cores the run kept busy on average (CPU seconds / wall seconds)."""
        return self.cpu_seconds / self.seconds


def make_course(folder: Path, n: int) -> Path:
    """A scratch course with ch01 generated and ``n`` submissions of every kind in turn."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    for part in ("solutions", "exercises"):
        shutil.copytree(ROOT / part / ASSIGNMENT, folder / part / ASSIGNMENT)
    run = generate_assignment(Course(folder), ASSIGNMENT)
    if not run.ok:
        raise RuntimeError(f"generate_assignment failed:\n{run.log[-2000:]}")
    scenarios = {s.student: s for s in SCENARIOS}
    kinds = list(KINDS)
    notebook = f"{ASSIGNMENT}.ipynb"
    for i in range(n):
        kind = kinds[i % len(kinds)]
        build_submission(
            scenarios[KINDS[kind]],
            folder / "solutions" / ASSIGNMENT / notebook,
            folder / "exercises" / ASSIGNMENT / notebook,
            folder / "submitted" / f"student{i:03d}-{kind}" / ASSIGNMENT,
        )
    return folder


def _proportional_memory(proc: psutil.Process) -> int:
    """Bytes of memory ``proc`` uses, pages shared with other processes counted pro rata.

    The proportional set size (PSS): forked workers share most of their pages,
    which a sum of resident sizes would count once per process.  RSS where the
    system does not report PSS; 0 for a process that has ended.
    """
    try:
        try:
            return proc.memory_full_info().pss
        except (AttributeError, psutil.AccessDenied):
            return proc.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


class PeakMemory:
    """Samples the summed memory (PSS) of a process and all its descendants in a thread."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.peak = 0
        self._pid = pid
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            root = psutil.Process(self._pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            total = 0
            try:
                for proc in [root, *root.children(recursive=True)]:
                    total += _proportional_memory(proc)
            except psutil.NoSuchProcess:
                return
            self.peak = max(self.peak, total)
            self._stop.wait(self._every)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def timed(name: str, command: list[str], cwd: Path, n: int) -> Measured:
    """Run ``command`` in ``cwd``; wall and CPU seconds of it and every descendant, peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=nbgrader_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    memory = PeakMemory(proc.pid)
    out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    peak = memory.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed ({proc.returncode}):\n{out[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(name, seconds, cpu, peak / 2**20, n)


def scores(course: Path) -> dict[str, float]:
    """student -> total score of ch01 in the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}?timeout=60") as gb:
        return {s.student.id: float(s.score) for s in gb.find_assignment(ASSIGNMENT).submissions}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table, return 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="submissions (default %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="our workers (default %(default)s)")
    parser.add_argument("--keep", type=Path, help="keep the two graded courses in this folder")
    args = parser.parse_args(argv)
    if args.n < 1 or args.jobs < 1:
        parser.error("--n and --jobs must be at least 1")
    os.environ["PATH"] = nbgrader_env()["PATH"]  # nbgrader runs alembic from PATH
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        base = make_course(Path(tmp) / "template", args.n)
        plain_dir = Path(tmp) / "plain"
        ours_dir = Path(tmp) / "ours"
        shutil.copytree(base, plain_dir)
        shutil.copytree(base, ours_dir)
        plain = timed(
            "plain nbgrader, sequential",
            [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"],
            plain_dir,
            args.n,
        )
        ours = timed(
            f"convkit.course, {args.jobs} jobs",
            [
                sys.executable,
                "-c",
                OURS.format(assignment=ASSIGNMENT),
                str(ours_dir),
                str(args.jobs),
            ],
            ours_dir,
            args.n,
        )
        same = scores(plain_dir) == scores(ours_dir)
        kinds = {
            k: sum(1 for i in range(args.n) if i % len(KINDS) == j) for j, k in enumerate(KINDS)
        }
        if args.keep:
            for folder in (plain_dir, ours_dir):
                shutil.copytree(folder, args.keep / folder.name, dirs_exist_ok=True)
    load_after = os.getloadavg()

    ratio = plain.seconds / ours.seconds
    ratio_ok = ratio >= TARGET_RATIO
    speed_ok = ours.per_submission <= TARGET_SECONDS_PER_SUBMISSION
    mix = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    print(
        f"\nAutograde benchmark: {args.n} {ASSIGNMENT} submissions ({mix}), {os.cpu_count()} CPUs"
    )
    print(
        f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after"
        " (a busy machine slows both runs, the parallel one more)"
    )
    header = (
        f"{'run':<30} {'wall s':>8} {'s / sub':>8} {'CPU s':>8} {'cores':>6} {'peak MB':>8}  target"
    )
    print(header)
    print("-" * len(header))
    for run, target in (
        (plain, ""),
        (ours, f"<= {TARGET_SECONDS_PER_SUBMISSION:g} s/sub {'yes' if speed_ok else 'NO'}"),
    ):
        print(
            f"{run.name:<30} {run.seconds:>8.1f} {run.per_submission:>8.2f}"
            f" {run.cpu_seconds:>8.1f} {run.cores:>6.2f} {run.peak_mb:>8.0f}  {target}"
        )
    print(
        f"{'ratio plain / ours':<30} {ratio:>8.2f} {'':>8} {'':>8} {'':>6} {'':>8}"
        f"  >= {TARGET_RATIO:g} {'yes' if ratio_ok else 'NO'}"
    )
    print(f"same score for every student in both runs: {'yes' if same else 'NO'}")
    if ours.cores < 0.8 * min(args.jobs, os.cpu_count() or 1):
        print(
            f"note: the {args.jobs}-job run got only {ours.cores:.2f} CPU cores on average: the"
            " machine is busy and these timings say little about a quiet one"
        )
    ok = ratio_ok and speed_ok and same
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
