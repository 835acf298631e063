"""The kernel host's status endpoint: every kernel's memory from one pass over /proc."""

from __future__ import annotations

import os

from webapp.grading.cgroups import pids_by_uid, pids_of_uid
from webapp.kernels.personality import PAGE_SIZE, memory_by_uid

UNUSED_UID = 2_000_000_000  # no process runs as this uid


def own_resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * PAGE_SIZE


def test_one_pass_finds_each_uids_processes_and_none_for_an_unused_uid() -> None:
    uid = os.getuid()
    found = pids_by_uid({uid, UNUSED_UID})
    assert os.getpid() in found[uid]
    assert found[UNUSED_UID] == []
    assert os.getpid() in pids_of_uid(uid)


def test_a_kernels_memory_counts_every_process_of_its_uid() -> None:
    uid = os.getuid()
    memory = memory_by_uid({uid, UNUSED_UID})
    assert memory[uid] >= own_resident_bytes() > 0
    assert memory[UNUSED_UID] == 0
