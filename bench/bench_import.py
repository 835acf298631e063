"""A 100,000-row roster imported through the browser's pages on the embedded default (SQLite),
with engineers autosaving and submitting meanwhile — does the import block anyone?

Starts ``skillforge serve`` (gunicorn, its grading worker, SQLite) on the demo organisation,
then measures, over HTTP:

- **baseline**: autosaves from ``--savers`` engineers (each one every ``--every`` seconds) and a
  submission's time to graded, with nothing else running;
- **import**: the admin uploads a roster of ``--rows`` new people (the worker checks it and shows
  the preview), presses Import (the worker writes it), while the same autosaves and a
  submission go on; the upload-to-preview and go-to-done times are the import's.

Goals: the whole import (upload to done) under 60 s; no autosave fails during it, and their
p99 stays within 3 × the baseline's; the submission made during the import is graded.

    .venv/bin/python -m bench.bench_import [--rows 100000] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import click
import requests

from bench.bench_live import free_port, ms, p99

ROOT = Path(__file__).resolve().parent.parent
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "bench-password-0123456789"  # noqa: S105 - the bench's own engineers
WORKSHOP = "data-quality"


class Site:
    """``skillforge serve`` on a temporary SQLite database with the demo organisation."""

    def __init__(self, tmp: Path, savers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SKILLFORGE_DATABASE_URL": f"sqlite:///{tmp / 'skillforge.db'}",
            "SKILLFORGE_SECRET_KEY": secrets.token_hex(32),
            "SKILLFORGE_RENDER_CACHE_PATH": str(tmp / "render-cache"),
            "SKILLFORGE_QUEUE_URL": f"sqlite:///{tmp / 'queue.sqlite3'}",
            "SKILLFORGE_LIVE_KERNEL_HOSTS": "",
            "SKILLFORGE_BASE_URL": self.url,
        }
        self.emails = [f"saver{i}@bench.example" for i in range(savers)]
        self.log = tmp / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.notebook = ""

    def prepare(self) -> None:
        skillforge = str(Path(sys.executable).parent / "skillforge")
        subprocess.run(
            [skillforge, "demo"], env=self.env, cwd=ROOT, check=True, capture_output=True
        )
        saved = dict(os.environ)
        os.environ.update({**self.env, "SKILLFORGE_PASSWORD_HASH_PROFILE": "CHEAPEST"})
        try:
            from webapp import create_app
            from webapp.db import db
            from webapp.models import Notebook, Workshop
            from webapp.services.people import accounts

            app = create_app()
            with app.app_context():
                for email in self.emails:
                    accounts.create_user(
                        db.session,
                        email=email,
                        display_name=email.split("@")[0],
                        password=PASSWORD,
                        role="engineer",
                        actor=None,
                    )
                db.session.commit()
                notebook = db.session.scalars(
                    db.select(Notebook)
                    .join(Workshop)
                    .where(Workshop.slug == WORKSHOP)
                    .order_by(Notebook.position)
                ).first()
                assert notebook is not None
                self.notebook = f"/workshops/{WORKSHOP}/notebooks/{notebook.id}"
                db.engine.dispose()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def start(self) -> None:
        skillforge = str(Path(sys.executable).parent / "skillforge")
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                [skillforge, "serve", "--port", str(self.port), "--no-live"],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=out,
            )
        end = time.monotonic() + 180
        while time.monotonic() < end:
            try:
                if requests.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit(f"skillforge serve did not get ready; see {self.log}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()


def signed_in(site: Site, email: str, password: str, page: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    token = CSRF_RE.search(http.get(site.url + "/login", timeout=60).text)
    assert token
    done = http.post(
        site.url + "/login",
        data={"csrf_token": token[1], "email": email, "password": password},
        timeout=60,
    )
    assert done.ok and "/login" not in done.url, f"login failed for {email}"
    found = CSRF_RE.search(http.get(site.url + page, timeout=60).text)
    assert found, f"no CSRF token on {page}"
    return http, found[1]


class Savers:
    """Engineers autosaving their drafts on a clock, recording each save's latency."""

    def __init__(self, site: Site, every: float) -> None:
        self.site, self.every = site, every
        self.sessions = [signed_in(site, email, PASSWORD, site.notebook) for email in site.emails]
        self.times: list[tuple[float, float, bool]] = []  # (started, seconds, ok)
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def _loop(self, http: requests.Session, token: str, offset: float) -> None:
        time.sleep(offset)
        n = 0
        while not self.halt.is_set():
            n += 1
            started = time.monotonic()
            try:
                answer = http.post(
                    self.site.url + self.site.notebook + "/draft",
                    json={},
                    headers={"X-CSRFToken": token, "Accept": "application/json"},
                    timeout=60,
                )
                ok = answer.status_code == 200
            except requests.RequestException:
                ok = False
            with self.lock:
                self.times.append((started, time.monotonic() - started, ok))
            self.halt.wait(max(0.0, self.every - (time.monotonic() - started)))

    def start(self) -> None:
        for i, (http, token) in enumerate(self.sessions):
            thread = threading.Thread(
                target=self._loop, args=(http, token, i * self.every / len(self.sessions))
            )
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.halt.set()
        for thread in self.threads:
            thread.join()

    def between(self, start: float, end: float) -> dict[str, Any]:
        with self.lock:
            window = [(s, ok) for t, s, ok in self.times if start <= t <= end]
        seconds = [s for s, ok in window if ok]
        return {
            "saves": len(window),
            "failed": sum(not ok for _, ok in window),
            "median_ms": ms(statistics.median(seconds)) if seconds else None,
            "p99_ms": ms(p99(seconds)) if seconds else None,
        }


def graded_in(site: Site, http: requests.Session, token: str) -> float:
    """Submit the notebook (its stubs) and wait for the grade; seconds from submit to graded."""
    started = time.monotonic()
    answer = http.post(
        site.url + site.notebook + "/submit",
        data={"csrf_token": token, "answers": "{}", "mode": "final"},
        timeout=60,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.status_code
    status_url = site.url + answer.headers["Location"] + "/status.json"
    while time.monotonic() - started < 300:
        state = http.get(status_url, timeout=60).json().get("status")
        if state in ("graded", "error"):
            return time.monotonic() - started
        time.sleep(0.25)
    raise SystemExit("the submission was not graded within 5 minutes")


def roster_file(rows: int) -> bytes:
    lines = ["email,name,team,role"]
    lines += [
        f"new{i:06d}@bench.example,New Person {i},Team {i % 400},engineer" for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def run_status(http: requests.Session, url: str) -> str:
    found = re.search(
        r'data-testid="import-status" data-status="([a-z]+)"', http.get(url, timeout=60).text
    )
    return found[1] if found else "?"


def wait_for(http: requests.Session, url: str, wanted: set[str], timeout: float = 600) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = run_status(http, url)
        if state in wanted:
            return state
        time.sleep(0.2)
    raise SystemExit(f"the import did not reach {wanted} within {timeout:.0f} s")


def the_import(site: Site, rows: int) -> dict[str, Any]:
    from webapp.seed.demo import DEMO_PASSWORD, email_for

    admin, _ = signed_in(site, email_for("Ada Admin"), DEMO_PASSWORD, "/admin/users/import")
    token = CSRF_RE.search(admin.get(site.url + "/admin/users/import", timeout=60).text)
    assert token
    data = roster_file(rows)
    started = time.monotonic()
    answer = admin.post(
        site.url + "/admin/users/import",
        data={"csrf_token": token[1]},
        files={"roster": ("roster.csv", data, "text/csv")},
        timeout=120,
        allow_redirects=False,
    )
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    uploaded = time.monotonic()
    url = site.url + answer.headers["Location"]
    state = wait_for(admin, url, {"ready", "refused", "failed"})
    assert state == "ready", f"the check ended {state}"
    previewed = time.monotonic()
    token = CSRF_RE.search(admin.get(url, timeout=60).text)
    assert token
    go = admin.post(
        url + "/confirm", data={"csrf_token": token[1]}, timeout=60, allow_redirects=False
    )
    assert go.status_code == 302
    confirmed = time.monotonic()
    state = wait_for(admin, url, {"done", "refused", "failed"})
    assert state == "done", f"the import ended {state}"
    done = time.monotonic()
    return {
        "rows": rows,
        "megabytes": round(len(data) / 1e6, 1),
        "upload_s": round(uploaded - started, 2),
        "check_s": round(previewed - uploaded, 2),
        "write_s": round(done - confirmed, 2),
        "total_s": round(done - started - (confirmed - previewed), 2),
        "window": (started, done),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--savers", type=int, default=10)
    parser.add_argument("--every", type=float, default=1.5, help="seconds between one's saves")
    parser.add_argument("--baseline", type=float, default=20.0, help="seconds of baseline")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        site = Site(Path(tmp), args.savers)
        click.echo("Building the demo organisation…")
        site.prepare()
        site.start()
        try:
            savers = Savers(site, args.every)
            submitter, token = savers.sessions[0]
            savers.start()
            base_start = time.monotonic()
            base_grade = graded_in(site, submitter, token)
            time.sleep(max(0.0, args.baseline - (time.monotonic() - base_start)))
            base_end = time.monotonic()
            graded: list[float] = []
            grader = threading.Thread(
                target=lambda: graded.append(graded_in(site, submitter, token))
            )
            click.echo(f"Importing {args.rows:,} rows…")
            grader.start()
            result = the_import(site, args.rows)
            grader.join()
            savers.stop()
        finally:
            site.stop()
    start, end = result.pop("window")
    results = {
        "import": result,
        "autosave_baseline": savers.between(base_start, base_end),
        "autosave_during_import": savers.between(start, end),
        "graded_baseline_s": round(base_grade, 2),
        "graded_during_import_s": round(graded[0], 2) if graded else None,
    }
    base, during = results["autosave_baseline"], results["autosave_during_import"]
    goals = [
        ("whole import under 60 s", result["total_s"] < 60),
        ("no autosave fails during the import", during["failed"] == 0),
        (
            "autosave p99 during the import ≤ 3 × baseline",
            bool(base["p99_ms"] and during["p99_ms"] and during["p99_ms"] <= 3 * base["p99_ms"]),
        ),
        (
            "a submission made during the import is graded",
            results["graded_during_import_s"] is not None,
        ),
    ]
    results["goals"] = {name: met for name, met in goals}
    click.echo(json.dumps(results, indent=2))
    click.echo("\n| measure | baseline | during the import |\n|---|---|---|")
    rows = [
        ("autosaves (failed)", "{saves} ({failed})"),
        ("autosave median / p99", "{median_ms} / {p99_ms} ms"),
    ]
    for label, cell in rows:
        click.echo(f"| {label} | {cell.format(**base)} | {cell.format(**during)} |")
    click.echo(
        f"| submission to graded | {results['graded_baseline_s']} s "
        f"| {results['graded_during_import_s']} s |"
    )
    for name, met in goals:
        click.echo(f"- {'met' if met else 'NOT met'}: {name}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
