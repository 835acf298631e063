"""Process control for the sandbox: a cgroup per kernel (memory, pids, cpu) and uid sweeps."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import time
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webapp.grading.sandbox import Limits

log = logging.getLogger(__name__)

MB = 1024 * 1024
CPU_PERIOD_US = 100_000


def pids_of_uid(uid: int) -> list[int]:
    """Live processes whose real, effective or saved uid is ``uid``."""
    return pids_by_uid({uid})[uid]


def pids_by_uid(uids: Collection[int]) -> dict[int, list[int]]:
    """Each of ``uids`` with its live processes (real, effective or saved uid), from one pass over
    /proc (a host's status asks for every kernel's at once)."""
    wanted = {str(uid): uid for uid in uids}
    found: dict[int, list[int]] = {uid: [] for uid in uids}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as handle:
                for line in handle:
                    if line.startswith("Uid:"):
                        for uid in {wanted[u] for u in line.split()[1:4] if u in wanted}:
                            found[uid].append(int(entry.name))
                        break
        except OSError:
            continue
    return found


def kill_uid(uid: int, deadline_s: float = 3.0) -> int:
    """SIGKILL every process of ``uid`` until none is left; returns how many survived."""
    end = time.monotonic() + deadline_s
    while True:
        pids = [p for p in pids_of_uid(uid) if not _is_zombie(p)]
        if not pids or time.monotonic() > end:
            return len(pids)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


class CgroupManager:
    """Cgroups per kernel: memory+pids, and cpu where writable; cgroup v1 (one tree each) or v2.

    The cpu group caps a kernel's CPU bandwidth at ``Limits.cpu_cores`` and makes all its
    processes one scheduling entity: 48 busy processes of one submission weigh no more than the
    single one of a submission graded beside it. (Autogroup gave each session that weight, but
    a process can start a session of its own; it cannot leave its cgroup.) On v1 the cpu groups
    sit at the top of the cpu tree, so each kernel weighs as much as any session of the host,
    as it did before; on v2 they share the ``skillforge`` group with the other controllers.
    """

    def __init__(self, version: int, bases: list[Path], *, cpu: Path | None = None) -> None:
        self.version = version
        self.bases = bases  # v2: [skillforge]; v1: [memory/skillforge, pids/skillforge]
        self.cpu_root = cpu  # where kernels' cpu groups go; None: no cpu controller

    @property
    def cpu(self) -> bool:
        return self.cpu_root is not None

    @classmethod
    def detect(cls, root: Path = Path("/sys/fs/cgroup")) -> CgroupManager | None:
        """The writable cgroup layout here, or None (limits then rest on rlimits alone)."""
        try:
            if (root / "cgroup.controllers").exists():
                return cls._detect_v2(root)
            if (root / "memory").is_dir() and (root / "pids").is_dir():
                return cls._detect_v1(root)
        except OSError as exc:
            log.info("no writable cgroup fs (%s); memory limits are per process only", exc)
        return None

    @classmethod
    def _detect_v2(cls, root: Path) -> CgroupManager:
        base = root / "skillforge"
        base.mkdir(exist_ok=True)
        for parent in (root, base):
            (parent / "cgroup.subtree_control").write_text("+memory +pids")
        try:  # on its own: a missing cpu controller must not cost the memory limit
            for parent in (root, base):
                (parent / "cgroup.subtree_control").write_text("+cpu")
        except OSError as exc:
            log.info("cgroup cpu controller not writable (%s); kernels share the CPU freely", exc)
            return cls(2, [base])
        return cls(2, [base], cpu=base)

    @classmethod
    def _detect_v1(cls, root: Path) -> CgroupManager:
        bases = [root / "memory" / "skillforge", root / "pids" / "skillforge"]
        for base in bases:
            base.mkdir(exist_ok=True)
        cpu = root / "cpu"  # often a link to cpu,cpuacct
        if cpu.is_dir() and os.access(cpu, os.W_OK):
            return cls(1, bases, cpu=cpu)
        log.info("cgroup cpu controller not writable (%s); kernels share the CPU freely", cpu)
        return cls(1, bases)

    def groups_named(self, name: str) -> list[Path]:
        """The kernel cgroups of that name that exist (those ``create`` made)."""
        return [base / name for base in self.bases if (base / name).is_dir()]

    def create(self, name: str, limits: Limits) -> list[Path]:
        memory = str(limits.memory_mb * MB)
        pids = str(limits.max_processes)
        groups = [base / name for base in self.bases]
        for group in groups:
            group.mkdir()
        if self.version == 2:
            (groups[0] / "memory.max").write_text(memory)
            with contextlib.suppress(OSError):
                (groups[0] / "memory.swap.max").write_text("0")
            (groups[0] / "pids.max").write_text(pids)
        else:
            (groups[0] / "memory.limit_in_bytes").write_text(memory)
            (groups[1] / "pids.max").write_text(pids)
        return groups + self._cpu_group(name, limits.cpu_cores)

    def _cpu_group(self, name: str, cores: float) -> list[Path]:
        """The kernel's own v1 cpu group, or [] (v2: its one group); the kernel runs either way."""
        if self.cpu_root is None:
            return []
        v1 = self.version == 1
        group = self.cpu_root / (f"skillforge-{name}" if v1 else name)
        try:
            if v1:
                group.mkdir()
            self._limit_cpu(group, cores)
        except OSError as exc:
            log.info("no cpu limit for kernel %s (%s)", name, exc)
            if v1:
                self.remove(group)
            return []
        return [group] if v1 else []

    def _limit_cpu(self, group: Path, cores: float) -> None:
        """Cap ``group`` at ``cores`` CPUs; 0 leaves only the equal share among kernels."""
        quota = max(1000, round(cores * CPU_PERIOD_US)) if cores > 0 else None
        if self.version == 2:
            (group / "cpu.max").write_text(f"{quota or 'max'} {CPU_PERIOD_US}")
        else:
            (group / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota or -1))

    def oom_killed(self, group: Path) -> bool:
        """Whether the kernel's memory limit killed a process of ``group``."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            for line in (group / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            return False
        return False

    def kill(self, group: Path) -> None:
        kill_file = group / "cgroup.kill"
        if kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
            return
        with contextlib.suppress(OSError):
            for pid in (group / "cgroup.procs").read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)

    def remove(self, group: Path, attempts: int = 50) -> None:
        for _ in range(attempts):
            try:
                group.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    break
                self.kill(group)
                time.sleep(0.02)
        log.warning("could not remove cgroup %s", group)
