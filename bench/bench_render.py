"""Notebook rendering speed: cold renders against `jupyter nbconvert`, cached pages against static.

    .venv/bin/python bench/bench_render.py [--runs 200] [--notebooks 6]

Prints a markdown table. Two comparisons, each measured in the same run:

1. cold render of a course notebook's student version (`render_notebook_html`: nbconvert's basic
   template + nh3), first in a fresh exporter and then with the exporter warm (a running server),
   against `jupyter nbconvert --to html` of the same file (a process per render);
2. the median latency of the cached notebook page (logged in, through the whole Flask stack, on a
   temporary SQLite database synced from courses/) against a static file served by the same app.
   Goal: the cached notebook page within 2x of the static file.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp import create_app  # noqa: E402
from webapp.db import db  # noqa: E402
from webapp.models import Notebook, Role, User, Workshop  # noqa: E402
from webapp.services.catalog import rendering  # noqa: E402
from webapp.services.catalog.source import load_catalog  # noqa: E402
from webapp.services.catalog.sync import sync_catalog  # noqa: E402
from webapp.services.people import passwords  # noqa: E402

NBCONVERT = ROOT / ".venv" / "bin" / "jupyter-nbconvert"
PASSWORD = "bench-password-123"  # noqa: S105 (a throwaway account in a temporary database)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cold_renders(count: int, workdir: Path) -> list[tuple[str, float, float, float]]:
    """(notebook, fresh exporter s, warm exporter s, jupyter nbconvert s) per notebook."""
    source, problems = load_catalog(ROOT / "courses")
    if source is None:
        raise SystemExit("courses/ does not validate:\n" + "\n".join(problems))
    notebooks = [nb for c in source.courses for nb in c.notebooks][:count]
    rows = []
    for index, nb in enumerate(notebooks):
        rendering._exporter.cache_clear()  # a fresh exporter: templates load again
        fresh = timed(lambda nb=nb: rendering.render_notebook_html(nb.student))
        warm = timed(lambda nb=nb: rendering.render_notebook_html(nb.student))
        path = workdir / f"student-{index}.ipynb"
        path.write_text(nbformat.writes(nb.student))
        command = [str(NBCONVERT), "--to", "html", "--output-dir", str(workdir), str(path)]
        cli = timed(
            lambda command=command: subprocess.run(command, check=True, capture_output=True)
        )
        rows.append((nb.filename, fresh, warm, cli))
    return rows


def page_latencies(runs: int, workdir: Path) -> tuple[list[float], list[float], list[float], int]:
    """Latencies of the cached notebook page, /static/app.css and a logged-in form page; size."""
    passwords.use_profile("CHEAPEST")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_PROFILE": "CHEAPEST",
            "RENDER_CACHE_PATH": str(workdir / "render-cache"),
        }
    )
    with app.app_context():
        db.create_all()
        assert sync_catalog(db.session, ROOT / "courses", actor=None).ok
        hashed = passwords.hash_password(PASSWORD)
        db.session.add(
            User(email="b@example.com", display_name="B", password_hash=hashed, role=Role.ENGINEER)
        )
        db.session.commit()
        slug, notebook_id = db.session.execute(
            db.select(Workshop.slug, Notebook.id).join(Notebook).limit(1)
        ).one()
    client = app.test_client()
    client.post("/login", data={"email": "b@example.com", "password": PASSWORD})
    page_url = f"/workshops/{slug}/notebooks/{notebook_id}"
    size = len(client.get(page_url).data)  # the first view renders and caches
    static_url, floor_url = "/static/app.css", "/account/password"
    for url in (page_url, static_url, floor_url):
        for _ in range(20):  # warm up
            client.get(url)
    page, static, floor = [], [], []
    for _ in range(runs):  # interleaved, so all see the same machine state
        page.append(timed(lambda: client.get(page_url)))
        static.append(timed(lambda: client.get(static_url)))
        floor.append(timed(lambda: client.get(floor_url)))
    return page, static, floor, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--notebooks", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        workdir = Path(tmp)
        rows = cold_renders(args.notebooks, workdir)
        page, static, floor, size = page_latencies(args.runs, workdir)
    print("| notebook | render, fresh exporter | render, warm exporter | jupyter nbconvert |")
    print("|---|---|---|---|")
    for name, fresh, warm, cli in rows:
        print(f"| {name} | {fresh * 1000:.0f} ms | {warm * 1000:.0f} ms | {cli * 1000:.0f} ms |")
    med = [statistics.median(col) for col in zip(*[r[1:] for r in rows], strict=True)]
    print(
        f"| **median** | {med[0] * 1000:.0f} ms | {med[1] * 1000:.0f} ms | {med[2] * 1000:.0f} ms |"
    )
    print()
    p_med, s_med = statistics.median(page), statistics.median(static)
    p95 = sorted(page)[int(len(page) * 0.95)]
    s95 = sorted(static)[int(len(static) * 0.95)]
    print(f"| request ({args.runs} runs) | median | p95 |")
    print("|---|---|---|")
    print(
        f"| cached notebook page ({size // 1024} KiB) "
        f"| {p_med * 1000:.2f} ms | {p95 * 1000:.2f} ms |"
    )
    print(f"| static file /static/app.css | {s_med * 1000:.2f} ms | {s95 * 1000:.2f} ms |")
    f_med, f95 = statistics.median(floor), sorted(floor)[int(len(floor) * 0.95)]
    print(
        f"| logged-in form page /account/password | {f_med * 1000:.2f} ms | {f95 * 1000:.2f} ms |"
    )
    print(f"| ratio notebook page / static file | {p_med / s_med:.2f}x | {p95 / s95:.2f}x |")


if __name__ == "__main__":
    main()
