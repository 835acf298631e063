"""A cached notebook page while a big notebook renders, against the same page idle, in one run.

    .venv/bin/python bench/bench_render_lock.py [--requests 300] [--cells 600] [--workers 1]

Starts ``skillforge serve`` (gunicorn gthread, 4 threads a worker, no grading worker and no
kernel host) as bench/bench_live.py does: a subprocess on a temporary SQLite database, with the
demo organisation and the real courses synced. Before the server starts, the benchmark adds an
engineer and a graded attempt whose graded notebook is big: the student versions of the real
workshop notebooks one after another, ``--cells`` cells in all (within NOTEBOOK_MAX_CELLS, and
RENDER_TIME_LIMIT_S raised so that its render runs to the end).

Over HTTP, as a browser: log in, open a real workshop notebook's page (the first notebook of
the overfitting workshop) once, which renders and caches it, then

1. *idle*: ``--requests`` requests of that cached page, one after another;
2. *during a big render*: one thread opens the big attempt's page (an uncached render of the
   graded notebook, in the same gunicorn worker with ``--workers 1``) while the cached page is
   requested one request after another until that render's page has answered;
3. the security review's upload of 95,000 empty cells (4.4 MB) to that notebook, five times:
   how long its refusal (HTTP 400, "it has 95,006 cells, more than the 1,000 …") takes.

Goal: the cached page's median during the render within 2x its idle median (the issue measured a
cached page waiting 93 s behind one render that held a lock shared by the whole worker process).
Results go to ``bench/results/render-lock-<timestamp>.json``; a markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_live  # noqa: E402
from bench.bench_live import CSRF_RE, Browser, stats  # noqa: E402

EMAIL = "render@bench.example"
GOAL = 2.0


def big_feedback(cells: int) -> dict[str, Any]:
    """A graded notebook of ``cells`` cells: the real workshops' student versions in turn."""
    from webapp.services.catalog.source import load_catalog, to_json

    source, problems = load_catalog(ROOT / "courses")
    if source is None:
        raise SystemExit("courses/ does not validate:\n" + "\n".join(problems))
    students = [to_json(nb.student) for course in source.courses for nb in course.notebooks]
    pool = [cell for nb in students for cell in nb["cells"]]
    picked = [json.loads(json.dumps(pool[i % len(pool)])) for i in range(cells)]
    for index, cell in enumerate(picked):
        cell["id"] = f"bench-{index}"
    return {**students[0], "cells": picked}


class Server(bench_live.Server):
    """bench_live's server without a kernel host, plus the big graded attempt."""

    def __init__(self, tmp: Path, args: argparse.Namespace) -> None:
        live = argparse.Namespace(workers=args.workers, pool=0, sessions=0, warm_up="")
        super().__init__(tmp, live, [EMAIL])
        self.cells = args.cells
        self.attempt = ""
        self.env.update(
            SKILLFORGE_LIVE_KERNEL_HOSTS="",  # none: `serve` starts no kernel host
            SKILLFORGE_RENDER_TIME_LIMIT_S="900",
            SKILLFORGE_RENDER_MAX_BYTES="50000000",
        )

    def prepare(self) -> None:
        super().prepare()
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            self._add_big_attempt()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def _add_big_attempt(self) -> None:
        from webapp import create_app
        from webapp.db import db
        from webapp.models import Notebook, NotebookVersion, Submission, User

        app = create_app()
        with app.app_context():
            notebook_id = int(self.notebook.rsplit("/", 1)[1])
            notebook = db.session.get(Notebook, notebook_id)
            assert notebook is not None
            attempt = Submission(
                user_id=db.session.scalar(db.select(User.id).where(User.email == EMAIL)),
                version_id=db.session.scalar(
                    db.select(NotebookVersion.id).where(
                        NotebookVersion.content_hash == notebook.current_hash
                    )
                ),
                notebook_id=notebook_id,
                notebook={},
                status="graded",
                feedback=big_feedback(self.cells),
                score=0.0,
            )
            db.session.add(attempt)
            db.session.commit()
            self.attempt = f"/submissions/{attempt.id}"
            db.engine.dispose()


def logged_in(server: Server) -> requests.Session:
    browser = Browser(server, EMAIL)
    browser.login()
    return browser.http


def timed_get(http: requests.Session, url: str) -> float:
    start = time.perf_counter()
    response = http.get(url, timeout=900)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, f"GET {url}: HTTP {response.status_code}"
    return elapsed


def measure(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    http = logged_in(server)  # its first view of the page rendered and cached it
    page = server.url + server.notebook
    for _ in range(20):  # warm up
        timed_get(http, page)
    idle = [timed_get(http, page) for _ in range(args.requests)]
    render: dict[str, Any] = {}

    def big() -> None:
        other = logged_in(server)
        start = time.perf_counter()
        body = other.get(server.url + server.attempt, timeout=900).text
        render["seconds"] = round(time.perf_counter() - start, 2)
        render["shown"] = "too large" if "too large to display" in body else "rendered"

    renderer = threading.Thread(target=big)
    renderer.start()
    during = []
    while renderer.is_alive():
        during.append(timed_get(http, page))
    renderer.join()
    return {
        "idle": stats(idle),
        "during_render": stats(during),
        "big_render": render,
        "upload_95000_cells": refused_upload(server, http),
    }


def refused_upload(server: Server, http: requests.Session, runs: int = 5) -> dict[str, Any]:
    """The security review's upload (95,000 empty cells, 4.4 MB): how long its refusal takes."""
    page = server.url + server.notebook
    student = http.get(page + "/download", timeout=60).json()
    empty = {"cell_type": "raw", "metadata": {}, "source": ""}
    data = json.dumps({**student, "cells": student["cells"] + [empty] * 95_000}).encode()
    took = []
    for _ in range(runs):
        token = CSRF_RE.search(http.get(page, timeout=60).text)
        assert token, "no CSRF token on the notebook page"
        form = {"csrf_token": token.group(1), "mode": "final"}
        start = time.perf_counter()
        response = http.post(
            page + "/upload", data=form, files={"notebook": ("work.ipynb", data)}, timeout=600
        )
        took.append(time.perf_counter() - start)
        assert response.status_code == 400, f"upload: HTTP {response.status_code}"
        assert "95,0" in response.text and "cells, more than" in response.text
    return {"bytes": len(data), **stats(took)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="idle requests of the page")
    parser.add_argument("--cells", type=int, default=900, help="cells of the big notebook")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (4 threads)")
    args = parser.parse_args()
    head = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
    results: dict[str, Any] = {
        "args": vars(args),
        "commit": subprocess.run(head, capture_output=True, text=True).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()},
    }
    with tempfile.TemporaryDirectory(prefix="bench-render-lock-") as tmp:
        server = Server(Path(tmp), args)
        server.prepare()
        server.start()
        try:
            results.update(measure(server, args))
        finally:
            server.stop()
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    out = ROOT / "bench" / "results" / f"render-lock-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    report(results, out)


def report(results: dict[str, Any], out: Path) -> None:
    idle, during, big = results["idle"], results["during_render"], results["big_render"]
    ratio = during["median_ms"] / idle["median_ms"]
    workers = results["args"]["workers"]
    print(f"| cached notebook page (gunicorn, {workers} worker) | requests | median | p99 |")
    print("|---|---|---|---|")
    for name, row in (("idle", idle), ("during the big render", during)):
        print(f"| {name} | {row['n']} | {row['median_ms']:.1f} ms | {row['p99_ms']:.1f} ms |")
    print()
    print(
        f"Big render: {results['args']['cells']} cells, {big['seconds']} s ({big['shown']}). "
        f"Median during / idle: {ratio:.2f}x; goal <= {GOAL:.0f}x: "
        f"{'met' if ratio <= GOAL else 'NOT met'}. Load average at start "
        f"{results['machine']['load_avg_at_start'][0]:.2f}. Saved to {out.relative_to(ROOT)}."
    )
    upload = results["upload_95000_cells"]
    print(
        f"The 95,000-cell upload ({upload['bytes'] / 1e6:.1f} MB) refused in "
        f"{upload['median_ms']:.0f} ms (median of {upload['n']}, max {upload['max_ms']:.0f} ms)."
    )


if __name__ == "__main__":
    main()
