"""Adversarial notebooks through the real Grader: each attack is contained and reported."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ENV_SECRET
from nbmaker import answer, autotest, notebook

from webapp.grading.cgroups import pids_of_uid
from webapp.grading.relay import defined_names
from webapp.grading.sandbox import (
    BACKENDS,
    UID_FIRST,
    UID_LAST,
    UIDS,
    Sandbox,
    probe_backends,
)

KERNEL_PYTHON = "/opt/skillforge/kernel/bin/python"
SHOW_UID = "import os\nprint('sandbox-uid', os.getuid())\n"


def attack(code: str, check: str):
    """(source, submission): the submitted answer runs ``code``; the test passes only if it worked.

    The source's answer only names what ``code`` binds, so the checks can ask the submission for
    those names; the attack itself runs in the submission's kernel alone.
    """
    names = "\n".join(f"{name} = None" for name in defined_names(code)) or "pass"
    test = autotest("attack_tests", check, points=1)
    source = notebook(answer("attack", names), test)
    return source, notebook(answer("attack", SHOW_UID + code), test)


def sandbox_uid(result) -> int:
    text = "".join(o.get("text", "") for o in result.feedback.cells[0].get("outputs", []))
    return int(re.search(r"sandbox-uid (\d+)", text).group(1))


def assert_no_survivors(uid: int) -> None:
    assert UID_FIRST <= uid <= UID_LAST
    deadline = time.monotonic() + 15  # kernels are destroyed in the background
    while pids_of_uid(uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pids_of_uid(uid) == []


def graded(grader, pair):
    result = grader.grade(*pair)
    cell = result.cells["attack_tests"]
    assert_no_survivors(sandbox_uid(result))
    return cell


@pytest.fixture
def http_server() -> Iterator[tuple[int, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"secret-page")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()
    thread.join()


def test_probe_finds_a_working_backend_on_linux():
    probes = probe_backends(KERNEL_PYTHON)
    assert set(probes) == set(BACKENDS)
    if sys.platform.startswith("linux"):
        assert "ok" in probes.values(), probes
        assert probes["bwrap-root"] == "ok", probes  # measured on this kind of machine


@pytest.mark.sandbox
def test_grader_uses_a_real_sandbox(grader):
    assert grader.backend in BACKENDS


@pytest.mark.sandbox
def test_loopback_http_is_unreachable(grader, http_server):
    port, hits = http_server
    url = f"http://127.0.0.1:{port}"
    code = f"import urllib.request\nbody = urllib.request.urlopen({url!r}, timeout=3).read()"
    cell = graded(grader, attack(code, "assert body == b'secret-page'"))
    assert cell.status == "failed" and cell.points == 0
    assert "URLError" in cell.message or "refused" in cell.message
    assert hits == []


@pytest.mark.sandbox
def test_secret_file_outside_the_sandbox_is_invisible(grader, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    secret.chmod(0o644)
    code = f"leaked = open({str(secret)!r}).read()"
    cell = graded(grader, attack(code, "assert leaked == 'TOPSECRET'"))
    assert cell.status == "failed"
    assert "FileNotFoundError" in cell.message or "PermissionError" in cell.message


@pytest.mark.sandbox
def test_a_linked_data_file_is_never_copied_into_the_kernel(grader, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("TOPSECRET")
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "real.csv").write_text("a,b\n")
    (data / "prices.csv").symlink_to(secret)
    (data / "linked").symlink_to(tmp_path, target_is_directory=True)
    code = "import os\nfound = sorted(os.listdir('.')) + sorted(os.listdir('sub'))"
    source, submission = attack(code, "assert found == ['real.csv', 'sub']")
    result = grader.grade(source, submission, data_dir=data)
    assert result.cells["attack_tests"].status == "passed", result.cells["attack_tests"].message


@pytest.mark.sandbox
def test_writes_outside_the_private_dirs_do_not_reach_the_host(grader, tmp_path):
    tmp_path.chmod(0o777)
    target = tmp_path / "pwned.txt"
    code = (
        f"errors = []\nfor path in ({str(target)!r}, '/usr/pwned', '{KERNEL_PYTHON}-pwned'):\n"
        "    try:\n        open(path, 'w').write('x')\n"
        "    except OSError as exc:\n        errors.append(type(exc).__name__)"
    )
    cell = graded(grader, attack(code, "assert not errors, errors"))
    assert not target.exists()
    assert not Path("/usr/pwned").exists() and not Path(f"{KERNEL_PYTHON}-pwned").exists()
    assert cell.status == "failed" and cell.message.startswith("AssertionError: [")


@pytest.mark.sandbox
def test_grader_environment_is_not_visible(grader):
    code = (
        "import os\nseen = str(dict(os.environ))\n"
        "try:\n    seen += open('/proc/1/environ').read()\nexcept OSError:\n    pass"
    )
    cell = graded(grader, attack(code, f"assert {ENV_SECRET[1]!r} in seen, 'no secret'"))
    assert (cell.status, cell.message) == ("failed", "AssertionError: no secret")


@pytest.mark.sandbox
def test_infinite_loop_times_out_and_is_reported(grader):
    spin = "def answer():\n    while True:\n        pass"
    cell = graded(grader, attack(spin, "assert answer() == 42"))
    assert (cell.status, cell.points) == ("timeout", 0), cell.message
    assert cell.message == "timed out after 3 s"


@pytest.mark.sandbox
def test_huge_allocation_fails_with_memory_error(grader):
    cell = graded(grader, attack("blob = bytearray(10**10)", "assert len(blob) == 10**10"))
    assert cell.status == "failed" and "MemoryError" in cell.message


@pytest.mark.sandbox
def test_fork_bomb_is_capped_and_cleaned_up(grader, grader_config):
    limit = "import resource\nnproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]"
    check = f"assert nproc == {grader_config.max_processes}, nproc"
    assert graded(grader, attack(limit, check)).status == "passed"
    bomb = (
        "import os, time\nchildren = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
        "            while True:\n                try:\n                    os.fork()\n"
        "                except OSError:\n                    time.sleep(0.05)\n"
        "        children += 1\nexcept OSError as exc:\n    stopped = repr(exc)"
    )
    cell = graded(grader, attack(bomb, "assert children > 10_000, stopped"))  # and no survivors
    # RLIMIT_NPROC counts threads too: fork() or one of the kernel's own threads hits the cap
    # first; in the second case the kernel cannot answer and the cell runs out of time instead.
    assert (cell.status in ("failed", "timeout"), cell.points) == (True, 0), cell.message
    if cell.status == "failed":
        reasons = ("BlockingIOError", "Resource temporarily", "can't start new thread", "killed:")
        assert any(reason in cell.message for reason in reasons), cell.message


@pytest.mark.sandbox
def test_killing_parents_and_everyone_is_refused(grader):
    code = (
        "import os, signal\nresults = []\n"
        "for target in (os.getppid(), 1, -1):\n    try:\n        os.kill(target, signal.SIGKILL)\n"
        "        results.append('killed')\n    except OSError as exc:\n"
        "        results.append(type(exc).__name__)"
    )
    cell = graded(grader, attack(code, "assert results.count('killed') == 3, results"))
    assert cell.status in ("failed", "timeout")


@pytest.mark.sandbox
def test_grader_still_grades_normally_after_the_attacks(grader):
    nb = notebook(answer("a", "x = 41 + 1"), autotest("attack_tests", "assert x == 42", points=2))
    result = grader.grade(nb, nb)
    assert result.total == 2 and result.cells["attack_tests"].status == "passed"


@pytest.mark.sandbox
def test_what_a_dead_graders_kernels_left_is_removed_when_the_next_starts(grader):
    root = Path(f"/dev/shm/sfg-sweep-{os.getpid()}")
    first = Sandbox(grader.backend, KERNEL_PYTHON, run_root=root)
    live, dead = first.new_slot(), first.new_slot()
    (dead.work_dir / "answers.py").write_text("secret = 1\n")
    UIDS.release(dead.uid)  # as when its grader is killed: the kernel frees the uid's lock
    try:
        Sandbox(grader.backend, KERNEL_PYTHON, run_root=root)  # the next worker starting
        assert not dead.conn_dir.exists()
        assert live.conn_dir.exists()  # a live grader's slot is left alone
    finally:
        first.destroy(live, None)
        shutil.rmtree(root, ignore_errors=True)
