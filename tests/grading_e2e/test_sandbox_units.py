"""Fast checks of the grading sandbox's parts, the job format and the output bound."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from convkit.course import preflight, sandbox
from convkit.course.jobs import GradingJob, read_submission, safe_write
from convkit.course.limited_execute import message_bytes
from convkit.course.outcomes import Reason, classify_failure


def test_the_sandbox_starts_here() -> None:
    assert sandbox.probe() is None


def test_a_missing_bubblewrap_is_named_with_its_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    why = sandbox.probe()
    assert why is not None and "bubblewrap is not installed" in why
    assert "apt-get install bubblewrap" in why


def test_preflight_refuses_without_a_sandbox_and_names_the_way_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(preflight, "sandbox_probe", lambda: "user namespaces are disabled")
    check = preflight.check_sandbox()
    assert not check.ok
    assert "user namespaces are disabled" in check.detail
    assert "--no-sandbox" in check.detail


def test_the_kernel_sees_no_network_no_course_and_runs_as_nobody(tmp_path: Path) -> None:
    """The container as a kernel gets it, in a child process (the setup changes the process)."""
    marker = tmp_path / "secret.txt"
    marker.write_text("solutions")
    code = f"""
import os, socket, sys
from convkit.course.sandbox import enter_private_network, prepare_sandbox, drop_privileges
from convkit.course.kernel_launcher import die_with_parent
enter_private_network()
probe = '''
import os, socket
print("uid", os.getuid())
print("secret visible", os.path.exists({str(marker)!r}))
try:
    socket.create_connection(("127.0.0.1", {{port}}), timeout=2)
    print("connected")
except OSError as exc:
    print("no connection", type(exc).__name__)
open("/home/student/scratch.txt", "w").write("x")
print("wrote scratch")
try:
    open("/usr/evil", "w")
    print("wrote /usr")
except OSError:
    print("/usr read-only")
'''
command = prepare_sandbox([sys.executable, "-c", probe.format(port=sys.argv[1])])
drop_privileges()
os.execv(command[0], command)
"""
    with __import__("socket").socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-c", code, str(port)], capture_output=True, text=True, timeout=60
        )
        try:
            listener.accept()
            reached = True
        except TimeoutError:
            reached = False
    assert result.returncode == 0, result.stderr
    out = result.stdout
    if os.geteuid() == 0:
        assert "uid 65534" in out
    assert "secret visible False" in out
    assert "no connection" in out and not reached
    assert "wrote scratch" in out and "/usr read-only" in out


def test_submission_files_skip_links_and_writes_stay_inside(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "ch01.ipynb").write_text("{}")
    (folder / "link").symlink_to("/etc/passwd")
    assert read_submission(folder) == {"ch01.ipynb": b"{}"}
    with pytest.raises(ValueError, match="outside"):
        safe_write(tmp_path / "out", {"../escape.txt": b"x"})
    assert not (tmp_path / "escape.txt").exists()


def test_a_job_fingerprint_changes_with_the_submission_and_the_kit() -> None:
    job = GradingJob("ch01", "ann", {"ch01.ipynb": b"a"}, "kit1")
    assert job.fingerprint == GradingJob("ch01", "ann", {"ch01.ipynb": b"a"}, "kit1").fingerprint
    assert job.fingerprint != GradingJob("ch01", "ann", {"ch01.ipynb": b"b"}, "kit1").fingerprint
    assert job.fingerprint != GradingJob("ch01", "ann", {"ch01.ipynb": b"a"}, "kit2").fingerprint


def test_output_is_counted_in_characters_and_a_flood_is_its_own_reason() -> None:
    assert message_bytes({"text": "abc", "name": "stdout"}) == len("text") + 3 + len("name") + 6
    assert message_bytes({"data": {"text/plain": ["ab", "cd"]}}) == 4 + 10 + 4
    log = "convkit.course.limited_execute.OutputLimitExceeded: the notebook's output passed 5"
    reason, detail = classify_failure(log)
    assert reason is Reason.OUTPUT_LIMIT
    assert "output passed" in detail


def test_a_worker_skips_saving_the_scores_and_uses_the_prompt_kernel(tmp_path: Path) -> None:
    # The worker's throw-away gradebook is never read: the grading side saves the
    # scores (record.save_grades), so the worker's configuration drops both savers.
    from traitlets.config.loader import PyFileConfigLoader

    from convkit.course.jobs import WORKER_CONFIG

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "nbgrader_config.py").write_text(
        (root / "nbgrader_config.py").read_text() + WORKER_CONFIG
    )
    shutil.copy(root / "course.yml", tmp_path / "course.yml")  # nbgrader_config.py reads it
    c = PyFileConfigLoader("nbgrader_config.py", str(tmp_path)).load_config()
    names = [str(p).rsplit(".", 1)[-1] for p in c.Autograde.autograde_preprocessors]
    assert "LimitedExecute" in names and "CheckCellMetadata" in names
    assert "SaveAutoGrades" not in names and "AssignLatePenalties" not in names
    # ... and its kernel client waits for the kernel, not for a timer (prompt_kernel).
    from convkit.course.prompt_kernel import PromptKernelClient, PromptKernelManager

    assert c.Execute.kernel_manager_class == "convkit.course.prompt_kernel.PromptKernelManager"
    assert PromptKernelManager().client_factory is PromptKernelClient


def test_a_dask_scheduler_unpickles_jobs_without_importing_nbgrader() -> None:
    # The scheduler unpickles every task; importing nbgrader there cost 2 s per run.
    code = (
        "import pickle, sys\n"
        "from convkit.course.jobs import GradingJob\n"
        "job = pickle.loads(pickle.dumps(GradingJob('ch01', 'ann', {'a': b'1'}, 'f')))\n"
        "import convkit.course.cluster\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'nbgrader'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_workers_grading_process_must_run_the_grading_sides_code() -> None:
    # check_worker starts the worker's grading process (as the Dask preload hook
    # does) and compares the code that process has loaded.
    from convkit.course import cluster

    try:
        assert cluster.check_worker(cluster.code_fingerprint(), sandbox=False) is None
        why = cluster.check_worker("another version", sandbox=False)
        assert why is not None and "convkit differs" in why
    finally:
        cluster.dask_teardown(None)


def test_cleanup_keeps_the_cgroup_of_a_kernel_still_starting(tmp_path: Path) -> None:
    """Two kernels start at once: one's cleanup must not remove the other's cgroup in the
    moment between its creation and the launcher moving in (that kernel would then run
    without the container's memory cap). Only cgroups whose launcher has exited go."""
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead_pid = subprocess.Popen([sys.executable, "-c", "pass"])
        dead_pid.wait()
        starting = tmp_path / f"kernel-{alive.pid}"
        finished = tmp_path / f"kernel-{dead_pid.pid}"
        busy = tmp_path / f"kernel-{dead_pid.pid + 10**7}"  # no such process, not empty
        stray = tmp_path / "leftover"
        for folder in (starting, finished, busy, stray):
            folder.mkdir()
        (busy / "cgroup.procs").write_text("123\n")
        removed = sandbox.remove_stale_cgroups(tmp_path)
        assert sorted(removed) == sorted([finished, stray])
        assert starting.is_dir() and busy.is_dir()
    finally:
        alive.kill()
        alive.wait()


def test_the_launcher_refuses_to_run_without_its_memory_cgroup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where kernels are capped as a whole (root, a memory controller), a launcher that
    cannot move into its cgroup stops instead of running student code uncapped."""
    from convkit.course import kernel_launcher

    monkeypatch.setattr(kernel_launcher, "memory_confined", lambda: True)
    monkeypatch.setattr(kernel_launcher, "confine_memory", lambda limit: False)
    monkeypatch.setattr(kernel_launcher, "prepare_sandbox", lambda *a, **k: ["true"])
    with pytest.raises(SystemExit, match="refusing to run student code without"):
        kernel_launcher._exec_sandboxed(2**30, ["--probe"])
