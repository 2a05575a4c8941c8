"""Hostile submissions against the grading sandbox, graded in one batch with honest ones.

One copy of the course gets three honest students (the full solution, a wrong
answer, an infinite loop) and one attacker per attack of :mod:`attacks`: the
release notebook with hostile code atop its first answer cell.  It is graded by
``python -m convkit.course autograde ch01 --jobs 2``.  A second copy gets only
the honest students, graded the same way: the attackers must not change their
grades.  Meanwhile the test listens on a TCP port and an abstract unix socket,
and runs a bystander process as user ``nobody`` (the kernels' user).

Then: every attacker is graded 0 or UNGRADED with an expected reason; no file of
the course changed except what grading writes; no marker file landed in the
host's ``/tmp``, ``$HOME`` or the repository; no process the attacks started
survives; nobody connected to the listeners; the bystander lives; and the
attackers' own cell outputs show that their attempts failed.

Attacks a-n are the issue's list; o-s went further (memory over many processes,
unbounded tmpfs, a rewired kernel, writing the log through inherited file
descriptors): each found a weakness, fixed since, and its test keeps it fixed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from attacks import (
    ATTACKS,
    BY_LETTER,
    FILL_BYTES,
    FILL_CHUNK,
    FORK_COUNT,
    SOLUTION_ONLY,
    SPREAD_BYTES,
    Attack,
    Listener,
    Target,
    answer_ids,
    build_attacker,
    cell_output_text,
    host_address,
    parse_results,
)
from conftest import REPO, copy_course, run_cli
from course_scenarios import SCENARIOS, build_submission
from nbgrader.api import Gradebook

import convkit
from convkit.course.sandbox import LIMITS, memory_confined

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch01"
NOTEBOOK = "ch01.ipynb"
# Honest students, by id (the order prefix interleaves them with the attackers:
# students are graded in id order, two at a time) -> the scenario they follow.
HONEST = {
    "02-s01-solution": "s01-solution",
    "04-s03-wrong": "s03-wrong",
    "06-s05-infinite-loop": "s05-infinite-loop",
}
VICTIM = "02-s01-solution"  # deleted and read by attackers
FORGED = "04-s03-wrong"  # overwritten by an attacker
SECRET_VARIABLE = "CONVKIT_E2E_GRADER_SECRET"
# What autograde is meant to write in the course root (everything else must stay).
GRADING_OUTPUT_DIRS = {"autograded", "grading"}
GRADEBOOK_FILES = {f"gradebook.db{suffix}" for suffix in ("", "-journal", "-wal", "-shm")}
GiB = 2**30
DISK_MARGIN = GiB  # free space grading may use (the disk filler tries 2 GiB)
NOBODY = 65534


@dataclass
class Batch:
    """A graded copy of the course and what ``autograde`` printed."""

    root: Path
    autograde: subprocess.CompletedProcess[str]

    def outcomes(self) -> dict[str, dict]:
        """grading/outcomes/ch01.json: student -> outcome."""
        path = self.root / "grading" / "outcomes" / f"{ASSIGNMENT}.json"
        return json.loads(path.read_text())

    def cell_scores(self, student: str) -> dict[tuple[str, str], tuple]:
        """(notebook, grade cell) -> (auto_score, max_score) from the gradebook."""
        url = f"sqlite:///{self.root / 'gradebook.db'}?timeout=60"
        with Gradebook(url) as gb:
            submission = gb.find_submission(ASSIGNMENT, student)
            return {
                (nb.name, g.name): (g.auto_score, float(g.max_score))
                for nb in submission.notebooks
                for g in nb.grades
            }

    def attack_output(self, student: str, answer_ids: list[str]) -> str | None:
        """What the answer cells (where the attack code is) showed in the autograded
        notebook, not the test cells; None when there is no autograded notebook."""
        path = self.root / "autograded" / student / ASSIGNMENT / NOTEBOOK
        if not path.is_file():
            return None
        shown = {
            cell.metadata.nbgrader["grade_id"]: cell_output_text(cell)
            for cell in nbformat.read(path, as_version=4).cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") in answer_ids
        }
        assert set(shown) == set(answer_ids), f"{path}: answer cells {sorted(shown)}"
        return "\n".join(shown[cell_id] for cell_id in answer_ids)


@dataclass
class AttackRun:
    """The attacked batch, the honest-only batch, and what the host looked like."""

    target: Target
    attacked: Batch
    honest: Batch
    answer_ids: list[str]
    files_before: dict[str, str]
    files_after: dict[str, str]
    free_before: int
    free_after: int
    connections: list[str]
    survivors: list[str]  # "pid: cmdline" of processes with the token after grading
    bystander_alive: bool | None
    host_markers: list[Path]

    def outcome(self, student: str) -> dict:
        return self.attacked.outcomes()[student]

    def output(self, attack: Attack) -> str:
        """The attack cell's output; fails the test if there is no autograded notebook."""
        text = self.attacked.attack_output(attack.student, self.answer_ids)
        assert text is not None, f"attack {attack.letter} ({attack.title}): not graded, no output"
        return text

    def results(self, attack: Attack) -> dict[str, tuple[str, str]]:
        return parse_results(self.output(attack))


# --- the host's state --------------------------------------------------------------------


def course_files(root: Path) -> dict[str, str]:
    """relative path -> sha256 (files), link target (symlinks) or "dir", for everything
    under ``root`` except what grading writes (gradebook, autograded/, grading/, caches)."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel = here.relative_to(root)
        dirs[:] = [
            d
            for d in dirs
            if d != "__pycache__" and not (rel == Path(".") and d in GRADING_OUTPUT_DIRS)
        ]
        for name in dirs:
            path = here / name
            found[str(path.relative_to(root))] = (
                f"-> {os.readlink(path)}" if path.is_symlink() else "dir"
            )
        for name in files:
            if rel == Path(".") and name in GRADEBOOK_FILES:
                continue
            path = here / name
            if path.is_symlink():
                found[str(path.relative_to(root))] = f"-> {os.readlink(path)}"
            else:
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def processes_with(text: str) -> list[str]:
    """``pid: cmdline`` of every process on the host whose command line holds ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            )
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def marker_files(target: Target) -> list[Path]:
    """Files named with the run's token where an escaped attack would have put them."""
    places = [Path("/tmp"), Path.home(), target.repo, target.package, target.venv]
    places.append(target.root / "solutions" / ASSIGNMENT)
    return sorted(p for place in places for p in place.glob(f"*{target.token}*"))


def start_bystander() -> subprocess.Popen[bytes] | None:
    """A ``sleep`` of user nobody (the kernels' user) outside any grading run; None unless root."""
    if os.geteuid() != 0:
        return None
    return subprocess.Popen(
        ["cvk-bystander", "1200"],
        executable="/usr/bin/sleep",
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        stdin=subprocess.DEVNULL,
    )


# --- building and grading the batches ------------------------------------------------


def _generated_course(root: Path) -> Path:
    copy_course(root)
    result = run_cli(root, "generate", ASSIGNMENT)
    assert result.returncode == 0, f"generate failed:\n{result.stdout}\n{result.stderr}"
    return root


def _submit_honest(root: Path) -> None:
    scenarios = {s.student: s for s in SCENARIOS}
    for student, scenario in HONEST.items():
        build_submission(
            scenarios[scenario],
            root / "solutions" / ASSIGNMENT / NOTEBOOK,
            root / "exercises" / ASSIGNMENT / NOTEBOOK,
            root / "submitted" / student / ASSIGNMENT,
        )


def _autograde(root: Path) -> Batch:
    result = run_cli(root, "autograde", ASSIGNMENT, "--jobs", "2", "--no-progress")
    assert result.returncode == 0, f"autograde failed:\n{result.stdout}\n{result.stderr}"
    return Batch(root, result)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackRun]:
    """Grade the attacked batch and the honest-only batch once for the module."""
    root = _generated_course(tmp_path_factory.mktemp("attacked") / "course")
    token = secrets.token_hex(6)
    listener = Listener(f"cvk-{token}-listener")
    bystander = start_bystander()
    target = Target(
        root=root,
        repo=REPO,
        venv=Path(sys.prefix),
        package=Path(convkit.__file__).resolve().parent,
        token=token,
        victim=VICTIM,
        forged=FORGED,
        port=listener.port,
        host_ip=host_address(),
        abstract_socket=f"cvk-{token}-listener",
        bystander_pid=None if bystander is None else bystander.pid,
        grader_pid=os.getpid(),
        secret=f"cvk-{token}-secret",
    )
    host_markers: list[Path] = []
    survivors: list[str] = []
    try:
        _submit_honest(root)
        release = root / "exercises" / ASSIGNMENT / NOTEBOOK
        for attack in ATTACKS:
            build_attacker(
                attack, target, release, root / "submitted" / attack.student / ASSIGNMENT
            )
        files_before = course_files(root)
        free_before = shutil.disk_usage(root).free
        os.environ[SECRET_VARIABLE] = target.secret
        try:
            attacked = _autograde(root)
        finally:
            del os.environ[SECRET_VARIABLE]
        survivors = processes_with(token)
        files_after = course_files(root)
        free_after = shutil.disk_usage(root).free
        host_markers = marker_files(target)
        bystander_alive = None if bystander is None else bystander.poll() is None
        listener.close()

        honest_root = _generated_course(tmp_path_factory.mktemp("honest") / "course")
        _submit_honest(honest_root)
        honest = _autograde(honest_root)
        yield AttackRun(
            target=target,
            attacked=attacked,
            honest=honest,
            answer_ids=answer_ids(release),
            files_before=files_before,
            files_after=files_after,
            free_before=free_before,
            free_after=free_after,
            connections=list(listener.connections),
            survivors=survivors,
            bystander_alive=bystander_alive,
            host_markers=host_markers,
        )
    finally:
        listener.close()
        if bystander is not None:
            bystander.kill()
            bystander.wait()
        for line in survivors:  # an escaped attack process: end it (we started it)
            try:
                os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass
        for path in host_markers:
            path.unlink(missing_ok=True)


# --- outcomes ------------------------------------------------------------------------

GRADED_ATTACKS = [a for a in ATTACKS if not a.scores]


@pytest.mark.parametrize("attack", GRADED_ATTACKS, ids=[a.student for a in GRADED_ATTACKS])
def test_attacker_gets_no_points(run: AttackRun, attack: Attack) -> None:
    outcome = run.outcome(attack.student)
    what = f"attack {attack.letter} ({attack.title}): {outcome}"
    if attack.must_be is not None:
        assert (outcome["status"], outcome["reason"]) == ("ungraded", attack.must_be), what
    elif outcome["status"] == "ungraded":
        assert outcome["reason"] in attack.ungraded, what
    else:
        assert outcome["status"] == "graded", what
        assert outcome["score"] == 0, what
    if outcome["status"] == "graded":
        scores = run.attacked.cell_scores(attack.student)
        points = {cell: auto for cell, (auto, _) in scores.items() if auto}
        assert points == {}, f"{what}: grade cells with points {points}"


def test_honest_students_graded_as_without_attackers(run: AttackRun) -> None:
    attacked, alone = run.attacked.outcomes(), run.honest.outcomes()
    for student in HONEST:
        assert attacked[student]["status"] == "graded", attacked[student]
        assert (attacked[student]["score"], attacked[student]["max_score"]) == (
            alone[student]["score"],
            alone[student]["max_score"],
        ), f"{student}: with attackers {attacked[student]}, alone {alone[student]}"
        assert run.attacked.cell_scores(student) == run.honest.cell_scores(student), student
    solution = attacked["02-s01-solution"]
    autograded = {
        c: s for c, s in run.attacked.cell_scores("02-s01-solution").items() if s[0] is not None
    }
    assert autograded and all(auto == top for auto, top in autograded.values()), autograded
    for student in ("04-s03-wrong", "06-s05-infinite-loop"):
        assert 0 <= attacked[student]["score"] < solution["score"], attacked[student]


def test_autograde_summary_lists_every_student(run: AttackRun) -> None:
    lines = run.attacked.autograde.stdout.splitlines()
    students = [*HONEST, *(a.student for a in ATTACKS)]
    for student in students:
        assert any(line.startswith(student + " ") for line in lines), (
            f"no summary line for {student}:\n{run.attacked.autograde.stdout}"
        )
    counts = re.search(r"^(\d+) graded, (\d+) ungraded, 0 missing$", lines[-1])
    assert counts, lines[-1]
    assert int(counts[1]) + int(counts[2]) == len(students), lines[-1]
    assert "WARNING" not in run.attacked.autograde.stdout


# --- the host ------------------------------------------------------------------------


def test_course_files_unchanged(run: AttackRun) -> None:
    before, after = run.files_before, run.files_after
    created = sorted(set(after) - set(before))
    deleted = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    assert (created, deleted, changed) == ([], [], []), (
        f"created {created}, deleted {deleted}, changed {changed}"
    )


def test_no_marker_file_anywhere(run: AttackRun) -> None:
    assert run.host_markers == [], "attack files on the host (removed now)"
    in_course = sorted(run.target.root.rglob(f"*{run.target.token}*"))
    assert in_course == [], "attack files in the course (autograded/ included)"


def test_host_disk_not_filled(run: AttackRun) -> None:
    lost = run.free_before - run.free_after
    assert lost < DISK_MARGIN, f"free space fell by {lost / GiB:.2f} GiB during grading"


def test_no_attack_process_survives(run: AttackRun) -> None:
    assert run.survivors == [], "processes left by the attacks (killed now)"


def test_nobody_reached_the_listeners(run: AttackRun) -> None:
    assert run.connections == []


def test_bystander_of_the_same_user_survives(run: AttackRun) -> None:
    if run.bystander_alive is None:
        pytest.skip("not root: no process of user nobody to put beside the kernels")
    assert run.bystander_alive, "kill -1 from a kernel reached a process outside its run"


# --- what each attack saw ------------------------------------------------------------


def _attempts(run: AttackRun, letter: str, prefix: str) -> dict[str, tuple[str, str]]:
    attack = BY_LETTER[letter]
    found = {k: v for k, v in run.results(attack).items() if k.startswith(prefix)}
    assert found, f"attack {letter}: no '{prefix}' results in:\n{run.output(attack)}"
    return found


def test_a_writes_stay_in_the_sandbox(run: AttackRun) -> None:
    writes = _attempts(run, "a", "write ")
    # Mounted read-only into the sandbox: refused there (the others land in its
    # own throw-away filesystem, and the host is checked above).
    for label in ("write convkit package", "write venv"):
        assert writes[label][0] == "failed", (label, writes[label])


def test_b_c_peer_notebooks_not_touched(run: AttackRun) -> None:
    for letter, label, student in (
        ("b", "delete peer notebook", VICTIM),
        ("c", "overwrite peer notebook", FORGED),
    ):
        status, detail = _attempts(run, letter, label)[label]
        assert status == "failed", f"attack {letter}: {detail}"
        name = f"submitted/{student}/{ASSIGNMENT}/{NOTEBOOK}"
        assert run.files_after[name] == run.files_before[name], f"attack {letter}: {name}"


def test_d_gradebook_not_written(run: AttackRun) -> None:
    for label, (status, detail) in _attempts(run, "d", "update gradebook").items():
        assert status == "failed", f"{label}: {detail}"
    status, detail = _attempts(run, "d", "read repository")["read repository gradebook"]
    assert status == "failed", detail


def test_e_f_reads_fail_and_leak_nothing(run: AttackRun) -> None:
    secrets_of = {
        "e": [
            run.files_before[f"solutions/{ASSIGNMENT}/{NOTEBOOK}"],
            hashlib.sha256((REPO / "solutions" / ASSIGNMENT / NOTEBOOK).read_bytes()).hexdigest(),
            SOLUTION_ONLY,
            "holds the needle: True",
        ],
        "f": [run.files_before[f"submitted/{VICTIM}/{ASSIGNMENT}/{NOTEBOOK}"]],
    }
    for letter, leaks in secrets_of.items():
        for label, (status, detail) in run.results(BY_LETTER[letter]).items():
            assert status == "failed", f"attack {letter}: {label}: {detail}"
        output = run.output(BY_LETTER[letter])
        for leak in leaks:
            assert leak not in output, f"attack {letter} shows {leak!r}:\n{output}"


def test_g_no_network(run: AttackRun) -> None:
    attempts = run.results(BY_LETTER["g"])
    assert len(attempts) >= 5, attempts
    for label, (status, detail) in attempts.items():
        assert status == "failed", f"{label}: {detail}"


def test_h_fork_bomb_bounded(run: AttackRun) -> None:
    forked = int(_attempts(run, "h", "forked")["forked"][1])
    assert forked < FORK_COUNT, forked
    assert forked <= LIMITS.processes, f"{forked} processes, limit {LIMITS.processes}"


def test_i_disk_filler_bounded(run: AttackRun) -> None:
    written = int(_attempts(run, "i", "bytes written")["bytes written"][1])
    bound = LIMITS.workdir_bytes + LIMITS.tmp_bytes + FILL_CHUNK
    assert written < FILL_BYTES, written
    assert written <= bound, f"{written} bytes, bound {bound}"


def test_j_daemons_started_and_gone(run: AttackRun) -> None:
    started = _attempts(run, "j", "daemon")
    assert any(status == "ok" for status, _ in started.values()), started
    assert processes_with(run.target.marker("daemon")) == []


def test_k_forged_pass_is_plain_output(run: AttackRun) -> None:
    attack = BY_LETTER["k"]
    assert "All tests passed!" in run.output(attack)
    outcome = run.outcome(attack.student)
    assert (outcome["status"], outcome["score"]) == ("graded", 0), outcome


def test_l_kill_all_reaches_nothing(run: AttackRun) -> None:
    attack = BY_LETTER["l"]
    text = run.attacked.attack_output(attack.student, run.answer_ids)
    if text is None:  # it killed its own kernel: allowed, the others are checked above
        assert run.outcome(attack.student)["reason"] == "kernel died"
        return
    attempts = parse_results(text)
    assert "skipped" not in text, text  # the kernel ran as root
    for label in ("kill grader", "kill bystander"):
        if label in attempts:
            assert attempts[label][0] == "failed", (label, attempts[label])


def test_n_sees_only_its_own_processes(run: AttackRun) -> None:
    attempts = run.results(BY_LETTER["n"])
    visible = int(attempts["visible processes"][1])
    assert visible <= 5, f"{visible} processes visible"
    cmdlines = " ".join(
        detail for label, (_, detail) in attempts.items() if label.startswith("cmdline")
    )
    for host_word in ("pytest", "nbgrader", "cvk-bystander"):
        assert host_word not in cmdlines, cmdlines
    assert attempts["grader process"][0] == "failed", attempts["grader process"]
    assert attempts["uid"][1] != "0", attempts["uid"]
    assert attempts["own environment has the secret"][1] == "False"
    # Outside the system and the read-only Python: no notebook, no database anywhere.
    assert attempts["files found"] == ("ok", "[]"), attempts["files found"]


# --- weaknesses the first version of these attacks found, fixed since ------------------


def test_n_grader_environment_not_readable(run: AttackRun) -> None:
    output = run.output(BY_LETTER["n"])
    assert run.target.secret not in output, "the grader's environment is readable:\n" + "\n".join(
        line for line in output.splitlines() if run.target.secret in line
    )


def test_o_memory_bounded_per_submission(run: AttackRun) -> None:
    """Children that each stay under the per-process cap cannot together pass the
    container's cap (a memory cgroup, where grading runs as root): the kernel may be
    killed for it (ungraded), or the children are."""
    if not memory_confined():
        pytest.skip("no memory cgroup here (not root, or no memory controller)")
    outcome = run.outcome(BY_LETTER["o"].student)
    if outcome["status"] == "ungraded":
        assert outcome["reason"] == "kernel died", outcome
        return
    held = int(_attempts(run, "o", "bytes held")["bytes held at once"][1])
    cap = 4 * GiB
    assert held <= cap, f"{held / GiB:g} GiB held at once by {held // SPREAD_BYTES} processes"


def test_p_only_the_bounded_tmpfs_are_writable(run: AttackRun) -> None:
    attempts = _attempts(run, "p", "")
    outside = int(attempts["bytes written outside the bounded tmpfs"][1])
    assert outside == 0, f"{outside / 2**20:g} MiB written outside /tmp and the working dir"


def test_q_submitted_symlinks_leak_nothing(run: AttackRun) -> None:
    """Symlinks in a submission folder (to solutions/, a peer's notebook, the gradebook)
    must not bring those files into the kernel's working directory."""
    attack = BY_LETTER["q"]
    output = run.output(attack)
    leaks = {
        "solutions": run.files_before[f"solutions/{ASSIGNMENT}/{NOTEBOOK}"],
        "peer notebook": run.files_before[f"submitted/{VICTIM}/{ASSIGNMENT}/{NOTEBOOK}"],
    }
    shown = [name for name, digest in leaks.items() if digest in output]
    assert shown == [], f"read through submitted symlinks: {shown}\n{output}"
    read = {k: v for k, v in run.results(attack).items() if k.startswith("read ")}
    assert len(read) == 3, output
    assert all(status == "failed" for status, _ in read.values()), read


def test_r_hidden_failures_score_zero(run: AttackRun) -> None:
    """A kernel rewired to hide failing tests is caught: the grader's own raising code
    comes back without its error (``LimitedExecute``), so the run is not graded."""
    outcome = run.outcome(BY_LETTER["r"].student)
    assert (outcome["status"], outcome["reason"]) == ("ungraded", "kernel tampered with"), outcome


def test_s_kernel_cannot_write_host_files(run: AttackRun) -> None:
    attack = BY_LETTER["s"]
    written = int(_attempts(run, "s", "bytes written")["bytes written to a host file"][1])
    log = run.attacked.root / "grading" / "logs" / ASSIGNMENT / f"{attack.student}.log"
    size = log.stat().st_size if log.is_file() else 0
    assert written == 0, (
        f"{written} bytes written to {run.results(attack)['host files open'][1]}; "
        f"{log.relative_to(run.attacked.root)} is {size / 2**20:.1f} MiB"
    )
