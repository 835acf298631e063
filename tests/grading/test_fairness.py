"""Fair CPU: a submission that keeps 48 processes busy cannot starve one graded beside it."""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from nbmaker import answer, autotest, code, notebook

from webapp.grading.autograde import Grader, GraderConfig, GradeResult
from webapp.grading.cgroups import CgroupManager
from webapp.grading.pool import LEAN_WARM_UP
from webapp.grading.sandbox import Limits

CELL_TIMEOUT = 15
HOG_PROCESSES = 48
WORK = 20_000_000  # about 1.5 s of pure Python alone on the machine this was written on
WORK_RESULT = 40_000_001  # sum(i * i % 7 for i in range(WORK))

# The hog's children all start together (forking beside busy siblings would take long), then
# run until the test drops a "stop" file in the hog's working directory, 50 s at most.
HOG = f"""import os, time
end = time.monotonic() + 50
wait_for_all, all_forked = os.pipe()
children = []
for _ in range({HOG_PROCESSES}):
    pid = os.fork()
    if pid == 0:
        os.close(all_forked)
        os.setsid()  # own session: without a cpu cgroup, autogroup gives each a full share
        os.read(wait_for_all, 1)  # returns when the parent closes all_forked
        while time.monotonic() < end and not os.path.exists('stop'):
            pass
        os._exit(0)
    children.append(pid)
os.close(all_forked)
open('running', 'w').close()
print('busy children:', len(children))
"""
# Each waiting cell ends before the cell timeout, so the kernel (and the hog) lives on.
WAIT = """deadline = time.monotonic() + 12
while children and time.monotonic() < deadline:
    pid, _ = os.waitpid(-1, os.WNOHANG)
    if pid:
        children.remove(pid)
    else:
        time.sleep(0.05)
"""
HONEST = """def work(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
"""


@pytest.fixture(scope="module")
def grader() -> Iterator[Grader]:
    """Four warm kernels: two submissions graded at once, each on its own two kernels."""
    if not (manager := CgroupManager.detect()) or not manager.cpu:
        pytest.skip("no writable cpu cgroup controller on this host")
    config = GraderConfig(
        cell_timeout=CELL_TIMEOUT,
        notebook_timeout=60,
        pool_size=4,
        run_root=f"/dev/shm/sfg-fair-{os.getpid()}",
        warm_up=LEAN_WARM_UP,
    )
    with Grader(config) as grader:
        yield grader
    shutil.rmtree(config.run_root or "", ignore_errors=True)


def hog_flags(run_root: Path, hog: Future[GradeResult]) -> list[Path]:
    """The hog's "running" file, once all its children are busy (or the hog ended early)."""
    deadline = time.monotonic() + 60
    while not (found := list(run_root.glob("*/work/running"))):
        if hog.done() or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return found


@pytest.mark.sandbox
def test_an_honest_submission_keeps_full_marks_beside_a_cpu_hog(grader):
    # What the instructor released (its reference answer is harmless) and what was handed in.
    released = notebook(answer("hog", "children = []"), autotest("hog_tests", "assert True"))
    hog = notebook(
        answer("hog", HOG),
        autotest("hog_tests", "assert True"),
        *[code(WAIT) for _ in range(4)],
    )
    honest = notebook(
        answer("honest", HONEST),
        autotest("honest_tests", f"assert work({WORK}) == {WORK_RESULT}", points=3),
    )
    with ThreadPoolExecutor(max_workers=1) as thread:
        hogged = thread.submit(grader.grade, released, hog)
        flags = hog_flags(Path(grader.config.run_root or ""), hogged)
        try:
            result = grader.grade(honest, honest)
        finally:
            for flag in flags:
                flag.with_name("stop").touch()
        hog_output = "".join(o.get("text", "") for o in hogged.result().feedback.cells[0].outputs)

    assert f"busy children: {HOG_PROCESSES}" in hog_output  # the hog really ran
    cell = result.cells["honest_tests"]
    assert (cell.status, cell.points, cell.message) == ("passed", 3, None)


# --- the cpu controller on made-up cgroup trees ---------------------------------------------------


def test_cgroup_v2_caps_each_kernel_at_its_cores(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids")
    manager = CgroupManager.detect(tmp_path)
    assert manager is not None and manager.cpu
    assert (tmp_path / "skillforge" / "cgroup.subtree_control").read_text() == "+cpu"
    (group,) = manager.create("k1", Limits(cpu_cores=1.5))
    assert (group / "cpu.max").read_text() == "150000 100000"
    (group,) = manager.create("k2", Limits(cpu_cores=0))
    assert (group / "cpu.max").read_text() == "max 100000"


def test_cgroup_v1_puts_each_kernel_in_a_cpu_group_too(tmp_path):
    for controller in ("memory", "pids", "cpu"):
        (tmp_path / controller).mkdir()
    manager = CgroupManager.detect(tmp_path)
    assert manager is not None and manager.cpu
    groups = manager.create("k1", Limits(cpu_cores=1.0))
    assert groups[-1] == tmp_path / "cpu" / "skillforge-k1"  # a peer of the host's sessions
    assert (groups[-1] / "cpu.cfs_period_us").read_text() == "100000"
    assert (groups[-1] / "cpu.cfs_quota_us").read_text() == "100000"


def test_without_a_writable_cpu_controller_memory_and_pids_still_apply(tmp_path, monkeypatch):
    (tmp_path / "cgroup.controllers").write_text("memory pids")
    write_text = Path.write_text

    def refuse_cpu(path: Path, text: str) -> int:
        if text == "+cpu":
            raise OSError(errno.EINVAL, "Invalid argument")
        return write_text(path, text)

    monkeypatch.setattr(Path, "write_text", refuse_cpu)
    manager = CgroupManager.detect(tmp_path)
    assert manager is not None and not manager.cpu
    (group,) = manager.create("k1", Limits())
    assert (group / "memory.max").exists() and not (group / "cpu.max").exists()
    for controller in ("memory", "pids"):
        (tmp_path / "v1" / controller).mkdir(parents=True)
    manager = CgroupManager.detect(tmp_path / "v1")
    assert manager is not None and not manager.cpu and len(manager.create("k1", Limits())) == 2
