"""The grading sandbox: student code runs in a bubblewrap container of its own.

Threat model: a submission's code is hostile and knows how grading works.  The
only process that runs it is the grading kernel, so the kernel, and only the
kernel, is sandboxed; nbgrader itself is trusted code and stays outside, where
the kernel cannot reach its files, its memory or its processes.  That is what
makes the scores trustworthy: nbgrader reads them off the cell results it
received over the kernel's sockets, never off anything the kernel could write.

Two layers, set up for every autograde run of one submission:

1. **A private network for the run** (:func:`enter_private_network`): the
   nbgrader process of the run moves into a network namespace of its own that
   holds only a loopback interface.  The kernel talks to nbgrader over that
   loopback; nothing else listens there, and the host's network, its
   ``127.0.0.1`` included, is out of reach.
2. **The kernel's container** (:func:`sandbox_command`, used by
   ``kernel_launcher``): ``bwrap`` with new user, PID, IPC, UTS and cgroup
   namespaces, run as an unprivileged user (``nobody`` when grading runs as
   root, so that per-user limits bind), ``--new-session``,
   ``--die-with-parent``, no way back into a user namespace
   (``--disable-userns``), and a filesystem of:

   - the system (``/usr``, ``/etc``), Python, the virtual environment and the
     ``convkit`` package, read-only;
   - a fresh ``/proc`` and ``/dev``;
   - three size-bounded tmpfs, the working directory, ``/tmp`` and
     ``/dev/shm``: the only places it can write, thrown away with the
     container (the rest of its root and ``/dev`` are remounted read-only);
   - nothing else: not the course folder, other submissions, the gradebook,
     ``solutions/``, ``$HOME`` or the host's ``/tmp``.

   Inside, before IPython starts, ``kernel_launcher`` caps memory (address
   space), CPU time, processes and file size (:class:`SandboxLimits`); where
   grading runs as root with a cgroup memory controller, the whole container's
   memory is capped too (:func:`confine_memory`).  When
   the kernel exits or is killed, its PID namespace goes with it: no process it
   started survives the run.

Student-side ``validate`` runs without the sandbox (:data:`SANDBOX_ENV` unset).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from convkit._env import SINGLE_THREAD_ENV

# Set to "1" in the environment of an nbgrader run whose kernels must be sandboxed.
SANDBOX_ENV = "CONVKIT_SANDBOX"
# Where the kernel works and keeps its connection file, inside the container.
WORKDIR = "/home/student"
CONNECTION_FILE = "/run/kernel/connection.json"
NOBODY = 65534
# Environment variables a kernel may keep; everything else (tokens, keys) is dropped.
KEPT_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED", "NBGRADER_EXECUTION")
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1


NO_BWRAP = (
    "bubblewrap is not installed: install it (Debian: apt-get install bubblewrap; "
    "`make sandbox-deps` does it)"
)


class SandboxUnavailable(RuntimeError):
    """Raised when the grading sandbox cannot start on this machine (message: why, and the fix)."""


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed kernel may use.  Memory is capped by ``kernel_launcher
    --memory-limit``: each process's address space, and (:func:`confine_memory`)
    the whole container's memory where a cgroup allows; these are the other bounds.

    - ``processes``: processes and threads of the container (``RLIMIT_NPROC``);
      IPython uses about ten.
    - ``file_bytes``: the largest file it may write (``RLIMIT_FSIZE``).
    - ``workdir_bytes``, ``tmp_bytes``, ``shm_bytes``: sizes of the tmpfs it can
      write to (its working directory, ``/tmp``, ``/dev/shm``); everything else
      in the container is read-only.
    - ``cpu_seconds``: CPU time of each process (``RLIMIT_CPU``; the wall-clock
      limit of the whole run is enforced outside, by ``bounded``).
    """

    processes: int = 128
    file_bytes: int = 256 * 2**20
    workdir_bytes: int = 256 * 2**20
    tmp_bytes: int = 256 * 2**20
    shm_bytes: int = 64 * 2**20
    cpu_seconds: int = 3600


LIMITS = SandboxLimits()


def bwrap_path() -> str | None:
    """The ``bwrap`` executable, or None when bubblewrap is not installed."""
    return shutil.which("bwrap") or (
        "/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None
    )


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def enter_private_network() -> None:
    """Move this process into a new network namespace whose loopback is up.

    As root this is a plain network namespace; otherwise a user namespace comes
    with it (the same user, mapped to itself).  Raises ``OSError`` when the
    kernel refuses.
    """
    flags = _CLONE_NEWNET
    uid, gid = os.getuid(), os.getgid()
    if os.geteuid() != 0:
        flags |= _CLONE_NEWUSER
    if _libc().unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(network namespace): {os.strerror(err)}")
    if flags & _CLONE_NEWUSER:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags_now = struct.unpack("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags_now | _IFF_UP))


def _python_roots() -> list[Path]:
    """Directories the kernel's Python needs: its installation, the venv, convkit's parent."""
    import convkit

    roots = [
        Path(sys.base_prefix).resolve(),
        Path(sys.prefix).resolve(),
        Path(sys.executable).resolve().parent.parent,
        Path(convkit.__file__).resolve().parent.parent,
    ]
    chosen: list[Path] = []
    for root in sorted(set(roots), key=lambda p: len(p.parts)):
        if root == Path("/") or any(root.is_relative_to(c) for c in chosen):
            continue
        if root.is_relative_to("/usr"):
            continue  # the system's /usr is mounted whole
        chosen.append(root)
    return chosen


_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18
_CLONE_NEWNS = 0x00020000
STAGING = "/tmp"  # where, in this process's own mount namespace, the roots are staged


def _encode(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    args = (_encode(source), _encode(target), _encode(fstype), flags, _encode(data))
    if _libc().mount(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _stage(roots: list[Path]) -> list[str]:
    """As root: make ``roots`` reachable by an unprivileged user; returns their new paths.

    A Python under ``/root`` cannot be reached by ``nobody``.  In a mount namespace
    of this process alone, a fresh tmpfs covers :data:`STAGING` and each root is
    bind-mounted into it (from a file descriptor opened first, so a root that
    lies under :data:`STAGING` itself is found too); ``bwrap``, run as
    ``nobody``, mounts them from there.  Nothing outside this process sees it.
    """
    if _libc().unshare(_CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(mount namespace): {os.strerror(err)}")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    fds = [os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for root in roots]
    _mount("tmpfs", STAGING, "tmpfs", 0, "mode=755,size=1m")
    staged = []
    for index, fd in enumerate(fds):
        target = f"{STAGING}/{index}"
        os.mkdir(target, 0o755)
        _mount(f"/proc/self/fd/{fd}", target, None, _MS_BIND | _MS_REC)
        os.close(fd)
        staged.append(target)
    return staged


def prepare_sandbox(
    inner: list[str], *, connection_file: str | None = None, workdir_files: list[Path] = ()
) -> list[str]:
    """Prepare this process to exec the ``bwrap`` command that runs ``inner`` in the
    kernel's container, and return that command.

    ``connection_file`` is copied to :data:`CONNECTION_FILE` (``inner`` must name that
    path) and each of ``workdir_files`` into the working directory, from file
    descriptors opened here, so that ``bwrap`` can read them after the change of user.
    As root, the Python roots are staged first (:func:`_stage`).  The caller then
    calls :func:`drop_privileges` and execs the command; see ``kernel_launcher``.
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(NO_BWRAP)

    def fd_of(path: Path | str) -> str:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        os.set_inheritable(fd, True)  # bwrap reads it after the exec
        return str(fd)

    files = [(fd_of(path), f"{WORKDIR}/{path.name}") for path in workdir_files]
    if connection_file is not None:
        files.append((fd_of(connection_file), CONNECTION_FILE))
    roots = _python_roots()
    sources = _stage(roots) if _drops_privileges() else [str(root) for root in roots]

    argv = [bwrap, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    argv += ["--unshare-cgroup-try", "--disable-userns", "--new-session", "--die-with-parent"]
    argv += ["--hostname", "sandbox", "--clearenv", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            argv += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            argv += ["--ro-bind", str(top), str(top)]
    argv += ["--ro-bind", "/etc", "/etc"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--size", str(LIMITS.shm_bytes), "--tmpfs", "/dev/shm"]
    argv += ["--size", str(LIMITS.tmp_bytes), "--tmpfs", "/tmp"]
    argv += ["--size", str(LIMITS.workdir_bytes), "--tmpfs", WORKDIR]
    # After the tmpfs: a venv or checkout under /tmp stays visible (read-only) on top.
    for source, root in zip(sources, roots, strict=True):
        argv += ["--ro-bind", source, str(root)]
    argv += ["--dir", str(Path(CONNECTION_FILE).parent)]
    for fd, destination in files:
        argv += ["--file", fd, destination]
    # bwrap's own root and /dev are unbounded tmpfs: read-only once everything is in place.
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORKDIR]
    path = [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    env = {
        "PATH": os.pathsep.join(path),
        "HOME": WORKDIR,
        "TMPDIR": "/tmp",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "VIRTUAL_ENV": sys.prefix,
        **SINGLE_THREAD_ENV,
    }
    env.update({name: os.environ[name] for name in KEPT_ENV if name in os.environ})
    for name, value in env.items():
        argv += ["--setenv", name, value]
    return [*argv, "--", *inner]


def _drops_privileges() -> bool:
    return os.geteuid() == 0


CGROUP_GROUP = "convkit-sandbox"  # parent of the per-kernel memory cgroups


def _cgroup_base() -> tuple[Path, str, list[str]] | None:
    """(folder for our cgroups, memory limit file, extra limit files) on this machine."""
    root = Path("/sys/fs/cgroup")
    controllers = root / "cgroup.controllers"
    if controllers.is_file():  # cgroup v2
        if "memory" not in controllers.read_text().split():
            return None
        return root / CGROUP_GROUP, "memory.max", ["memory.swap.max"]
    if (root / "memory" / "memory.limit_in_bytes").is_file():  # cgroup v1
        return root / "memory" / CGROUP_GROUP, "memory.limit_in_bytes", []
    return None


def confine_memory(limit: int) -> bool:
    """Move this process into a fresh memory cgroup of at most ``limit`` bytes.

    Bounds the memory of the whole container (every process, and the pages of
    its tmpfs), which the per-process address-space cap cannot.  Needs root and
    a cgroup memory controller (v1 or v2); returns False when it could not, and
    the per-process caps remain.  Empty cgroups of earlier kernels are removed.
    """
    if os.geteuid() != 0:
        return False
    found = _cgroup_base()
    if found is None:
        return False
    base, limit_file, zero_files = found
    try:
        base.mkdir(exist_ok=True)
        if limit_file == "memory.max":  # v2: let the children use the controller
            (base / "cgroup.subtree_control").write_text("+memory")
        remove_stale_cgroups(base)
        mine = base / f"kernel-{os.getpid()}"
        mine.mkdir()
        (mine / limit_file).write_text(str(limit))
        for name in zero_files:
            if (mine / name).exists():
                (mine / name).write_text("0")
        (mine / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        return False
    return True


def remove_stale_cgroups(base: Path) -> list[Path]:
    """Remove the cgroups of earlier kernels in ``base`` whose launcher has exited.

    Each kernel's cgroup is named ``kernel-<pid>`` after the launcher that made it (the
    process that then becomes the container).  Only folders whose launcher is gone are
    removed: one whose launcher still runs may be empty only because that launcher has
    made it and not yet moved in, and removing it then would let that kernel start
    without its memory cap (two kernels start at once on every run with two jobs).
    A folder that is not empty stays (``rmdir`` refuses).  Returns the removed folders.
    """
    removed = []
    for folder in sorted(base.iterdir()):
        if not folder.is_dir() or _launcher_alive(folder.name):
            continue
        try:
            folder.rmdir()  # fails while a process still runs in it
        except OSError:
            continue
        removed.append(folder)
    return removed


def _launcher_alive(name: str) -> bool:
    """Whether the process a ``kernel-<pid>`` cgroup is named after still runs."""
    prefix, _, pid = name.partition("-")
    if prefix != "kernel" or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        return True
    return True


def drop_privileges() -> None:
    """As root, become ``nobody`` (no supplementary groups); otherwise do nothing.

    Root is exempt from the per-user process limit, so the kernel must not run as root.
    """
    if not _drops_privileges():
        return
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def probe(timeout: float = 60.0) -> str | None:
    """Start the sandbox once, as a grading run would; None if it works, else why not.

    Runs ``python -c 'import convkit'`` in the kernel's container, inside a
    private network, in a child process.
    """
    if bwrap_path() is None:
        return NO_BWRAP
    code = (
        "import os, sys;"
        "from convkit.course.sandbox import enter_private_network;"
        "enter_private_network();"
        "os.environ['CONVKIT_SANDBOX']='1';"
        "from convkit.course.kernel_launcher import main;"
        "main(['--probe'])"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"the sandbox did not start within {timeout:g} s"
    if result.returncode == 0 and "sandbox ok" in result.stdout:
        return None
    return _unavailable(result)


def memory_confined() -> bool:
    """Whether kernels' memory is capped as a whole here (root and a memory cgroup)."""
    return os.geteuid() == 0 and _cgroup_base() is not None


def _unavailable(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stderr or result.stdout).strip().splitlines()
    why = lines[-1] if lines else f"exit status {result.returncode}"
    return (
        f"the grading sandbox (bubblewrap) cannot start: {why}. Install bubblewrap "
        "(apt-get install bubblewrap) and allow user namespaces "
        "(sysctl user.max_user_namespaces=15000; on Debian also "
        "kernel.unprivileged_userns_clone=1)"
    )
