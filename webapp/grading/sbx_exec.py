"""Sandbox launcher: set rlimits, no_new_privs, Landlock and a seccomp filter, then exec the kernel.

Runs *inside* the sandbox under the kernel's Python, so it uses the standard library only. It is
the last step before ``ipykernel`` and refuses to run as root.

    python sbx_exec.py --as BYTES --cpu S --nproc N --fsize BYTES --nofile N --core 0
        [--seccomp-bpf FILE] [--landlock-ro PATH]... [--landlock-rw PATH]... -- PROGRAM ARGS...
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_RULE_PATH_BENEATH = 1
LANDLOCK_CREATE_RULESET_VERSION = 1

# Landlock filesystem rights, by the ABI version that introduced them.
FS_READ = 1 | 4 | 8  # EXECUTE, READ_FILE, READ_DIR
FS_WRITE_V1 = 2 | 16 | 32 | 64 | 128 | 256 | 512 | 1024 | 2048 | 4096
FS_BY_ABI = {1: FS_READ | FS_WRITE_V1, 2: 8192, 3: 16384, 5: 32768}
NET_TCP = 1 | 2  # BIND_TCP, CONNECT_TCP (ABI >= 4)
SCOPE_ALL = 1 | 2  # ABSTRACT_UNIX_SOCKET, SIGNAL (ABI >= 6)

LIMITS = {
    "as": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "nproc": resource.RLIMIT_NPROC,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def fail(message: str) -> None:
    sys.stderr.write(f"sbx_exec: {message}\n")
    sys.exit(126)


def check(result: int, what: str) -> int:
    if result < 0:
        fail(f"{what}: {os.strerror(ctypes.get_errno())}")
    return result


def set_limits(args: argparse.Namespace) -> None:
    for name, which in LIMITS.items():
        value = getattr(args, name)
        if value is None:
            continue
        _, hard = resource.getrlimit(which)
        # Without CAP_SYS_RESOURCE a hard limit can only go down.
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        # RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL two seconds later.
        hard_value = value + 2 if name == "cpu" else value
        if hard != resource.RLIM_INFINITY:
            hard_value = min(hard_value, hard)
        resource.setrlimit(which, (value, hard_value))


def landlock(read_only: list[str], read_write: list[str]) -> None:
    """Allow only the listed paths; also deny TCP and scope signals where the kernel can."""
    abi = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        fail("Landlock is not available in this kernel")
    handled = sum(bits for version, bits in FS_BY_ABI.items() if abi >= version)
    attr = RulesetAttr(handled, NET_TCP if abi >= 4 else 0, SCOPE_ALL if abi >= 6 else 0)
    size = 24 if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = check(
        libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), size, 0), "landlock ruleset"
    )
    for path, rights in [(p, FS_READ) for p in read_only] + [(p, handled) for p in read_write]:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        if not os.path.isdir(path):
            rights &= 2 | 4 | 16384 | 32768 | 1  # file rights only
        rule = PathBeneath(rights & handled, fd)
        check(
            libc.syscall(
                SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0
            ),
            f"landlock rule for {path}",
        )
        os.close(fd)
    check(libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock restrict")
    os.close(ruleset)


def seccomp(path: str) -> None:
    with open(path, "rb") as handle:
        program = handle.read()
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(buffer))
    check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    if "--" not in argv:
        fail("usage: sbx_exec.py [options] -- PROGRAM ARGS...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="sbx_exec.py")
    for name in LIMITS:
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--seccomp-bpf")
    parser.add_argument("--landlock-ro", action="append", default=[])
    parser.add_argument("--landlock-rw", action="append", default=[])
    return parser.parse_args(argv[:split]), argv[split + 1 :]


def main(argv: list[str]) -> None:
    args, program = parse(argv)
    if os.getuid() == 0 or os.geteuid() == 0:
        fail("refusing to run as root")
    if not program:
        fail("no program to run")
    set_limits(args)
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if args.landlock_ro or args.landlock_rw:
        landlock(args.landlock_ro, args.landlock_rw)
    if args.seccomp_bpf:
        seccomp(args.seccomp_bpf)
    os.execv(program[0], program)  # noqa: S606 - exec'ing the kernel is the point


if __name__ == "__main__":
    main(sys.argv[1:])
