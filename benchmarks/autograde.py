"""Autograde benchmark (`make bench`): plain nbgrader, ours with and without the sandbox,
and ours on a Dask cluster of one worker and of two.

N synthetic ch01 submissions (default 24; correct, wrong, unfinished and raising
in turn, built from the real notebooks like the grading tests' scenarios) are
graded by five configurations in the same run, each time in a fresh copy of a
scratch course, each configuration twice in mirrored order (1 2 3 3 2 1, then
4 5 5 4) so that a machine that steadily slows down or speeds up biases no ratio:

1. plain ``nbgrader autograde ch01 --force``: one process, one student after
   another, no sandbox (the baseline);
2. ours, sandboxed: ``grade_assignment(course, "ch01", jobs=2)`` in a fresh
   interpreter (what ``python -m convkit.course autograde ch01 --jobs 2`` runs
   after its pre-flight checks);
3. ours, the same without the sandbox (``sandbox=False``): the sandbox's cost is
   run 2 against run 3;
4. and 5. ours through a Dask scheduler on 127.0.0.1 with one worker, then with
   two (one thread each): the cluster's scaling is run 4 against run 5.  The
   clock starts once the workers are up and ready, as on a running cluster
   (``local_cluster``); the grading side starts from scratch, as in 2.

Every run starts with launching Python.  Reported: seconds per submission, CPU
seconds and the CPU cores kept busy on average (machine-wide, from
``/proc/stat``: on a busy machine a parallel run cannot get its cores, and then
its ratio says little), and peak memory (the
summed proportional set size of the grading process tree, kernels included,
sampled every 0.1 s; the Dask workers are separate processes, not counted).
Every run must give every student the same score.  Targets on 2 cores: plain /
ours-sandboxed >= 1.6, <= 2 s per submission for ours, sandbox overhead
<= 15 %, one worker / two workers >= 1.6.  Exits with status 1 when a target is
missed.

Usage: python benchmarks/autograde.py [--n 24] [--jobs 2] [--keep DIR] [--no-cluster]
"""

from __future__ import annotations

import argparse
import os
import re
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

from convkit.course.cluster import local_cluster  # noqa: E402
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
TARGET_SANDBOX_OVERHEAD = 0.15  # sandboxed seconds / unsandboxed seconds - 1, at most
TARGET_WORKER_SCALING = 1.6  # seconds with one Dask worker / with two, at least
OURS = """
import gc
import sys
from pathlib import Path
from convkit.course.autograde import grade_assignment
from convkit.course.course import Course
from convkit.course.outcomes import Status
gc.freeze()  # as the command line does (convkit/course/__main__.py)
outcomes = grade_assignment(Course(Path(sys.argv[1])), "{assignment}", jobs=int(sys.argv[2]),
                            progress=False, sandbox=sys.argv[3] == "sandbox",
                            scheduler=sys.argv[4] if len(sys.argv) > 4 else None)
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


def combined(runs: list[tuple[Measured, Path]]) -> Measured:
    """Several runs of one configuration as one: their seconds, CPU and submissions summed."""
    first = runs[0][0]
    return Measured(
        first.name,
        sum(run.seconds for run, _ in runs),
        sum(run.cpu_seconds for run, _ in runs),
        max(run.peak_mb for run, _ in runs),
        sum(run.submissions for run, _ in runs),
    )


def make_course(folder: Path, n: int) -> Path:
    """A scratch course with ch01 generated and ``n`` submissions of every kind in turn."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    shutil.copy(ROOT / "course.yml", folder / "course.yml")  # nbgrader_config.py reads it
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


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``).

    Counted machine-wide because not every process of a run is our descendant
    when it ends (a sandboxed kernel's processes, the Dask workers): on a quiet
    machine the difference over a run is the run's CPU time.
    """
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def timed(name: str, command: list[str], cwd: Path, n: int) -> Measured:
    """Run ``command`` in ``cwd``; wall seconds, the machine's busy CPU seconds meanwhile,
    and the peak memory of the process tree."""
    before = busy_cpu_seconds()
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
    cpu = busy_cpu_seconds() - before
    if proc.returncode != 0:
        logs = [cwd / log for log in re.findall(r"log: (grading/logs/\S+?\.log)", out)]
        tails = "".join(
            f"\n--- {log.relative_to(cwd)} (its end) ---\n{log.read_text()[-4000:]}"
            for log in logs
            if log.is_file()
        )
        raise RuntimeError(f"{name} failed ({proc.returncode}):\n{out[-3000:]}{tails}")
    return Measured(name, seconds, cpu, peak / 2**20, n)


def scores(course: Path) -> dict[str, float]:
    """student -> total score of ch01 in the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}?timeout=60") as gb:
        return {s.student.id: float(s.score) for s in gb.find_assignment(ASSIGNMENT).submissions}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table, return 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="submissions (default %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="our workers (default %(default)s)")
    parser.add_argument("--keep", type=Path, help="keep the graded courses in this folder")
    parser.add_argument("--no-cluster", action="store_true", help="skip the two Dask runs")
    args = parser.parse_args(argv)
    if args.n < 1 or args.jobs < 1:
        parser.error("--n and --jobs must be at least 1")
    os.environ["PATH"] = nbgrader_env()["PATH"]  # nbgrader runs alembic from PATH
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        base = make_course(Path(tmp) / "template", args.n)

        def fresh(name: str) -> Path:
            folder = Path(tmp) / name
            shutil.copytree(base, folder)
            return folder

        def ours(name: str, folder: Path, sandbox: bool, scheduler: str = "") -> Measured:
            command = [sys.executable, "-c", OURS.format(assignment=ASSIGNMENT), str(folder)]
            command += [str(args.jobs), "sandbox" if sandbox else "none"]
            return timed(name, command + ([scheduler] if scheduler else []), folder, args.n)

        plain_command = [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"]
        runners = {
            "plain": lambda f: timed("plain nbgrader, sequential", plain_command, f, args.n),
            "ours": lambda f: ours(f"ours, {args.jobs} jobs, sandboxed", f, True),
            "nosandbox": lambda f: ours(f"ours, {args.jobs} jobs, no sandbox", f, False),
        }
        # Each run twice, in mirrored order (A B C C B A): a machine that slows down
        # or speeds up steadily during the benchmark then biases no ratio.
        order = [*runners, *reversed(runners)]
        measured: dict[str, list[tuple[Measured, Path]]] = {key: [] for key in runners}
        for i, key in enumerate(order):
            folder = fresh(f"{key}-{i}")
            measured[key].append((runners[key](folder), folder))
        if not args.no_cluster:
            for i, workers in enumerate((1, 2, 2, 1)):
                key = f"dask{workers}"
                folder = fresh(f"{key}-{i}")
                with local_cluster(Path(tmp) / f"cluster-{i}", workers) as address:
                    name = f"Dask, {workers} worker{'s' if workers > 1 else ''}, sandboxed"
                    measured.setdefault(key, []).append((ours(name, folder, True, address), folder))
        runs = {key: (combined(pair), pair[0][1]) for key, pair in measured.items()}
        folders = [folder for pair in measured.values() for _, folder in pair]
        same = len({tuple(sorted(scores(path).items())) for path in folders}) == 1
        kinds = {
            k: sum(1 for i in range(args.n) if i % len(KINDS) == j) for j, k in enumerate(KINDS)
        }
        if args.keep:
            for path in folders:
                shutil.copytree(path, args.keep / path.name, dirs_exist_ok=True)
    load_after = os.getloadavg()

    plain, mine, unsandboxed = runs["plain"][0], runs["ours"][0], runs["nosandbox"][0]
    ratio = plain.seconds / mine.seconds
    overhead = mine.seconds / unsandboxed.seconds - 1
    checks = {
        "ratio": ratio >= TARGET_RATIO,
        "speed": mine.per_submission <= TARGET_SECONDS_PER_SUBMISSION,
        "overhead": overhead <= TARGET_SANDBOX_OVERHEAD,
        "same": same,
    }
    mix = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    print(
        f"\nAutograde benchmark: {args.n} {ASSIGNMENT} submissions ({mix}), {os.cpu_count()} CPUs;"
        " every configuration ran twice (the table sums both)"
    )
    print(
        f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after"
        " (a busy machine slows every run, the parallel ones more)"
    )
    header = (
        f"{'run':<32} {'wall s':>8} {'s / sub':>8} {'CPU s':>8} {'cores':>6} {'peak MB':>8}  target"
    )
    print(header)
    print("-" * len(header))
    speed_target = f"<= {TARGET_SECONDS_PER_SUBMISSION:g} s/sub {_yes(checks['speed'])}"
    for key, (run, _) in runs.items():
        print(
            f"{run.name:<32} {run.seconds:>8.1f} {run.per_submission:>8.2f}"
            f" {run.cpu_seconds:>8.1f} {run.cores:>6.2f} {run.peak_mb:>8.0f}"
            f"  {speed_target if key == 'ours' else ''}"
        )
    blank = f"{'':>8} {'':>8} {'':>6} {'':>8}"
    print(
        f"{'ratio plain / ours (sandboxed)':<32} {ratio:>8.2f} {blank}"
        f"  >= {TARGET_RATIO:g} {_yes(checks['ratio'])}"
    )
    print(
        f"{'sandbox overhead':<32} {overhead:>7.1%} {blank}"
        f"  <= {TARGET_SANDBOX_OVERHEAD:.0%} {_yes(checks['overhead'])}"
    )
    if "dask2" in runs:
        scaling = runs["dask1"][0].seconds / runs["dask2"][0].seconds
        checks["scaling"] = scaling >= TARGET_WORKER_SCALING
        print(
            f"{'Dask: 1 worker / 2 workers':<32} {scaling:>8.2f} {blank}"
            f"  >= {TARGET_WORKER_SCALING:g} {_yes(checks['scaling'])}"
        )
    print(f"same score for every student in every run: {_yes(same)}")
    if mine.cores < 0.8 * min(args.jobs, os.cpu_count() or 1):
        print(
            f"note: the {args.jobs}-job run got only {mine.cores:.2f} CPU cores on average: the"
            " machine is busy and these timings say little about a quiet one"
        )
    ok = all(checks.values())
    print("\nall targets met" if ok else "\nSOME TARGETS MISSED")
    return 0 if ok else 1


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    raise SystemExit(main())
