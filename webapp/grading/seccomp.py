"""Seccomp filters for sandboxed kernels, compiled once with libseccomp into raw BPF files.

``seccomp-ns.bpf`` (bwrap backends) blocks kernel-attack surface a notebook never needs;
``seccomp-nonet.bpf`` (fallback, no network namespace) also refuses every socket family except
AF_UNIX (ZMQ ipc) and AF_NETLINK (libzmq aborts if it cannot enumerate interfaces).
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import pyseccomp as sc

BLOCKED = [
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "setns",
    "unshare",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "name_to_handle_at",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "fanotify_init",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
]
CLONE_NEWUSER = 0x10000000
AF_MAX = 46


def _base_filter() -> sc.SyscallFilter:
    filt = sc.SyscallFilter(defaction=sc.ALLOW)
    for name in BLOCKED:
        try:
            filt.add_rule(sc.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):
            continue  # a syscall this architecture does not have
    # glibc falls back to clone() on ENOSYS, whose flags a classic BPF filter can inspect
    filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    filt.add_rule(
        sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)
    )
    return filt


def _no_network(filt: sc.SyscallFilter) -> sc.SyscallFilter:
    allowed = {socket.AF_UNIX, socket.AF_NETLINK}
    for family in range(AF_MAX):
        if family not in allowed:
            # libseccomp 2.5 refuses two comparisons on one argument: one rule per family
            filt.add_rule(sc.ERRNO(errno.EACCES), "socket", sc.Arg(0, sc.EQ, family))
    return filt


def write_filters(directory: Path) -> None:
    """Write ``seccomp-ns.bpf`` and ``seccomp-nonet.bpf`` into ``directory``."""
    for name, filt in (
        ("seccomp-ns.bpf", _base_filter()),
        ("seccomp-nonet.bpf", _no_network(_base_filter())),
    ):
        part = directory / f".{name}.{os.getpid()}"
        with open(part, "wb") as handle:
            filt.export_bpf(handle)
        os.replace(part, directory / name)  # a kernel starting meanwhile reads a whole file
