"""Kernel sandbox: bubblewrap (as root or unprivileged) or a no-namespace fallback, plus cgroups.

Every live kernel gets a *slot*: its own uid (20000-20999), a connection directory for ZMQ ipc
sockets with the kernel's working directory inside it, and optionally memory+pids+cpu cgroups. The
command that launches a kernel is ``[join cgroup] -> bwrap|setpriv -> sbx_exec.py -> ipykernel``.
See docs in /work/shared/research/sandbox.md section 4 for the measured design.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from webapp.grading.cgroups import MB, CgroupManager, kill_uid

log = logging.getLogger(__name__)

BACKENDS = ("bwrap-root", "bwrap-user", "fallback")
UNSANDBOXED = "none"
UID_FIRST, UID_LAST = 20000, 20999
BWRAP, SETPRIV = "/usr/bin/bwrap", "/usr/bin/setpriv"
LAUNCHER = Path(__file__).with_name("sbx_exec.py")
SANDBOX_HOME = "/home/sandbox"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one kernel."""

    memory_mb: int = 2048
    address_space_mb: int = 4096
    max_processes: int = 64
    max_file_mb: int = 64
    tmp_mb: int = 256
    cpu_seconds: int = 900
    max_open_files: int = 256
    cpu_cores: float = 1.0  # CPU bandwidth of the whole kernel (all its processes); 0: no quota


@dataclass
class Slot:
    """Per-kernel resources: a uid, a connection/working directory and cgroup directories."""

    uid: int
    conn_dir: Path
    cgroups: list[Path] = field(default_factory=list)

    @property
    def work_dir(self) -> Path:
        return self.conn_dir / "work"

    @property
    def home_dir(self) -> Path:
        return self.conn_dir / "home"


class UidAllocator:
    """Hands out sandbox uids: no two live kernels share one (RLIMIT_NPROC and kill are per uid).

    Ownership is an ``flock`` on a per-uid lock file, so several grader processes on one host
    (a queue worker and ``flask grade``, say) never hand out the same uid; the kernel frees a
    uid's lock if its owner dies.
    """

    def __init__(self, first: int = UID_FIRST, last: int = UID_LAST) -> None:
        self._range = range(first, last + 1)
        self._held: dict[int, int] = {}
        self._lock = threading.Lock()
        self._dir = default_run_root().parent / "skillforge-uids"

    def acquire(self) -> int:
        with self._lock:
            self._dir.mkdir(mode=0o700, exist_ok=True)
            for uid in self._range:
                if uid not in self._held and self._try_lock(uid):
                    return uid
        raise RuntimeError("no free sandbox uid")

    def _try_lock(self, uid: int) -> bool:
        fd = os.open(self._dir / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._held[uid] = fd
        return True

    def hold(self, uid: int) -> bool:
        """Take this uid if no one holds it (a live grader would); False otherwise."""
        with self._lock:
            if uid not in self._range or uid in self._held:
                return False
            self._dir.mkdir(mode=0o700, exist_ok=True)
            return self._try_lock(uid)

    def release(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid, None)
            if fd is not None:
                os.close(fd)


def default_run_root() -> Path:
    """A tmpfs when there is one: files the kernel writes are then charged to its memory cgroup."""
    shm = "/dev/shm"  # noqa: S108 - a root-owned 0711 directory is created inside
    base = Path(shm) if os.path.isdir(shm) else Path(tempfile.gettempdir())
    return base / "skillforge-grader"


UIDS = UidAllocator()


class Sandbox:
    """Builds launch commands for one backend and cleans up after each kernel."""

    def __init__(
        self,
        backend: str,
        kernel_python: str,
        limits: Limits | None = None,
        run_root: str | os.PathLike[str] | None = None,
    ) -> None:
        if backend not in (*BACKENDS, UNSANDBOXED):
            raise ValueError(f"unknown sandbox backend {backend!r}")
        self.backend = backend
        self.kernel_python = kernel_python
        self.kernel_prefix = Path(kernel_python).parent.parent  # the venv, symlinks kept
        self.limits = limits or Limits()
        self.run_root = Path(run_root) if run_root else default_run_root()
        self.run_root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.run_root, 0o711)  # noqa: S103 - sandbox uids traverse to their own dirs
        self.lib_dir = self.run_root / "lib"
        self.cgroup = CgroupManager.detect()
        if backend != UNSANDBOXED:
            self._install_launcher()
        self.sweep()

    def sweep(self) -> int:
        """Remove what the kernels of a grader that died left here (their folders, processes
        and cgroups), and say how many slots that was. A slot folder is named by its uid, and a
        uid whose lock no one holds has no live owner."""
        swept = 0
        for path in sorted(self.run_root.iterdir()):
            uid_text, dash, _ = path.name.partition("-")
            if not dash or not uid_text.isdigit() or not UIDS.hold(int(uid_text)):
                continue
            uid = int(uid_text)
            try:
                if self.backend != UNSANDBOXED:
                    kill_uid(uid)
                if self.cgroup:
                    for group in self.cgroup.groups_named(path.name):
                        self.cgroup.kill(group)
                        self.cgroup.remove(group)
                shutil.rmtree(path, ignore_errors=True)
                swept += 1
            finally:
                UIDS.release(uid)
        if swept:
            log.warning("removed %d sandbox slots left by a grader that stopped", swept)
        return swept

    # --- set-up -----------------------------------------------------------------------------

    def _install_launcher(self) -> None:
        from webapp.grading.seccomp import write_filters  # noqa: PLC0415 - optional pyseccomp

        self.lib_dir.mkdir(exist_ok=True)
        os.chmod(self.lib_dir, 0o755)  # noqa: S103 - the launcher must be readable by kernels
        # Each file is written aside and moved into place: a grader on the same machine may be
        # starting a kernel from this folder at this moment, and must never read half a file.
        part = self.lib_dir / f".sbx_exec.py.{os.getpid()}"
        shutil.copyfile(LAUNCHER, part)
        os.chmod(part, 0o644)
        os.replace(part, self.lib_dir / "sbx_exec.py")
        write_filters(self.lib_dir)
        for path in self.lib_dir.iterdir():
            if not path.name.startswith("."):
                os.chmod(path, 0o644)

    def new_slot(self) -> Slot:
        """Allocate a uid and create its directories (owned by the uid) and cgroups."""
        uid = UIDS.acquire()
        if self.backend != UNSANDBOXED:
            kill_uid(uid)  # leftovers of a grader process that died without cleaning up
        conn = self.run_root / f"{uid}-{uuid.uuid4().hex[:12]}"  # the uid: see sweep()
        slot = Slot(uid, conn)
        for path in (conn, slot.work_dir, slot.home_dir):
            path.mkdir(mode=0o700)
            if self.backend != UNSANDBOXED:
                os.chown(path, uid, uid)
        if self.backend != UNSANDBOXED and self.cgroup:
            slot.cgroups = self.cgroup.create(conn.name, self.limits)
        return slot

    def copy_data(self, slot: Slot, data_dir: Path | None) -> None:
        """Copy the data files beside a source notebook into the kernel's working directory.

        Notebooks are left out: other notebooks of a workshop hold solutions.
        """
        if data_dir is None:
            return
        for item in sorted(data_dir.rglob("*")):
            relative = item.relative_to(data_dir)
            hidden = any(p.startswith(".") for p in relative.parts)
            if hidden or item.suffix == ".ipynb" or item.name == "course.toml":
                continue
            if any(p.is_symlink() for p in (item, *item.parents) if data_dir in p.parents):
                continue  # never follow a link: it could reach any file of the host
            target = slot.work_dir / relative
            if item.is_dir():
                target.mkdir(exist_ok=True)
            elif item.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(item, target)
            else:
                continue  # sockets, links to nowhere: nothing a notebook should read
            if self.backend != UNSANDBOXED:
                os.chown(target, slot.uid, slot.uid)

    # --- the launch command -------------------------------------------------------------------

    def environment(self, slot: Slot) -> dict[str, str]:
        """The whole environment of a kernel: nothing of the grader's."""
        home = SANDBOX_HOME if self.backend.startswith("bwrap") else str(slot.home_dir)
        private_tmp = "/tmp"  # noqa: S108 - the sandbox's own tmpfs
        tmp = private_tmp if self.backend.startswith("bwrap") else str(slot.home_dir)
        return {
            "HOME": home,
            "TMPDIR": tmp,
            "PATH": f"{self.kernel_prefix}/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "USER": "sandbox",
            "LOGNAME": "sandbox",
            # Inline figures, so plots appear in the graded notebook the engineer sees.
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "MPLCONFIGDIR": f"{tmp}/matplotlib",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "NBGRADER_EXECUTION": "autograde",
        }

    def command(self, slot: Slot, argv: list[str]) -> list[str]:
        """Wrap ``argv`` (the kernel command) in this backend's sandbox."""
        if self.backend == UNSANDBOXED:
            return argv
        inner = self._launcher_args(slot) + ["--", *argv]
        if self.backend == "bwrap-root":
            cmd = [
                BWRAP,
                *self._bwrap_args(slot, user_ns=False),
                "--",
                *self._setpriv(slot),
                *inner,
            ]
        elif self.backend == "bwrap-user":
            cmd = [*self._setpriv(slot), BWRAP, *self._bwrap_args(slot, user_ns=True), "--", *inner]
        else:
            cmd = [*self._setpriv(slot), *inner]
        return self._join_cgroups(slot, cmd)

    def _setpriv(self, slot: Slot) -> list[str]:
        return [
            SETPRIV,
            f"--reuid={slot.uid}",
            f"--regid={slot.uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]

    def _launcher_args(self, slot: Slot) -> list[str]:
        lim = self.limits
        bwrap = self.backend.startswith("bwrap")
        lib = "/opt/sbx" if bwrap else str(self.lib_dir)
        args = [self.kernel_python, f"{lib}/sbx_exec.py"]
        args += ["--as", str(lim.address_space_mb * MB), "--cpu", str(lim.cpu_seconds)]
        args += ["--nproc", str(lim.max_processes), "--fsize", str(lim.max_file_mb * MB)]
        args += ["--nofile", str(lim.max_open_files), "--core", "0"]
        if bwrap:
            return [*args, "--seccomp-bpf", f"{lib}/seccomp-ns.bpf"]
        for path in ("/usr", "/etc", "/proc", str(self.kernel_prefix), str(self.lib_dir)):
            args += ["--landlock-ro", path]
        for path in (str(slot.conn_dir), "/dev/null", "/dev/urandom"):
            args += ["--landlock-rw", path]
        return [*args, "--seccomp-bpf", f"{lib}/seccomp-nonet.bpf"]

    def _bwrap_args(self, slot: Slot, *, user_ns: bool) -> list[str]:
        tmp = str(self.limits.tmp_mb * MB)
        args = ["--perms", "1777", "--size", tmp, "--tmpfs", "/tmp"]  # noqa: S108 - private
        args += ["--perms", "0777", "--size", tmp, "--tmpfs", SANDBOX_HOME.rsplit("/", 1)[0]]
        args += ["--ro-bind", "/usr", "/usr", "--tmpfs", "/usr/local"]
        for name in ("bin", "lib", "lib64", "sbin"):
            if os.path.exists(f"/usr/{name}"):
                args += ["--symlink", f"usr/{name}", f"/{name}"]
        args += [
            "--perms",
            "0755",
            "--dir",
            "/etc",
            "--ro-bind",
            "/etc/ld.so.cache",
            "/etc/ld.so.cache",
        ]
        for name in ("localtime", "fonts", "mime.types"):
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        args += ["--proc", "/proc", "--dev", "/dev", "--perms", "0777", "--dir", SANDBOX_HOME]
        args += _parent_dirs([self.kernel_prefix, slot.conn_dir, Path("/opt/sbx")])
        args += ["--ro-bind", str(self.kernel_prefix), str(self.kernel_prefix)]
        args += ["--ro-bind", str(self.lib_dir), "/opt/sbx"]
        args += ["--bind", str(slot.conn_dir), str(slot.conn_dir), "--chdir", str(slot.work_dir)]
        args += ["--hostname", "sandbox", "--die-with-parent", "--new-session", "--clearenv"]
        for key, value in self.environment(slot).items():
            args += ["--setenv", key, value]
        if user_ns:
            return [*args, "--unshare-all", "--unshare-user", "--disable-userns"]
        return [*args, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"] + [
            "--unshare-cgroup-try"
        ]

    def _join_cgroups(self, slot: Slot, cmd: list[str]) -> list[str]:
        if not slot.cgroups:
            return cmd
        joins = "; ".join(f"echo $$ > {shlex.quote(str(c / 'cgroup.procs'))}" for c in slot.cgroups)
        return ["/bin/sh", "-c", f'{joins}; exec "$@"', "sh", *cmd]

    # --- tear-down ----------------------------------------------------------------------------

    def destroy(self, slot: Slot, pgid: int | None) -> None:
        """Kill every process of the slot (process group, cgroup, uid sweep), then free it."""
        if pgid:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
        if self.cgroup:
            for group in slot.cgroups:
                self.cgroup.kill(group)
        survivors = kill_uid(slot.uid) if self.backend != UNSANDBOXED else 0
        if self.cgroup:
            for group in slot.cgroups:
                self.cgroup.remove(group)
        shutil.rmtree(slot.conn_dir, ignore_errors=True)
        if survivors:
            log.error("uid %s still has %d processes; the uid is not reused", slot.uid, survivors)
        else:
            UIDS.release(slot.uid)


def _parent_dirs(paths: list[Path]) -> list[str]:
    """``--dir`` for each missing parent (bwrap would create them 0700, unreadable to the uid)."""
    args: list[str] = []
    seen = {"/", "/usr", "/tmp", "/home", "/proc", "/dev", "/etc"}  # noqa: S108
    for path in paths:
        for parent in reversed(path.parents):
            text = str(parent)
            if text not in seen:
                seen.add(text)
                args += ["--perms", "0755", "--dir", text]
    return args


def probe_backends(
    kernel_python: str, run_root: str | os.PathLike[str] | None = None
) -> dict[str, str]:
    """Run a tiny program through each backend: {"bwrap-root": "ok", "fallback": "<error>", ...}."""
    return {backend: probe(backend, kernel_python, run_root) for backend in BACKENDS}


PROBE_CODE = "import os, socket; assert os.getuid() != 0; print('sandbox-ok')"


def probe(backend: str, kernel_python: str, run_root: str | os.PathLike[str] | None = None) -> str:
    """ "ok" if ``backend`` runs Python here as a non-root uid, else the reason it does not."""
    if not os.path.exists(kernel_python):
        return f"kernel python {kernel_python} not found"
    needs = [SETPRIV] + ([BWRAP] if backend.startswith("bwrap") else [])
    missing = [tool for tool in needs if not os.path.exists(tool)]
    if missing:
        return f"{', '.join(missing)} not installed"
    try:
        sandbox = Sandbox(backend, kernel_python, run_root=run_root)
        slot = sandbox.new_slot()
    except Exception as exc:  # a probe reports every failure
        return f"setup failed: {exc}"
    try:
        cmd = sandbox.command(slot, [kernel_python, "-c", PROBE_CODE])
        done = subprocess.run(  # noqa: S603 - our own command line
            cmd,
            env=sandbox.environment(slot),
            cwd=slot.work_dir,
            capture_output=True,
            text=True,
            timeout=20,
            start_new_session=True,
        )
        if done.returncode == 0 and "sandbox-ok" in done.stdout:
            return "ok"
        reason = (done.stderr.strip() or done.stdout.strip()).splitlines()
        return reason[-1] if reason else f"exit status {done.returncode}"
    except subprocess.TimeoutExpired:
        return "timed out"
    finally:
        sandbox.destroy(slot, None)
