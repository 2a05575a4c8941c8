"""Grading on a Dask cluster: one task per submission, results recorded by the caller.

``autograde --scheduler tcp://HOST:8786`` sends each submission's
:class:`~convkit.course.jobs.GradingJob` to the workers of a Dask distributed
cluster.  What crosses the network: the assignment's kit once per worker (the
nbgrader configuration, a gradebook holding only the assignment's cells, and
the source folder's non-notebook files; never the solution notebooks), each
submission's files, and back the graded notebooks and the log.  Workers share no
filesystem and no gradebook with the grading side; each grades in a throw-away
folder, its kernels in the grading sandbox.

Failures: Dask runs a task again on another worker when its worker dies (up to
``distributed.scheduler.allowed-failures`` times); the caller records the first
result of each student only, so no grade is counted twice, and a task that
keeps killing workers comes back as an error (that student: ungraded).

Before anything is sent, every worker must pass :func:`check_worker`: the same
``convkit`` code as the grading side (the hidden tests call it), and a sandbox
that starts.  A worker grades in a single-threaded process of its own, started
with the worker when it is given ``--preload convkit.course.cluster``
(:func:`dask_setup`), else by the check.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from convkit.course.jobs import AssignmentKit, GradingJob, JobResult, execute_job
from convkit.course.kernel_launcher import die_with_parent

CONNECT_TIMEOUT = 30.0  # seconds to reach the scheduler and see a worker
# Settings for grading workers: Dask's statistical profiler samples every thread
# of a worker every 10 ms, CPU that grading needs more (see the README).
WORKER_ENV = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}

class ClusterError(RuntimeError):
    """The cluster cannot grade: no scheduler, no worker, or a worker that fails its check."""


def code_fingerprint() -> str:
    """SHA-256 of every Python file of the installed ``convkit`` package."""
    import convkit

    package = Path(convkit.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def check_worker(expected_code: str, sandbox: bool) -> str | None:
    """On a worker: None if it can grade, else why not.

    Starts the worker's grading process if it is not running yet (its start-up
    overlaps the sandbox probe), and compares the code that process has loaded.
    """
    _server.start()
    problem = None
    if sandbox:
        from convkit.course.sandbox import probe

        problem = probe()
    try:
        loaded = grading_process_code()
    except RuntimeError as exc:
        return str(exc)
    if loaded != expected_code:
        return "its convkit differs from the grading side's (update its checkout, `make setup`)"
    return problem


def grading_process_code() -> str:
    """On a worker: the convkit fingerprint its grading process reports, once it is ready
    (started now if it is not running)."""
    return _server.code()


def dask_setup(worker: object) -> None:
    """Dask preload hook (``dask worker ... --preload convkit.course.cluster``): start the
    worker's grading process with the worker, so the first job finds it warm."""
    _server.start()


def dask_teardown(worker: object) -> None:
    """Dask preload hook: stop the worker's grading process when the worker closes."""
    _server.stop()


def serve_jobs() -> None:
    """A worker's grading process: run the jobs read from stdin, write the results to stdout.

    First it writes ``("ready", code_fingerprint())``, once nbgrader is imported.
    Then each request is a pickled ``(kit, job, run_timeout, sandbox)``, each reply a
    pickled ``("ok", JobResult)`` or ``("error", why)``.  It dies with the Dask
    worker that started it (and its nbgrader run with it).
    """
    import pickle

    import nbgrader.apps.nbgraderapp  # noqa: F401  (imported once: every job forks warm)

    die_with_parent()
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the replies
    pickle.dump(("ready", code_fingerprint()), replies)  # the code this process runs
    replies.flush()
    while True:
        try:
            kit, job, run_timeout, sandbox = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = ("ok", execute_job(kit, job, run_timeout=run_timeout, sandbox=sandbox))
        except Exception as exc:  # reported to the grading side: that student only
            reply = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(reply, replies)
        replies.flush()


class _JobServer:
    """The single-threaded process (:func:`serve_jobs`) a Dask worker grades in.

    A Dask worker is multi-threaded, and forking a threaded process is unsafe;
    this process is not, and it imports nbgrader once, so every job forked
    from it starts warm.  Started with the worker (:func:`dask_setup`), by the
    worker check or by the first job, and again if it died.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._code: str | None = None  # what the running process reported when ready
        self._lock = threading.RLock()

    def start(self) -> None:
        """Start the grading process unless it is running (returns at once)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                code = "from convkit.course.cluster import serve_jobs; serve_jobs()"
                self._proc = subprocess.Popen(
                    [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
                )
                self._code = None

    def code(self) -> str:
        """The convkit fingerprint of the running grading process (waits until it is ready)."""
        import pickle

        with self._lock:
            self.start()
            proc = self._proc
            assert proc is not None and proc.stdout is not None
            if self._code is None:
                try:
                    status, value = pickle.load(proc.stdout)
                except (EOFError, OSError, pickle.UnpicklingError) as exc:
                    self.stop()
                    raise RuntimeError("the grading process of this worker did not start") from exc
                if status != "ready":
                    self.stop()
                    raise RuntimeError(f"the grading process of this worker said {status!r}")
                self._code = value
            return self._code

    def run(
        self, kit: AssignmentKit, job: GradingJob, run_timeout: float, sandbox: bool
    ) -> JobResult:
        """Grade ``job`` in the grading process; its JobResult."""
        import pickle

        with self._lock:
            self.code()
            proc = self._proc
            assert proc is not None and proc.stdin is not None and proc.stdout is not None
            try:
                pickle.dump((kit, job, run_timeout, sandbox), proc.stdin)
                proc.stdin.flush()
                status, value = pickle.load(proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                self.stop()
                raise RuntimeError("the grading process of this worker died") from exc
        if status != "ok":
            raise RuntimeError(value)
        return value

    def stop(self) -> None:
        """Kill the grading process (a job it was running comes back as an error).

        Takes no lock, so that it can stop a process that is running a job."""
        proc, self._proc, self._code = self._proc, None, None
        if proc is not None:
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()


_server = _JobServer()


def run_job_on_worker(
    kit: AssignmentKit, job: GradingJob, run_timeout: float, sandbox: bool
) -> JobResult:
    """The Dask task: :func:`~convkit.course.jobs.execute_job` in this worker's
    grading process."""
    return _server.run(kit, job, run_timeout, sandbox)


def grade_on_cluster(
    scheduler: str,
    kit: AssignmentKit,
    jobs: list[GradingJob],
    *,
    run_timeout: float,
    sandbox: bool,
    on_result: Callable[[str, JobResult], None],
    on_error: Callable[[str, str], None],
) -> None:
    """Run ``jobs`` on the cluster at ``scheduler``; report each as it finishes.

    ``on_result(student, result)`` or ``on_error(student, why)`` is called
    once per job, in this thread, as results arrive.  Raises
    :class:`ClusterError` before sending any job if the cluster cannot grade.
    """
    from distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except TimeoutError as exc:
            raise ClusterError(
                f"no Dask worker joined {scheduler} within {CONNECT_TIMEOUT:g} s"
            ) from exc
        problems = client.run(check_worker, code_fingerprint(), sandbox)
        failed = {worker: why for worker, why in problems.items() if why}
        if failed:
            listed = "; ".join(f"{worker}: {why}" for worker, why in sorted(failed.items()))
            raise ClusterError(f"workers that cannot grade: {listed}")
        if not jobs:
            return
        kit_future = client.scatter(kit, broadcast=True, hash=False)
        students: dict[str, str] = {}
        futures = []
        for job in jobs:
            key = f"autograde-{job.assignment}-{job.student}-{uuid.uuid4().hex[:8]}"
            futures.append(
                client.submit(
                    run_job_on_worker, kit_future, job, run_timeout, sandbox, key=key, pure=False
                )
            )
            students[key] = job.student
        for future in as_completed(futures):
            student = students[future.key]
            try:
                result = future.result()
            except Exception as exc:  # KilledWorker, a broken pool, a bug: that student only
                on_error(student, f"on the cluster: {type(exc).__name__}: {exc}")
            else:
                on_result(student, result)
            future.release()


@contextlib.contextmanager
def local_cluster(folder: Path, workers: int, *, threads: int = 1) -> Iterator[str]:
    """A Dask scheduler and ``workers`` workers on 127.0.0.1, as separate processes.

    Each process runs in a folder of its own under ``folder`` (its log is
    ``log.txt`` there); workers have no nanny, so killing one kills it.  Yields
    the scheduler's address once every worker has joined and its grading process
    is ready (what follows is grading, not start-up); stops them all on exit.
    For trying the cluster mode on one machine, the tests and the benchmark.
    """
    from distributed import Client

    from convkit.course.course import nbgrader_env

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    procs: list[subprocess.Popen[bytes]] = []
    env = {**nbgrader_env(), **WORKER_ENV}

    def start(name: str, command: list[str]) -> None:
        cwd = folder / name
        cwd.mkdir(parents=True, exist_ok=True)
        with open(cwd / "log.txt", "wb") as log:
            procs.append(subprocess.Popen(command, cwd=cwd, stdout=log, stderr=log, env=env))

    try:
        start(
            "scheduler",
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        )
        for i in range(workers):
            start(
                f"worker{i}",
                [
                    dask,
                    "worker",
                    address,
                    "--name",
                    f"worker{i}",
                    "--nthreads",
                    str(threads),
                    "--no-nanny",
                    "--no-dashboard",
                    "--local-directory",
                    str(folder / f"worker{i}"),
                    "--preload",
                    "convkit.course.cluster",
                ],
            )
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
            client.run(grading_process_code)  # every grading process has imported nbgrader
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
